-- Plans 预案 (capabilities::emergency): prepared beforehand for a kind of incident — the
-- tasks to set going, who is on call, the supplies to ready — and shown on the command
-- page of an incident of that kind. Records of the record engine. And the hours helpers
-- served in an incident, which become service records (source `emergency`, 0034).
CREATE TABLE incident_plans (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    tasks TEXT NOT NULL DEFAULT '',
    on_call TEXT,
    supplies TEXT,
    notes TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    archived_at BIGINT,
    PRIMARY KEY (community_id, id)
);
CREATE INDEX ix_incident_plans_kind ON incident_plans (community_id, kind);

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
