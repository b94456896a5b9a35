-- Several Tidings processes may share one database (PostgreSQL) and one campaign. Each
-- announces itself here while it runs; a delivery it claimed names it, so when an instance
-- stops beating, the others know which in-flight deliveries to take back.
CREATE TABLE instances (
    id           TEXT    PRIMARY KEY NOT NULL,
    started_at   INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL   -- Unix milliseconds
);

-- The instance that claimed it last: while 'sending', the one sending it.
ALTER TABLE deliveries ADD COLUMN claimed_by TEXT;
CREATE INDEX deliveries_in_flight ON deliveries (claimed_by) WHERE status = 'sending';
