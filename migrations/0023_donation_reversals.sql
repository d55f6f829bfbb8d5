-- A gift recorded by mistake (a wrong amount, the wrong fund) is reversed, never edited
-- or deleted: its movement is posted backwards in the ledger, citing it, and the gift
-- keeps who reversed it, when, why, and the reversing movement.
ALTER TABLE donations ADD COLUMN reversed_at BIGINT;
ALTER TABLE donations ADD COLUMN reversed_by BIGINT REFERENCES users (id);
ALTER TABLE donations ADD COLUMN reversal_reason TEXT;
ALTER TABLE donations ADD COLUMN reversal_movement_id BIGINT;
