-- An emergency's hours become a service record like any other (source `emergency`).
ALTER TABLE service_records DROP CONSTRAINT service_records_source_check;
ALTER TABLE service_records ADD CONSTRAINT service_records_source_check
    CHECK (source IN ('ticket', 'patrol', 'staff', 'self', 'pledge', 'event', 'duty', 'emergency'));

-- The hours a helper served in an incident, entered by staff once per helper (the
-- service record it became names this row).
CREATE TABLE incident_hours (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    incident_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id),
    minutes BIGINT NOT NULL CHECK (minutes BETWEEN 1 AND 1440),
    service_record_id BIGINT,
    recorded_by BIGINT NOT NULL REFERENCES users (id),
    recorded_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, incident_id) REFERENCES incidents (community_id, id)
);
CREATE UNIQUE INDEX uq_incident_hours__user ON incident_hours (community_id, incident_id, user_id);
