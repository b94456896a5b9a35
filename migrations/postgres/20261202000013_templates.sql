-- Campaign content saved under a name, to start new campaigns from.
CREATE TABLE templates (
    id         BIGSERIAL PRIMARY KEY,
    name       TEXT   NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
    -- The compose form's fields without its audience, as JSON; checked like a campaign.
    content    TEXT   NOT NULL,
    created_by BIGINT REFERENCES admins(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- Names are unique regardless of case, as on SQLite.
CREATE UNIQUE INDEX templates_by_name ON templates (lower(name));
