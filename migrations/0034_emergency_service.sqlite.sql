-- An emergency's hours become a service record like any other (source `emergency`).
-- SQLite cannot alter a CHECK constraint: the table is rebuilt with the wider list of
-- sources (nothing references it by foreign key), rows copied as they are.
CREATE TABLE service_records_next (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    volunteer_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id),
    team_id BIGINT,
    service_type TEXT NOT NULL,
    content TEXT NOT NULL,
    place TEXT,
    started_at BIGINT NOT NULL,
    ended_at BIGINT NOT NULL,
    minutes BIGINT NOT NULL CHECK (minutes > 0),
    source TEXT NOT NULL CHECK (source IN ('ticket', 'patrol', 'staff', 'self', 'pledge', 'event', 'duty', 'emergency')),
    source_id BIGINT,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    reason TEXT,
    decided_by BIGINT,
    decided_at BIGINT,
    points BIGINT,
    created_by BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id),
    CHECK (ended_at > started_at),
    FOREIGN KEY (community_id, volunteer_id) REFERENCES volunteers (community_id, id),
    FOREIGN KEY (community_id, team_id) REFERENCES teams (community_id, id)
);

INSERT INTO service_records_next (community_id, id, volunteer_id, user_id, team_id, service_type, content, place, started_at, ended_at, minutes, source, source_id, status, reason, decided_by, decided_at, points, created_by, created_at, updated_at)
    SELECT community_id, id, volunteer_id, user_id, team_id, service_type, content, place, started_at, ended_at, minutes, source, source_id, status, reason, decided_by, decided_at, points, created_by, created_at, updated_at FROM service_records;
DROP TABLE service_records;
ALTER TABLE service_records_next RENAME TO service_records;
CREATE INDEX ix_service_records_user ON service_records (community_id, user_id, started_at);
CREATE INDEX ix_service_records_status ON service_records (community_id, status, started_at);
CREATE INDEX ix_service_records_team ON service_records (community_id, team_id, started_at);
CREATE UNIQUE INDEX uq_service_records__source_id ON service_records (community_id, source, source_id)
    WHERE source_id IS NOT NULL;
