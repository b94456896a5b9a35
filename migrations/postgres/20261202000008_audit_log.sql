-- Who changed what, when and from where: every change by an admin or an API key, and
-- every sign-in attempt. Append-only: the trigger refuses any change to a row, so the app
-- (or anything reaching the database through it) cannot rewrite history.
CREATE TABLE audit_log (
    id       BIGSERIAL PRIMARY KEY,
    at       BIGINT NOT NULL,       -- Unix seconds
    actor    TEXT   NOT NULL,       -- "admin alice", "key 3 (Shop backend)", "someone"
    address  TEXT,
    action   TEXT   NOT NULL,       -- "campaign.send", "sign_in.failed", …
    target   TEXT   NOT NULL,
    before   TEXT,                  -- JSON
    after    TEXT                   -- JSON
);
CREATE INDEX audit_log_by_action ON audit_log (action, id);
CREATE FUNCTION audit_log_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'the audit log cannot be changed'; END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_refuse();
