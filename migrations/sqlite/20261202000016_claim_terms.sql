-- Which of its lease terms an instance claimed a delivery in. An instance that was paused
-- past its lease may find, when it thaws, that it has claimed the same delivery again in a
-- new term; an outcome from the old term must not touch the new claim.
ALTER TABLE deliveries ADD COLUMN claim_term INTEGER NOT NULL DEFAULT 0;
