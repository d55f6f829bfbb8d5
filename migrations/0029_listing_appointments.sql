-- A bookable listing names the appointment type that books it (capabilities::appointments):
-- the directory's page links to booking. Checked by the record engine within the
-- community, as every reference of a record is.
ALTER TABLE listings ADD COLUMN appointment_type_id BIGINT;
