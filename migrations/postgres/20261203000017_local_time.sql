-- Local-time delivery: the wall-clock time (`YYYY-MM-DDTHH:MM:SS`, no zone) at which each
-- subscriber gets the campaign in their own time zone, and the zone for those whose
-- browser named none (the scheduling admin's).
ALTER TABLE campaigns ADD COLUMN local_time TEXT;
ALTER TABLE campaigns ADD COLUMN local_zone TEXT;
-- The send rate counts from here when set (a local-time campaign restarts it as a new
-- zone's wave opens after a lull); else from `started_at`.
ALTER TABLE campaigns ADD COLUMN paced_from BIGINT;

-- When a held delivery comes due by the scheduling clock (Unix seconds): its subscriber's
-- local time. Until then `next_attempt_at` holds it back at its largest value.
ALTER TABLE deliveries ADD COLUMN due_at BIGINT;
CREATE INDEX deliveries_held_until ON deliveries (due_at) WHERE next_attempt_at = 9223372036854775807;
