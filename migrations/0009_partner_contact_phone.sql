-- A partner unit's contact phone is a person's mobile number: encrypted, blind-indexed and
-- masked like a resident's. The plain column is kept under a new name until the server
-- seals what it holds at its next start (org::seal_contact_phones), then stays empty.
ALTER TABLE partner_units RENAME COLUMN contact_phone TO contact_phone_unsealed;
ALTER TABLE partner_units ADD COLUMN contact_phone_enc BYTEA;
ALTER TABLE partner_units ADD COLUMN contact_phone_hash BYTEA;
ALTER TABLE partner_units ADD COLUMN contact_phone_masked TEXT;
ALTER TABLE partner_units ADD COLUMN contact_phone_tail TEXT;
