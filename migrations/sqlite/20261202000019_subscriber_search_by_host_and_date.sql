-- "Subscribers of this push service who joined in this period" (with or without a topic)
-- reads one range of this index instead of every subscription of the push service:
-- 704 ms → ~40 ms for host + topic + 90 days at 1,000,000 subscriptions.
CREATE INDEX subscriptions_by_host_created ON subscriptions (host, created_at);
