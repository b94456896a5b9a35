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

-- A hold-out is a new reason to skip someone.
ALTER TABLE skipped_deliveries DROP CONSTRAINT skipped_deliveries_reason_check;
ALTER TABLE skipped_deliveries ADD CONSTRAINT skipped_deliveries_reason_check
    CHECK (reason IN ('capped', 'held_out'));
