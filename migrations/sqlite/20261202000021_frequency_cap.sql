-- A site's frequency cap: at most this many campaign pushes per subscriber in any 24 hours
-- and in any 7 days (NULL: no cap). Transactional API messages neither count nor are capped.
ALTER TABLE sites ADD COLUMN cap_per_day INTEGER CHECK (cap_per_day BETWEEN 1 AND 100);
ALTER TABLE sites ADD COLUMN cap_per_week INTEGER CHECK (cap_per_week BETWEEN 1 AND 500);

-- When a campaign's audience was taken (Unix seconds): the time its pushes count from for
-- the cap. Campaigns from before this column count from when they started.
ALTER TABLE campaigns ADD COLUMN queued_at INTEGER;
UPDATE campaigns SET queued_at = COALESCE(started_at, scheduled_at, created_at)
    WHERE status IN ('queued', 'sending', 'sent', 'failed', 'cancelled');
CREATE INDEX campaigns_by_queued_at ON campaigns (queued_at) WHERE queued_at IS NOT NULL;

-- Subscribers in a campaign's audience who were deliberately not sent to, and why. They
-- never enter `deliveries`, so the dispatcher's queue holds only what it has to send.
CREATE TABLE skipped_deliveries (
    campaign_id     INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    subscription_id INTEGER NOT NULL,
    reason          TEXT    NOT NULL CHECK (reason IN ('capped')),
    PRIMARY KEY (campaign_id, subscription_id)
) WITHOUT ROWID;
CREATE INDEX skipped_deliveries_by_subscription ON skipped_deliveries (subscription_id);
