-- Plans 预案 (capabilities::emergency): prepared beforehand for a kind of incident — the
-- tasks to set going, who is on call, the supplies to ready — and shown on the command
-- page of an incident of that kind. Records of the record engine.
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
