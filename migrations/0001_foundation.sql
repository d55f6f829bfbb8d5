-- Foundation: places, people, organisation, users and roles, sessions, audit.
-- Timestamps are BIGINT milliseconds since the Unix epoch (UTC); dates are DATE.
-- Every community-scoped table carries community_id and its keys start with it, so that a
-- distributed PostgreSQL (Citus) can shard by community. Ids come from one sequence
-- (see db::Tx::next_ids), unique across tables.

CREATE TABLE subdistricts (
    id BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    code TEXT NOT NULL,
    district TEXT,
    notes TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    archived_at BIGINT
);
CREATE UNIQUE INDEX uq_subdistricts__code ON subdistricts (code);

CREATE TABLE communities (
    id BIGINT PRIMARY KEY,
    subdistrict_id BIGINT NOT NULL REFERENCES subdistricts (id),
    name TEXT NOT NULL,
    code TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('urban', 'rural')),
    brands TEXT,
    address TEXT,
    office_phone TEXT,
    center_lat DOUBLE PRECISION,
    center_lng DOUBLE PRECISION,
    care_tags TEXT NOT NULL DEFAULT '|独居老人|五保户|残疾人|低保|',
    notes TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    archived_at BIGINT
);
CREATE UNIQUE INDEX uq_communities__code ON communities (code);
CREATE INDEX ix_communities_subdistrict ON communities (subdistrict_id);

CREATE TABLE users (
    id BIGINT PRIMARY KEY,
    username TEXT NOT NULL,
    display_name TEXT NOT NULL,
    phone_enc BYTEA,
    phone_hash BYTEA,
    phone_masked TEXT,
    password_hash TEXT NOT NULL,
    community_id BIGINT,
    resident_id BIGINT,
    lang TEXT,
    disabled_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX uq_users__username ON users (username);
CREATE UNIQUE INDEX uq_users__phone_hash ON users (phone_hash);

-- A role bound to a place. Which place columns are set depends on the role.
CREATE TABLE grants (
    id BIGINT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    role TEXT NOT NULL CHECK (role IN ('resident', 'volunteer', 'party_member', 'grid_worker',
        'community_staff', 'community_secretary', 'subdistrict_admin', 'partner_unit', 'platform_admin')),
    subdistrict_id BIGINT,
    community_id BIGINT,
    grid_id BIGINT,
    household_id BIGINT,
    partner_unit_id BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX ix_grants_user ON grants (user_id);
CREATE INDEX ix_grants_grid ON grants (community_id, grid_id);

CREATE TABLE sessions (
    token_hash BYTEA PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX ix_sessions_user ON sessions (user_id);

CREATE TABLE login_failures (
    id BIGINT PRIMARY KEY,
    subject TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX ix_login_failures_key ON login_failures (subject, at);

CREATE TABLE zones (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    name TEXT NOT NULL,
    notes TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    archived_at BIGINT,
    PRIMARY KEY (community_id, id)
);

CREATE TABLE grids (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    zone_id BIGINT,
    name TEXT NOT NULL,
    code TEXT,
    polygon JSONB,
    worker_user_id BIGINT REFERENCES users (id),
    notes TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    archived_at BIGINT,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, zone_id) REFERENCES zones (community_id, id)
);
CREATE UNIQUE INDEX uq_grids__code ON grids (community_id, code);

CREATE TABLE compounds (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    name TEXT NOT NULL,
    address TEXT,
    grid_id BIGINT,
    property_company TEXT,
    notes TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    archived_at BIGINT,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, grid_id) REFERENCES grids (community_id, id)
);

CREATE TABLE buildings (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    compound_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    grid_id BIGINT,
    units BIGINT,
    floors BIGINT,
    notes TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    archived_at BIGINT,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, compound_id) REFERENCES compounds (community_id, id),
    FOREIGN KEY (community_id, grid_id) REFERENCES grids (community_id, id)
);
CREATE INDEX ix_buildings_compound ON buildings (community_id, compound_id);

CREATE TABLE households (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    address TEXT NOT NULL,
    compound_id BIGINT,
    building_id BIGINT,
    unit TEXT,
    room TEXT,
    grid_id BIGINT,
    lat DOUBLE PRECISION,
    lng DOUBLE PRECISION,
    notes TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    archived_at BIGINT,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, compound_id) REFERENCES compounds (community_id, id),
    FOREIGN KEY (community_id, building_id) REFERENCES buildings (community_id, id),
    FOREIGN KEY (community_id, grid_id) REFERENCES grids (community_id, id)
);
CREATE INDEX ix_households_grid ON households (community_id, grid_id);
CREATE INDEX ix_households_building ON households (community_id, building_id);
CREATE INDEX ix_households_address ON households (community_id, address);

