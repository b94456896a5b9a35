-- When a delivery first failed in a way worth retrying (Unix milliseconds): transient
-- failures are retried for a window from then (an hour, never beyond the message's TTL),
-- so a push service outage of a few minutes loses nothing.
ALTER TABLE deliveries ADD COLUMN first_failed_at INTEGER;

-- A campaign's send rate, if the admin capped it (pushes per minute), and how many
-- deliveries have been claimed under that cap since it started.
ALTER TABLE campaigns ADD COLUMN max_per_minute INTEGER;
ALTER TABLE campaigns ADD COLUMN paced_claims INTEGER NOT NULL DEFAULT 0;
