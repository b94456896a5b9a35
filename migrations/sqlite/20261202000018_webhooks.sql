-- Webhooks: endpoints an owner registered, and the queue of what is to be posted to them.
-- The queue lives here (not in memory) so it survives restarts and is shared by instances.
CREATE TABLE webhooks (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    url             TEXT    NOT NULL CHECK (length(url) <= 2048),
    -- The events it receives, comma-separated ("subscription.created,campaign.finished").
    events          TEXT    NOT NULL,
    -- Only events of this site; NULL: every site.
    site_id         INTEGER REFERENCES sites(id) ON DELETE CASCADE,
    -- "whsec_" and the base64 of the HMAC key (Standard Webhooks).
    secret          TEXT    NOT NULL,
    created_by      INTEGER REFERENCES admins(id) ON DELETE SET NULL,
    created_at      INTEGER NOT NULL,
    -- Since when every attempt failed (NULL after a success).
    failing_since   INTEGER,
    disabled_at     INTEGER,
    disabled_reason TEXT
);

CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id      INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    -- The `webhook-id` header: the same on every attempt, so receivers can drop repeats.
    message_id      TEXT    NOT NULL,
    event           TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    -- An instance posting it holds it until then (Unix ms); 0: nobody.
    claimed_until   INTEGER NOT NULL DEFAULT 0,
    last_status     INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    delivered_at    INTEGER
);

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, id);
