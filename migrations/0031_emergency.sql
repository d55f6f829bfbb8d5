-- Emergencies 应急 (capabilities::emergency): incidents over grids with their timeline, a
-- welfare check for every household there, and each change to a check kept (those made
-- on an older version kept as conflicts, shown, never silently overwriting).

CREATE TABLE incidents (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    level TEXT NOT NULL,
    title TEXT NOT NULL,
    commander_id BIGINT REFERENCES users (id),
    status TEXT NOT NULL,
    activated_at BIGINT,
    closed_at BIGINT,
    created_by BIGINT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id)
);

-- The grids an incident covers (every grid of the community when it covers the whole).
CREATE TABLE incident_grids (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    incident_id BIGINT NOT NULL,
    grid_id BIGINT NOT NULL,
    PRIMARY KEY (community_id, incident_id, grid_id),
    FOREIGN KEY (community_id, incident_id) REFERENCES incidents (community_id, id),
    FOREIGN KEY (community_id, grid_id) REFERENCES grids (community_id, id)
);

-- The timeline: each step (prepared, activated, stood down, closed) with who and when.
CREATE TABLE incident_steps (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    incident_id BIGINT NOT NULL,
    status TEXT NOT NULL,
    note TEXT,
    actor_id BIGINT NOT NULL REFERENCES users (id),
    at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, incident_id) REFERENCES incidents (community_id, id)
);
CREATE INDEX ix_incident_steps ON incident_steps (community_id, incident_id, at);

-- One check per household: its tier from the residents' care tags (1 first), who is to
-- check it, where it stands, and `version` counting the changes applied.
CREATE TABLE welfare_checks (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    incident_id BIGINT NOT NULL,
    household_id BIGINT NOT NULL,
    grid_id BIGINT NOT NULL,
    tier BIGINT NOT NULL CHECK (tier BETWEEN 1 AND 4),
    tags TEXT NOT NULL DEFAULT '',
    assignee_id BIGINT REFERENCES users (id),
    status TEXT NOT NULL,
    needs TEXT NOT NULL DEFAULT '',
    note TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    version BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL,
    updated_by BIGINT REFERENCES users (id),
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, incident_id) REFERENCES incidents (community_id, id),
    FOREIGN KEY (community_id, household_id) REFERENCES households (community_id, id)
);
CREATE UNIQUE INDEX uq_welfare_checks__household ON welfare_checks (community_id, incident_id, household_id);
CREATE INDEX ix_welfare_checks_grid ON welfare_checks (community_id, incident_id, grid_id, tier);

-- Every change sent to a check, by its key (a phone sending again what it kept offline
-- records nothing twice); `applied` false: made on an older version, kept as a conflict.
CREATE TABLE welfare_check_changes (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    check_id BIGINT NOT NULL,
    status TEXT NOT NULL,
    needs TEXT NOT NULL DEFAULT '',
    note TEXT,
    seen BIGINT NOT NULL,
    applied BOOLEAN NOT NULL,
    source TEXT NOT NULL,
    change_key TEXT NOT NULL,
    by_id BIGINT NOT NULL REFERENCES users (id),
    at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, check_id) REFERENCES welfare_checks (community_id, id)
);
CREATE UNIQUE INDEX uq_welfare_check_changes__change_key ON welfare_check_changes (community_id, change_key);
CREATE INDEX ix_welfare_check_changes_check ON welfare_check_changes (community_id, check_id, at);
