-- Webhooks: endpoints an owner registered, and the queue of what is to be posted to them.
-- The queue lives here (not in memory) so it survives restarts and is shared by instances.
CREATE TABLE webhooks (
    id              BIGSERIAL PRIMARY KEY,
    url             TEXT    NOT NULL CHECK (length(url) <= 2048),
    -- The events it receives, comma-separated ("subscription.created,campaign.finished").
    events          TEXT    NOT NULL,
    -- Only events of this site; NULL: every site.
    site_id         BIGINT  REFERENCES sites(id) ON DELETE CASCADE,
    -- "whsec_" and the base64 of the HMAC key (Standard Webhooks).
    secret          TEXT    NOT NULL,
    created_by      BIGINT  REFERENCES admins(id) ON DELETE SET NULL,
    created_at      BIGINT  NOT NULL,
    -- Since when every attempt failed (NULL after a success).
    failing_since   BIGINT,
    disabled_at     BIGINT,
    disabled_reason TEXT
);

CREATE TABLE webhook_deliveries (
    id              BIGSERIAL PRIMARY KEY,
    webhook_id      BIGINT  NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    -- The `webhook-id` header: the same on every attempt, so receivers can drop repeats.
    message_id      TEXT    NOT NULL,
    event           TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        BIGINT  NOT NULL DEFAULT 0,
    next_attempt_at BIGINT  NOT NULL DEFAULT 0,
    -- An instance posting it holds it until then (Unix ms); 0: nobody.
    claimed_until   BIGINT  NOT NULL DEFAULT 0,
    last_status     BIGINT,
    last_error      TEXT,
    created_at      BIGINT  NOT NULL,
    delivered_at    BIGINT
);

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, id);
