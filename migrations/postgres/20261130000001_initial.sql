-- Tidings schema, PostgreSQL dialect: the same tables as migrations/sqlite/ after all its
-- steps. Timestamps are Unix seconds (UTC) in BIGINT, as in SQLite, so both dialects share
-- one set of Rust types; every integer is BIGINT for the same reason.

-- Topic names are unique regardless of case (SQLite: COLLATE NOCASE). A nondeterministic
-- collation keeps that in the unique constraint itself, so `ON CONFLICT (name)` works.
CREATE COLLATION IF NOT EXISTS tidings_nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE subscriptions (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    endpoint        TEXT   NOT NULL UNIQUE CHECK (length(endpoint) <= 2048),
    -- The endpoint's host, for the subscriber list's filter.
    host            TEXT   NOT NULL DEFAULT '',
    p256dh          TEXT   NOT NULL,   -- base64url, as the browser gave it
    auth            TEXT   NOT NULL,   -- base64url, as the browser gave it
    user_agent      TEXT,
    created_at      BIGINT NOT NULL,
    last_success_at BIGINT
);
CREATE INDEX subscriptions_by_host ON subscriptions (host, id);
CREATE INDEX subscriptions_by_created ON subscriptions (created_at, id);

CREATE TABLE admins (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      TEXT   NOT NULL UNIQUE,
    password_hash TEXT   NOT NULL,   -- argon2id PHC string
    created_at    BIGINT NOT NULL,
    -- IANA name; times are shown to this admin in it.
    time_zone     TEXT   NOT NULL DEFAULT 'UTC'
);

CREATE TABLE campaigns (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title       TEXT   NOT NULL,
    body        TEXT   NOT NULL DEFAULT '',
    url         TEXT,
    icon        TEXT,
    image       TEXT,
    badge       TEXT,
    actions     TEXT   NOT NULL DEFAULT '[]',
    require_interaction BOOLEAN NOT NULL DEFAULT FALSE,
    topic       TEXT,
    ttl_secs    BIGINT NOT NULL,
    urgency     TEXT   NOT NULL CHECK (urgency IN ('very-low', 'low', 'normal', 'high')),
    -- draft → (scheduled →) queued → sending → sent | cancelled | failed
    status      TEXT   NOT NULL CHECK (status IN ('draft', 'scheduled', 'queued', 'sending', 'sent', 'cancelled', 'failed')),
    created_by  BIGINT REFERENCES admins(id),
    created_at  BIGINT NOT NULL,
    -- When a scheduled campaign starts; its deliveries are created then.
    scheduled_at BIGINT,
    started_at  BIGINT,
    finished_at BIGINT,
    -- A problem the admin must see, e.g. push services rejecting our VAPID signature.
    error       TEXT,
    CHECK (status <> 'scheduled' OR scheduled_at IS NOT NULL)
);
CREATE INDEX campaigns_by_status ON campaigns (status, id);
CREATE INDEX campaigns_due ON campaigns (scheduled_at) WHERE status = 'scheduled';

-- Several instances share this database; each announces itself while it runs (see
-- deliveries.claimed_by).
CREATE TABLE instances (
    id           TEXT   PRIMARY KEY,
    started_at   BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL   -- Unix milliseconds
);

CREATE TABLE deliveries (
    campaign_id      BIGINT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    subscription_id  BIGINT NOT NULL,
    status           TEXT   NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'expired', 'failed')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL DEFAULT 0,   -- Unix milliseconds
    last_status_code BIGINT,
    last_error       TEXT,
    sent_at          BIGINT,
    -- The instance that claimed it last: while 'sending', the one sending it.
    claimed_by       TEXT,
    PRIMARY KEY (campaign_id, subscription_id)
);
CREATE INDEX deliveries_due ON deliveries (campaign_id, status, next_attempt_at);
CREATE INDEX deliveries_by_subscription ON deliveries (subscription_id, status);
CREATE INDEX deliveries_in_flight ON deliveries (claimed_by) WHERE status = 'sending';

CREATE TABLE notification_events (
    campaign_id     BIGINT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    subscription_id BIGINT NOT NULL,
    kind            TEXT   NOT NULL CHECK (kind IN ('click', 'close')),
    -- The action button clicked, if any (its index in the campaign's actions).
    action          TEXT,
    at              BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, subscription_id, kind)
);

CREATE TABLE topics (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT COLLATE tidings_nocase NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 40),
    created_at  BIGINT NOT NULL,
    -- Archived topics are no longer offered or targeted; past campaigns keep naming them.
    archived_at BIGINT
);

CREATE TABLE subscription_topics (
    subscription_id BIGINT NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
    topic_id        BIGINT NOT NULL REFERENCES topics(id),
    PRIMARY KEY (subscription_id, topic_id)
);
CREATE INDEX subscription_topics_by_topic ON subscription_topics (topic_id, subscription_id);

CREATE TABLE campaign_topics (
    campaign_id BIGINT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    topic_id    BIGINT NOT NULL REFERENCES topics(id),
    PRIMARY KEY (campaign_id, topic_id)
);

-- Failed sign-ins per user name and per address, shared by every instance, so the limit on
-- password guessing holds however many instances a load balancer spreads attempts over.
CREATE TABLE sign_in_failures (
    key        TEXT   PRIMARY KEY,   -- "user:<name>" or "ip:<address>"
    failures   BIGINT NOT NULL,
    started_at BIGINT NOT NULL       -- Unix milliseconds: the window's start
);
CREATE INDEX sign_in_failures_by_start ON sign_in_failures (started_at);

-- Subscribers gained and lost per hour (Unix seconds / 3600), kept by triggers so the
-- dashboard's growth chart never scans the subscriptions.
CREATE TABLE subscriber_hours (
    hour   BIGINT PRIMARY KEY,
    joined BIGINT NOT NULL DEFAULT 0,
    lost   BIGINT NOT NULL DEFAULT 0
);

CREATE FUNCTION count_subscription_joined() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO subscriber_hours (hour, joined) VALUES (NEW.created_at / 3600, 1)
    ON CONFLICT (hour) DO UPDATE SET joined = subscriber_hours.joined + 1;
    RETURN NULL;
END $$;
CREATE TRIGGER subscription_joined AFTER INSERT ON subscriptions
    FOR EACH ROW EXECUTE FUNCTION count_subscription_joined();

CREATE FUNCTION count_subscription_lost() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO subscriber_hours (hour, lost) VALUES (floor(extract(epoch FROM now()))::bigint / 3600, 1)
    ON CONFLICT (hour) DO UPDATE SET lost = subscriber_hours.lost + 1;
    RETURN NULL;
END $$;
CREATE TRIGGER subscription_lost AFTER DELETE ON subscriptions
    FOR EACH ROW EXECUTE FUNCTION count_subscription_lost();
