-- Every push updates its subscription's last_success_at, which no index covers: with room
-- left on each page, PostgreSQL keeps that update on the page (a HOT update) instead of
-- adding an entry to each of the table's eight indexes. Pages written from now on keep
-- 15 % free; existing ones get room as vacuum reclaims old row versions.
ALTER TABLE subscriptions SET (fillfactor = 85);

-- Every delivery is updated twice (claimed, then its outcome), always in an indexed column:
-- vacuum and fresh statistics after 2 % of the queue changed rather than 20 %, so that a
-- large campaign's queue index is cleaned while it runs.
ALTER TABLE deliveries SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);
