-- Rich notifications: image, badge, up to two action buttons, require-interaction and an
-- optional collapse topic chosen by the admin.
ALTER TABLE campaigns ADD COLUMN image TEXT;
ALTER TABLE campaigns ADD COLUMN badge TEXT;
-- JSON array of {"title", "url"}, as in the push payload.
ALTER TABLE campaigns ADD COLUMN actions TEXT NOT NULL DEFAULT '[]';
ALTER TABLE campaigns ADD COLUMN require_interaction INTEGER NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN topic TEXT;
