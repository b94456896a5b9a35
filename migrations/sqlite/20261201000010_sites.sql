-- Several sites in one install. Tidings' own public page is site 1 (origin NULL: it is
-- wherever TIDINGS_PUBLIC_URL says); other sites embed the widget on their own origin.
CREATE TABLE sites (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
    -- scheme://host[:port], lower case, default port left out: what browsers send as Origin.
    origin      TEXT    UNIQUE,
    -- Where the site serves its service worker (the widget registers it with scope /).
    worker_path TEXT    NOT NULL DEFAULT '/tidings-sw.js',
    -- The widget's words and its style of asking, as JSON (site::WidgetSettings).
    widget      TEXT    NOT NULL DEFAULT '{}',
    -- HMAC-SHA256 key (base64url) with which the site's backend signs user ids; NULL: none yet.
    user_secret TEXT,
    created_at  INTEGER NOT NULL,
    archived_at INTEGER
);
INSERT INTO sites (id, name, origin, created_at) VALUES (1, 'Tidings public page', NULL, CAST(strftime('%s', 'now') AS INTEGER));

-- Every subscription belongs to one site (existing ones to the first), with the consent
-- receipt of the moment it was made. (SQLite refuses a REFERENCES clause on an added
-- column with a default; sites are archived, never deleted.)
ALTER TABLE subscriptions ADD COLUMN site_id INTEGER NOT NULL DEFAULT 1;
ALTER TABLE subscriptions ADD COLUMN consent_page TEXT;
ALTER TABLE subscriptions ADD COLUMN consent_text TEXT;
ALTER TABLE subscriptions ADD COLUMN language TEXT;
ALTER TABLE subscriptions ADD COLUMN time_zone TEXT;
-- The site's own id for the visitor, stored only when the site's signature checked.
ALTER TABLE subscriptions ADD COLUMN user_id TEXT;
CREATE INDEX subscriptions_by_site ON subscriptions (site_id, id);
CREATE INDEX subscriptions_by_user ON subscriptions (user_id) WHERE user_id IS NOT NULL;

-- A topic offered on one site only; NULL: on every site.
ALTER TABLE topics ADD COLUMN site_id INTEGER REFERENCES sites(id);

-- The sites a campaign goes to; none: every site.
CREATE TABLE campaign_sites (
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    site_id     INTEGER NOT NULL REFERENCES sites(id),
    PRIMARY KEY (campaign_id, site_id)
);
