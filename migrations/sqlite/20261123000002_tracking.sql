-- What recipients did with a campaign's notification, reported by the service worker.
-- One row per (campaign, recipient, kind): a report counts at most once per delivery.
CREATE TABLE notification_events (
    campaign_id     INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    subscription_id INTEGER NOT NULL,
    kind            TEXT    NOT NULL CHECK (kind IN ('click', 'close')),
    -- The action button clicked, if any (its index in the campaign's actions).
    action          TEXT,
    at              INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, subscription_id, kind)
) WITHOUT ROWID;
