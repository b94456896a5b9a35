-- Automations: a welcome notification some minutes after someone subscribes, and a
-- campaign that repeats every day or week at a time of day.
CREATE TABLE automations (
    id            BIGSERIAL PRIMARY KEY,
    name          TEXT    NOT NULL,
    kind          TEXT    NOT NULL CHECK (kind IN ('welcome', 'recurring')),
    -- What it sends and to whom: the compose form as JSON (campaign::ComposeForm).
    content       TEXT    NOT NULL,
    -- welcome: minutes after subscribing; its one campaign, which gathers every welcome
    -- delivery (one per subscription: the deliveries' key).
    delay_minutes INTEGER CHECK (delay_minutes BETWEEN 0 AND 43200),
    -- The latest `created_at` of a subscription it welcomed: the next look starts just
    -- before it, not at the beginning.
    welcomed_until BIGINT,
    campaign_id   BIGINT REFERENCES campaigns(id) ON DELETE SET NULL,
    -- recurring: every day or week (on `weekday`, 0 = Monday) at `at_time` (HH:MM) in
    -- `zone`; the next start (Unix seconds) is `next_run_at`.
    every         TEXT    CHECK (every IN ('day', 'week')),
    weekday       INTEGER CHECK (weekday BETWEEN 0 AND 6),
    at_time       TEXT,
    zone          TEXT    NOT NULL DEFAULT 'UTC',
    next_run_at   BIGINT,
    paused        INTEGER NOT NULL DEFAULT 0,
    created_by    BIGINT,
    created_at    BIGINT  NOT NULL
);

-- The campaigns an automation made (a recurring one's runs, a welcome's campaign).
ALTER TABLE campaigns ADD COLUMN automation_id BIGINT REFERENCES automations(id) ON DELETE SET NULL;
CREATE INDEX campaigns_by_automation ON campaigns (automation_id) WHERE automation_id IS NOT NULL;

-- Imported subscriptions get no welcome: they subscribed elsewhere, long ago.
ALTER TABLE subscriptions ADD COLUMN imported INTEGER NOT NULL DEFAULT 0;
