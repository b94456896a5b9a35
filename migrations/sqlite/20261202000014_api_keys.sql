-- Keys for the REST API (/api/v1). Only a SHA-256 of each token is kept: the token is
-- shown once, when the key is made. `scopes` and `site_ids` are comma-separated lists
-- (site_ids NULL: every site).
CREATE TABLE api_keys (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT    NOT NULL,
    token_hash     TEXT    NOT NULL UNIQUE,
    token_hint     TEXT    NOT NULL,      -- the token's first characters, to tell keys apart
    scopes         TEXT    NOT NULL,
    site_ids       TEXT,
    created_by     INTEGER REFERENCES admins(id) ON DELETE SET NULL,
    created_at     INTEGER NOT NULL,      -- Unix seconds
    revoked_at     INTEGER,
    last_used_at   INTEGER,
    last_used_from TEXT
);

-- Answers to POST requests sent with an Idempotency-Key, kept 24 hours: the same key and
-- body again get the first answer; the same key with another body is refused. A row
-- without a status is a request still being answered.
CREATE TABLE idempotency_keys (
    api_key_id   INTEGER NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
    key          TEXT    NOT NULL,
    request_hash TEXT    NOT NULL,
    status       INTEGER,
    body         TEXT,
    created_at   INTEGER NOT NULL,        -- Unix seconds
    PRIMARY KEY (api_key_id, key)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);

-- Campaigns made through the API name their key; a transactional message (one
-- notification to chosen subscriptions, sent at once) is a campaign of kind 'message'.
ALTER TABLE campaigns ADD COLUMN api_key_id INTEGER REFERENCES api_keys(id);
ALTER TABLE campaigns ADD COLUMN kind TEXT NOT NULL DEFAULT 'campaign' CHECK (kind IN ('campaign', 'message'));
