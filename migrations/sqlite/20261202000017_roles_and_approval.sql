-- Roles: owners do everything (every admin so far was one), editors write and send
-- campaigns, viewers read.
ALTER TABLE admins ADD COLUMN role TEXT NOT NULL DEFAULT 'owner' CHECK (role IN ('owner', 'editor', 'viewer'));

-- A site may require that campaigns sent by editors be approved by an owner first.
ALTER TABLE sites ADD COLUMN requires_approval BOOLEAN NOT NULL DEFAULT FALSE;

-- A draft waiting for approval: who asked, when, and when it is to start once approved
-- (NULL: at once). Approving queues or schedules it; declining leaves a draft with a note.
ALTER TABLE campaigns ADD COLUMN approval_requested_by INTEGER REFERENCES admins(id) ON DELETE SET NULL;
ALTER TABLE campaigns ADD COLUMN approval_requested_at INTEGER;
ALTER TABLE campaigns ADD COLUMN approval_send_at INTEGER;
ALTER TABLE campaigns ADD COLUMN reviewed_by INTEGER REFERENCES admins(id) ON DELETE SET NULL;
ALTER TABLE campaigns ADD COLUMN review_note TEXT;
