-- What the dashboard shows about each running instance: where it runs and which build.
ALTER TABLE instances ADD COLUMN host TEXT NOT NULL DEFAULT '';
ALTER TABLE instances ADD COLUMN version TEXT NOT NULL DEFAULT '';

-- The latest delivery errors, for the dashboard: the same error in one batch of outcomes
-- is one row with a count. Only the newest few hundred rows are kept.
CREATE TABLE delivery_errors (
    id           BIGSERIAL PRIMARY KEY,
    at           BIGINT  NOT NULL,              -- Unix milliseconds
    instance_id  TEXT    NOT NULL,
    campaign_id  BIGINT  NOT NULL,
    status_code  INTEGER,
    error        TEXT    NOT NULL,
    count        BIGINT  NOT NULL
);
