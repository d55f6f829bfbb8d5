-- A gift's form carries a key made when the form is shown: sent twice (a double tap, a
-- retry on a weak network) it records one gift.
ALTER TABLE donations ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX uq_donations__idempotency_key ON donations (community_id, idempotency_key);
