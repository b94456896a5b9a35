-- Several VAPID key pairs: brought from another tool, or new ones to rotate to. Every
-- subscription is bound to the key its browser subscribed with.
CREATE TABLE vapid_keys (
    id          INTEGER PRIMARY KEY,
    label       TEXT    NOT NULL CHECK (length(label) BETWEEN 1 AND 60),
    private_key TEXT    NOT NULL UNIQUE,   -- the 32-byte scalar, base64url
    -- The uncompressed public key, base64url (filled in at start for the migrated key).
    public_key  TEXT    NOT NULL,
    -- current: new subscriptions use it (exactly one); signing: older subscriptions still
    -- use it; retired: no longer used for anything.
    state       TEXT    NOT NULL CHECK (state IN ('current', 'signing', 'retired')),
    created_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX vapid_keys_one_current ON vapid_keys (state) WHERE state = 'current';

-- The key every existing subscription was made with: the one in settings.
INSERT INTO vapid_keys (id, label, private_key, public_key, state, created_at)
SELECT 1, 'First key', value, '', 'current', CAST(strftime('%s', 'now') AS INTEGER)
FROM settings WHERE key = 'vapid_private_key';

ALTER TABLE subscriptions ADD COLUMN key_id INTEGER NOT NULL DEFAULT 1;
CREATE INDEX subscriptions_by_key ON subscriptions (key_id);
