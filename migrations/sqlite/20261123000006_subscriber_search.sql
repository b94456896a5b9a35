-- Admins list and search subscribers by push-service host, topic and date, at a million rows.
ALTER TABLE subscriptions ADD COLUMN host TEXT NOT NULL DEFAULT '';
-- The endpoint's host: between "://" and the next "/" or ":".
UPDATE subscriptions SET host = (
    WITH rest(r) AS (SELECT substr(endpoint, instr(endpoint, '://') + 3))
    SELECT CASE
        WHEN instr(r, ':') > 0 AND (instr(r, '/') = 0 OR instr(r, ':') < instr(r, '/')) THEN substr(r, 1, instr(r, ':') - 1)
        WHEN instr(r, '/') > 0 THEN substr(r, 1, instr(r, '/') - 1)
        ELSE r END
    FROM rest);
-- Pages run newest first by id: a filter by host or join date walks these indexes.
CREATE INDEX subscriptions_by_host ON subscriptions (host, id);
CREATE INDEX subscriptions_by_created ON subscriptions (created_at, id);
