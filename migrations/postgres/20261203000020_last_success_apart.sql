-- Every successful push recorded its time in subscriptions.last_success_at. Subscription
-- rows are wide and carry eight indexes, and most of those updates could not stay on
-- their page, so each push wrote an entry into every index. The time now lives in a
-- narrow table of its own: the first success inserts one small row and one index entry,
-- later ones update it in place (no indexed column changes; fillfactor leaves room).
CREATE TABLE subscription_last_success (
    subscription_id BIGINT PRIMARY KEY,
    at              BIGINT NOT NULL   -- Unix seconds
) WITH (fillfactor = 70);

INSERT INTO subscription_last_success (subscription_id, at)
    SELECT id, last_success_at FROM subscriptions WHERE last_success_at IS NOT NULL;
ALTER TABLE subscriptions DROP COLUMN last_success_at;
-- The room migration 19 left for that update is no longer needed.
ALTER TABLE subscriptions RESET (fillfactor);

-- Not a foreign key: a push recorded while its subscription is being deleted must not
-- fail the whole batch of outcomes. Ids are never reused, so a row left by that race
-- belongs to nobody.
CREATE FUNCTION forget_last_success() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM subscription_last_success WHERE subscription_id = OLD.id;
    RETURN NULL;
END $$;
CREATE TRIGGER subscription_last_success_gone AFTER DELETE ON subscriptions
    FOR EACH ROW EXECUTE FUNCTION forget_last_success();
