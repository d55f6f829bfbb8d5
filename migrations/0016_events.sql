-- Events 活动 (seed 000's 邻聚欢享 at many small stations, seed 003's classes and festivals):
-- stations 分站 where sessions are held, events with their sessions, and sign-ups 报名
-- with their seats, waitlist places and check-in 签到.

-- A station: a compound's square, a practice station, a room; records like any other.
CREATE TABLE stations (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    name TEXT NOT NULL,
    address TEXT,
    compound_id BIGINT,
    grid_id BIGINT,
    lat DOUBLE PRECISION,
    lng DOUBLE PRECISION,
    notes TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    archived_at BIGINT,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, compound_id) REFERENCES compounds (community_id, id),
    FOREIGN KEY (community_id, grid_id) REFERENCES grids (community_id, id)
);

CREATE TABLE events (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT,
    organiser TEXT NOT NULL,
    brand TEXT,
    audience TEXT NOT NULL,
    -- Sessions one household may hold a seat at (none: no limit).
    per_household BIGINT,
    -- How long a seat offered from the waitlist waits to be claimed.
    claim_hours BIGINT NOT NULL,
    status TEXT NOT NULL,
    created_by BIGINT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id)
);
CREATE INDEX ix_events__status ON events (community_id, status, created_at);

-- `taken` counts the seats held (seated and offered); it is what sign-ups race for.
CREATE TABLE event_sessions (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    event_id BIGINT NOT NULL,
    station_id BIGINT NOT NULL,
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    capacity BIGINT NOT NULL,
    held_back BIGINT NOT NULL,
    taken BIGINT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, event_id) REFERENCES events (community_id, id),
    FOREIGN KEY (community_id, station_id) REFERENCES stations (community_id, id)
);
CREATE INDEX ix_event_sessions__event ON event_sessions (community_id, event_id, starts_at);
CREATE INDEX ix_event_sessions__starts ON event_sessions (community_id, starts_at);

CREATE TABLE event_signups (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    event_id BIGINT NOT NULL,
    session_id BIGINT NOT NULL,
    user_id BIGINT REFERENCES users (id),
    name TEXT NOT NULL,
    household_id BIGINT,
    -- Who signed them up, when it was done on their behalf.
    signed_up_by BIGINT REFERENCES users (id),
    status TEXT NOT NULL,
    code TEXT NOT NULL,
    offered_until BIGINT,
    checked_in_at BIGINT,
    checked_in_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, event_id) REFERENCES events (community_id, id),
    FOREIGN KEY (community_id, session_id) REFERENCES event_sessions (community_id, id),
    FOREIGN KEY (community_id, household_id) REFERENCES households (community_id, id)
);
CREATE UNIQUE INDEX uq_event_signups__code ON event_signups (community_id, code);
CREATE UNIQUE INDEX uq_event_signups__user ON event_signups (community_id, session_id, user_id)
    WHERE status <> 'cancelled';
CREATE INDEX ix_event_signups__session ON event_signups (community_id, session_id, status, id);
CREATE INDEX ix_event_signups__user ON event_signups (community_id, user_id, status);
