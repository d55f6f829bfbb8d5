-- Warm stations 暖心驿站 (capabilities::warm_stations, seed 004): places for delivery
-- riders, sanitation workers and drivers, with amenities, hours (services::hours, owner
-- kind `warm_station`), a live state, a duty roster and visits counted by kind.

-- `amenities` as `|water|charging|`; `live_state` open/closed/full as the one on duty set
-- it (`live_at`), holding for that day only: the next day follows the hours again.
CREATE TABLE warm_stations (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    grid_id BIGINT,
    lat DOUBLE PRECISION,
    lng DOUBLE PRECISION,
    amenities TEXT,
    phone TEXT,
    notes TEXT,
    live_state TEXT,
    live_at BIGINT,
    live_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    archived_at BIGINT,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, grid_id) REFERENCES grids (community_id, id)
);

-- A shift of the roster: `taken` counts the places held, what sign-ups race for.
-- `alerted_at`: when staff were told it will not be covered.
CREATE TABLE duty_shifts (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    station_id BIGINT NOT NULL,
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    needed BIGINT NOT NULL,
    taken BIGINT NOT NULL,
    alerted_at BIGINT,
    created_by BIGINT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, station_id) REFERENCES warm_stations (community_id, id)
);
CREATE INDEX ix_duty_shifts__station ON duty_shifts (community_id, station_id, starts_at);
CREATE INDEX ix_duty_shifts__uncovered ON duty_shifts (starts_at, alerted_at);

-- Who took a place on a shift (one row a person and shift; giving it up keeps the row,
-- `left_at`), when they checked in and out, and the service record their hours became.
CREATE TABLE duty_signups (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    shift_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id),
    left_at BIGINT,
    checked_in_at BIGINT,
    checked_out_at BIGINT,
    service_record_id BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, shift_id) REFERENCES duty_shifts (community_id, id)
);
CREATE UNIQUE INDEX uq_duty_signups__person ON duty_signups (community_id, shift_id, user_id);
CREATE INDEX ix_duty_signups__user ON duty_signups (community_id, user_id);

-- One visitor counted with one tap: a rider, a sanitation worker, a driver, another.
CREATE TABLE station_visits (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    station_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    at BIGINT NOT NULL,
    counted_by BIGINT NOT NULL REFERENCES users (id),
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, station_id) REFERENCES warm_stations (community_id, id)
);
CREATE INDEX ix_station_visits__station ON station_visits (community_id, station_id, at);
