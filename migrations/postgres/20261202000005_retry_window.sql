-- When a delivery first failed in a way worth retrying (Unix milliseconds): transient
-- failures are retried for a window from then (an hour, never beyond the message's TTL),
-- so a push service outage of a few minutes loses nothing.
ALTER TABLE deliveries ADD COLUMN first_failed_at BIGINT;
