-- An emergency's hours become a service record like any other (source `emergency`).
ALTER TABLE service_records DROP CONSTRAINT service_records_source_check;
ALTER TABLE service_records ADD CONSTRAINT service_records_source_check
    CHECK (source IN ('ticket', 'patrol', 'staff', 'self', 'pledge', 'event', 'duty', 'emergency'));
