-- A/B tests. Variant A is the campaign's own content; `variants` holds B, C and D as a
-- JSON list ([] for no test), `ab_test` how the test runs (JSON, NULL for no test).
ALTER TABLE campaigns ADD COLUMN variants TEXT NOT NULL DEFAULT '[]';
ALTER TABLE campaigns ADD COLUMN ab_test TEXT;
-- Which variant won (0 = A), once picked: the rest of the audience waits for it. The pick
-- is due `wait_minutes` after the campaign started (`started_at`).
ALTER TABLE campaigns ADD COLUMN ab_winner INTEGER;

-- Which variant a delivery carries: 0 = A; -1 = waits for the winner (then held back with
-- `next_attempt_at` at its largest value until the winner is released to it).
ALTER TABLE deliveries ADD COLUMN variant INTEGER NOT NULL DEFAULT 0;

-- A hold-out is a new reason to skip someone. SQLite cannot change a CHECK in place.
CREATE TABLE skipped_deliveries_new (
    campaign_id     INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    subscription_id INTEGER NOT NULL,
    reason          TEXT    NOT NULL CHECK (reason IN ('capped', 'held_out')),
    PRIMARY KEY (campaign_id, subscription_id)
) WITHOUT ROWID;
INSERT INTO skipped_deliveries_new SELECT campaign_id, subscription_id, reason FROM skipped_deliveries;
DROP TABLE skipped_deliveries;
ALTER TABLE skipped_deliveries_new RENAME TO skipped_deliveries;
CREATE INDEX skipped_deliveries_by_subscription ON skipped_deliveries (subscription_id);