CREATE TABLE partner_units (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    address TEXT,
    contact_name TEXT,
    contact_phone TEXT,
    notes TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    archived_at BIGINT,
    PRIMARY KEY (community_id, id)
);

CREATE TABLE party_orgs (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    name TEXT NOT NULL,
    level TEXT NOT NULL,
    parent_id BIGINT,
    grid_id BIGINT,
    household_id BIGINT,
    partner_unit_id BIGINT,
    secretary TEXT,
    notes TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    archived_at BIGINT,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, parent_id) REFERENCES party_orgs (community_id, id),
    FOREIGN KEY (community_id, grid_id) REFERENCES grids (community_id, id),
    FOREIGN KEY (community_id, household_id) REFERENCES households (community_id, id),
    FOREIGN KEY (community_id, partner_unit_id) REFERENCES partner_units (community_id, id)
);

CREATE TABLE residents (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    household_id BIGINT,
    -- Copied from the household so that grid workers' scope is one indexed condition.
    grid_id BIGINT,
    name TEXT NOT NULL,
    gender TEXT,
    birth_date DATE,
    id_number_enc BYTEA,
    id_number_hash BYTEA,
    id_number_masked TEXT,
    phone_enc BYTEA,
    phone_hash BYTEA,
    phone_masked TEXT,
    phone_tail TEXT,
    relation TEXT,
    category TEXT,
    care_tags TEXT NOT NULL DEFAULT '',
    party_member BOOLEAN NOT NULL DEFAULT FALSE,
    party_org_id BIGINT,
    notes TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    archived_at BIGINT,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, household_id) REFERENCES households (community_id, id),
    FOREIGN KEY (community_id, grid_id) REFERENCES grids (community_id, id),
    FOREIGN KEY (community_id, party_org_id) REFERENCES party_orgs (community_id, id)
);
CREATE INDEX ix_residents_household ON residents (community_id, household_id);
CREATE INDEX ix_residents_grid ON residents (community_id, grid_id);
CREATE INDEX ix_residents_name ON residents (community_id, name);
CREATE INDEX ix_residents_name_all ON residents (name);
CREATE INDEX ix_residents_phone_hash ON residents (community_id, phone_hash);
CREATE INDEX ix_residents_phone_tail ON residents (community_id, phone_tail);
CREATE INDEX ix_residents_phone_masked ON residents (phone_masked);
CREATE UNIQUE INDEX uq_residents__id_number_hash ON residents (community_id, id_number_hash);

CREATE TABLE teams (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    brand TEXT,
    leader TEXT,
    description TEXT,
    founded_on DATE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    archived_at BIGINT,
    PRIMARY KEY (community_id, id)
);

-- Append-only (triggers in the backend-specific files refuse UPDATE and DELETE).
-- community_id 0 holds writes to platform-level records (subdistricts, communities, users).
CREATE TABLE audit_log (
    community_id BIGINT NOT NULL,
    id BIGINT NOT NULL,
    at BIGINT NOT NULL,
    actor_id BIGINT,
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id BIGINT NOT NULL,
    old_values JSONB,
    new_values JSONB,
    PRIMARY KEY (community_id, id)
);
CREATE INDEX ix_audit_entity ON audit_log (community_id, entity, entity_id);

-- Every reveal of a masked personal value.
CREATE TABLE pii_access_log (
    community_id BIGINT NOT NULL,
    id BIGINT NOT NULL,
    at BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    user_name TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id BIGINT NOT NULL,
    field TEXT NOT NULL,
    PRIMARY KEY (community_id, id)
);
CREATE INDEX ix_pii_access_at ON pii_access_log (community_id, at);
