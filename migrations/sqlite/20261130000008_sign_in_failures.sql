-- Failed sign-ins per user name and per address, shared by every instance, so the limit on
-- password guessing holds however many instances a load balancer spreads attempts over.
CREATE TABLE sign_in_failures (
    key        TEXT    PRIMARY KEY NOT NULL,   -- "user:<name>" or "ip:<address>"
    failures   INTEGER NOT NULL,
    started_at INTEGER NOT NULL                -- Unix milliseconds: the window's start
);
CREATE INDEX sign_in_failures_by_start ON sign_in_failures (started_at);
