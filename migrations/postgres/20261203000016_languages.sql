-- A campaign in several languages: its own content is the fallback, `translations` the
-- others as a JSON list ([] for none). Each delivery's `variant` then names the content it
-- carries (0: the fallback, i: translation i), chosen when the audience is taken.
ALTER TABLE campaigns ADD COLUMN translations TEXT NOT NULL DEFAULT '[]';
