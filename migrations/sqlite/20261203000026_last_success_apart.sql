-- The time of each subscription's last successful push, apart from the subscription row:
-- recording it rewrites a two-column row instead of the whole subscription (the same
-- change on PostgreSQL spares eight index entries per push).
CREATE TABLE subscription_last_success (
    subscription_id INTEGER PRIMARY KEY,
    at              INTEGER NOT NULL   -- Unix seconds
);

INSERT INTO subscription_last_success (subscription_id, at)
    SELECT id, last_success_at FROM subscriptions WHERE last_success_at IS NOT NULL;
ALTER TABLE subscriptions DROP COLUMN last_success_at;

-- Not a foreign key, as on PostgreSQL (where a push recorded during the deletion must not
-- fail its batch); subscription ids are never reused (AUTOINCREMENT).
CREATE TRIGGER subscription_last_success_gone AFTER DELETE ON subscriptions BEGIN
    DELETE FROM subscription_last_success WHERE subscription_id = OLD.id;
END;
