-- Tidings schema, SQLite dialect. Timestamps are Unix seconds (UTC).

-- Small key/value store, e.g. the VAPID key pair generated on first start.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TABLE subscriptions (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint        TEXT    NOT NULL UNIQUE CHECK (length(endpoint) <= 2048),
    p256dh          TEXT    NOT NULL,   -- base64url, as the browser gave it
    auth            TEXT    NOT NULL,   -- base64url, as the browser gave it
    user_agent      TEXT,
    created_at      INTEGER NOT NULL,
    last_success_at INTEGER
);

CREATE TABLE admins (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,   -- argon2id PHC string
    created_at    INTEGER NOT NULL
);

CREATE TABLE campaigns (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    title       TEXT    NOT NULL,
    body        TEXT    NOT NULL DEFAULT '',
    url         TEXT,
    icon        TEXT,
    ttl_secs    INTEGER NOT NULL,
    urgency     TEXT    NOT NULL CHECK (urgency IN ('very-low', 'low', 'normal', 'high')),
    status      TEXT    NOT NULL CHECK (status IN ('draft', 'queued', 'sending', 'sent', 'cancelled', 'failed')),
    created_by  INTEGER REFERENCES admins(id),
    created_at  INTEGER NOT NULL,
    started_at  INTEGER,
    finished_at INTEGER,
    -- A problem the admin must see, e.g. push services rejecting our VAPID signature.
    error       TEXT
);
CREATE INDEX campaigns_by_status ON campaigns (status, id);

-- One row per (campaign, recipient). subscription_id deliberately has no foreign key:
-- an expired subscription is deleted, but its delivery row stays to be counted.
-- status: pending → sending → sent | expired | failed; a retry goes back to pending with a
-- later next_attempt_at.
CREATE TABLE deliveries (
    campaign_id      INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    subscription_id  INTEGER NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'expired', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL DEFAULT 0,   -- Unix milliseconds
    last_status_code INTEGER,
    last_error       TEXT,
    sent_at          INTEGER,
    PRIMARY KEY (campaign_id, subscription_id)
) WITHOUT ROWID;
CREATE INDEX deliveries_due ON deliveries (campaign_id, status, next_attempt_at);
-- Deleting a subscription (expired, unsubscribed) drops its pending deliveries in every
-- campaign; without this index that is a scan of the whole table each time.
CREATE INDEX deliveries_by_subscription ON deliveries (subscription_id, status);
