-- Topics visitors choose to hear about ("Releases", "Offers"), and campaigns aimed at them.
CREATE TABLE topics (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL UNIQUE COLLATE NOCASE CHECK (length(name) BETWEEN 1 AND 40),
    created_at  INTEGER NOT NULL,
    -- Archived topics are no longer offered or targeted; past campaigns keep naming them.
    archived_at INTEGER
);

CREATE TABLE subscription_topics (
    subscription_id INTEGER NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
    topic_id        INTEGER NOT NULL REFERENCES topics(id),
    PRIMARY KEY (subscription_id, topic_id)
) WITHOUT ROWID;
-- Who is in a topic: targeting and per-topic counts.
CREATE INDEX subscription_topics_by_topic ON subscription_topics (topic_id, subscription_id);

-- A campaign with rows here goes to subscribers of any of these topics; without, to everyone.
CREATE TABLE campaign_topics (
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    topic_id    INTEGER NOT NULL REFERENCES topics(id),
    PRIMARY KEY (campaign_id, topic_id)
) WITHOUT ROWID;
