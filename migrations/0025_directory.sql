-- The 15-minute service circle 一刻钟服务圈 (capabilities::directory): providers, the
-- locations where services are given, and listings (a service of a provider at a
-- location). Hours are kept by services::hours under owner kind `listing`.

CREATE TABLE providers (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    partner_unit_id BIGINT,
    team_id BIGINT,
    phone TEXT,
    description TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    archived_at BIGINT,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, partner_unit_id) REFERENCES partner_units (community_id, id),
    FOREIGN KEY (community_id, team_id) REFERENCES teams (community_id, id)
);

CREATE TABLE service_locations (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    grid_id BIGINT,
    lat DOUBLE PRECISION,
    lng DOUBLE PRECISION,
    notes TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    archived_at BIGINT,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, grid_id) REFERENCES grids (community_id, id)
);

-- `verified_at`/`verified_by`: the last time staff checked the listing is still true
-- (never: it counts from `created_at`); stale after 180 days.
CREATE TABLE listings (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    name TEXT NOT NULL,
    provider_id BIGINT NOT NULL,
    location_id BIGINT NOT NULL,
    need TEXT NOT NULL,
    price TEXT NOT NULL,
    price_note TEXT,
    eligibility TEXT,
    bring TEXT,
    languages TEXT,
    description TEXT,
    verified_at BIGINT,
    verified_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    archived_at BIGINT,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, provider_id) REFERENCES providers (community_id, id),
    FOREIGN KEY (community_id, location_id) REFERENCES service_locations (community_id, id)
);
CREATE INDEX ix_listings__need ON listings (community_id, need);
