-- On/off switches of a notification (silent, and those to come), as the JSON of
-- NotificationOptions: a new switch needs no new column.
ALTER TABLE campaigns ADD COLUMN options TEXT NOT NULL DEFAULT '{}';
