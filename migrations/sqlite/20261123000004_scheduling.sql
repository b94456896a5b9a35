-- Scheduling and drafts, admins' time zones, and per-hour subscriber joins and losses.
--
-- SQLite cannot change a CHECK constraint in place, so `campaigns` is rebuilt
-- (https://sqlite.org/lang_altertable.html#otheralter). Foreign keys cannot be switched
-- off inside the migration's transaction, and dropping the old table would cascade to
-- every delivery, so the two tables that refer to it are rebuilt with it: copies first,
-- then the old tables dropped children-first, then the copies renamed (renaming
-- `campaigns_new` also rewrites the copies' references to it).

CREATE TABLE campaigns_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    title       TEXT    NOT NULL,
    body        TEXT    NOT NULL DEFAULT '',
    url         TEXT,
    icon        TEXT,
    ttl_secs    INTEGER NOT NULL,
    urgency     TEXT    NOT NULL CHECK (urgency IN ('very-low', 'low', 'normal', 'high')),
    -- draft → (scheduled →) queued → sending → sent | cancelled | failed
    status      TEXT    NOT NULL CHECK (status IN ('draft', 'scheduled', 'queued', 'sending', 'sent', 'cancelled', 'failed')),
    created_by  INTEGER REFERENCES admins(id),
    created_at  INTEGER NOT NULL,
    started_at  INTEGER,
    finished_at INTEGER,
    error       TEXT,
    image       TEXT,
    badge       TEXT,
    actions     TEXT    NOT NULL DEFAULT '[]',
    require_interaction INTEGER NOT NULL DEFAULT 0,
    topic       TEXT,
    -- When a scheduled campaign starts (Unix seconds, UTC). Its deliveries are created
    -- then, so it reaches whoever is subscribed at that moment.
    scheduled_at INTEGER,
    CHECK (status <> 'scheduled' OR scheduled_at IS NOT NULL)
);
INSERT INTO campaigns_new (id, title, body, url, icon, ttl_secs, urgency, status, created_by, created_at,
                           started_at, finished_at, error, image, badge, actions, require_interaction, topic)
SELECT id, title, body, url, icon, ttl_secs, urgency, status, created_by, created_at,
       started_at, finished_at, error, image, badge, actions, require_interaction, topic
FROM campaigns;
CREATE TABLE deliveries_new (
    campaign_id      INTEGER NOT NULL REFERENCES campaigns_new(id) ON DELETE CASCADE,
    subscription_id  INTEGER NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'expired', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL DEFAULT 0,
    last_status_code INTEGER,
    last_error       TEXT,
    sent_at          INTEGER,
    PRIMARY KEY (campaign_id, subscription_id)
) WITHOUT ROWID;
INSERT INTO deliveries_new SELECT campaign_id, subscription_id, status, attempts, next_attempt_at,
                                  last_status_code, last_error, sent_at FROM deliveries;
CREATE TABLE notification_events_new (
    campaign_id     INTEGER NOT NULL REFERENCES campaigns_new(id) ON DELETE CASCADE,
    subscription_id INTEGER NOT NULL,
    kind            TEXT    NOT NULL CHECK (kind IN ('click', 'close')),
    action          TEXT,
    at              INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, subscription_id, kind)
) WITHOUT ROWID;
INSERT INTO notification_events_new SELECT campaign_id, subscription_id, kind, action, at FROM notification_events;

DROP TABLE notification_events;
DROP TABLE deliveries;
DROP TABLE campaigns;
ALTER TABLE campaigns_new RENAME TO campaigns;
ALTER TABLE deliveries_new RENAME TO deliveries;
ALTER TABLE notification_events_new RENAME TO notification_events;
CREATE INDEX campaigns_by_status ON campaigns (status, id);
CREATE INDEX deliveries_due ON deliveries (campaign_id, status, next_attempt_at);
CREATE INDEX deliveries_by_subscription ON deliveries (subscription_id, status);
CREATE INDEX campaigns_due ON campaigns (scheduled_at) WHERE status = 'scheduled';

-- An IANA name such as 'Europe/Berlin', taken from the admin's browser at sign-in:
-- times are shown and entered in it.
ALTER TABLE admins ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';

-- Subscribers gained and lost per hour (hour = Unix seconds / 3600), for the dashboard.
-- Kept by triggers, so every way a subscription comes or goes is counted, and losses
-- stay countable after the row is deleted. Hours, not days, so the dashboard can group
-- them into days of the admin's own time zone.
CREATE TABLE subscriber_hours (
    hour   INTEGER PRIMARY KEY,
    joined INTEGER NOT NULL DEFAULT 0,
    lost   INTEGER NOT NULL DEFAULT 0
);
INSERT INTO subscriber_hours (hour, joined)
SELECT created_at / 3600, COUNT(*) FROM subscriptions GROUP BY created_at / 3600;
CREATE TRIGGER subscription_joined AFTER INSERT ON subscriptions BEGIN
    INSERT INTO subscriber_hours (hour, joined) VALUES (NEW.created_at / 3600, 1)
    ON CONFLICT (hour) DO UPDATE SET joined = joined + 1;
END;
CREATE TRIGGER subscription_lost AFTER DELETE ON subscriptions BEGIN
    INSERT INTO subscriber_hours (hour, lost) VALUES (unixepoch() / 3600, 1)
    ON CONFLICT (hour) DO UPDATE SET lost = lost + 1;
END;
