-- Moving people and relief supplies (capabilities::emergency): shelters 避难场所 with their
-- capacity and the households checked in and out; stores of supplies and their items,
-- each stock line (a store's, or what a household received, of one item) an account of
-- the ledger's `supplies` book, so that a level is always the sum of its movements.

CREATE TABLE shelters (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    lat DOUBLE PRECISION,
    lng DOUBLE PRECISION,
    capacity BIGINT NOT NULL CHECK (capacity BETWEEN 1 AND 100000),
    -- The people in it now: changed with each stay, by a guarded update that keeps it
    -- within the capacity, so that two check-ins at once never overfill it.
    occupied BIGINT NOT NULL DEFAULT 0 CHECK (occupied >= 0),
    archived_at BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id)
);

-- A household (or people without one here) in a shelter: how many, from which check of
-- which incident, in and out with who and when.
CREATE TABLE shelter_stays (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    shelter_id BIGINT NOT NULL,
    incident_id BIGINT,
    check_id BIGINT,
    household_id BIGINT,
    name TEXT NOT NULL,
    people BIGINT NOT NULL CHECK (people BETWEEN 1 AND 50),
    note TEXT,
    checked_in_at BIGINT NOT NULL,
    checked_in_by BIGINT NOT NULL REFERENCES users (id),
    checked_out_at BIGINT,
    checked_out_by BIGINT REFERENCES users (id),
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, shelter_id) REFERENCES shelters (community_id, id),
    FOREIGN KEY (community_id, incident_id) REFERENCES incidents (community_id, id),
    FOREIGN KEY (community_id, check_id) REFERENCES welfare_checks (community_id, id),
    FOREIGN KEY (community_id, household_id) REFERENCES households (community_id, id)
);
CREATE INDEX ix_shelter_stays ON shelter_stays (community_id, shelter_id, checked_out_at);

-- Where supplies are kept: the community's warehouse, a shelter, the micro fire station.
CREATE TABLE supply_stores (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    shelter_id BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, shelter_id) REFERENCES shelters (community_id, id)
);
CREATE UNIQUE INDEX uq_supply_stores__name ON supply_stores (community_id, name);

CREATE TABLE supply_items (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    name TEXT NOT NULL,
    unit TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id)
);
CREATE UNIQUE INDEX uq_supply_items__name ON supply_items (community_id, name);

-- One line per holder and item: the owner of a ledger account (a store's stock, what a
-- household received, where supplies came from or went in a count), so that each
-- account counts one item in its own unit.
CREATE TABLE supply_lines (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    holder TEXT NOT NULL,
    holder_id BIGINT NOT NULL,
    item_id BIGINT NOT NULL,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, item_id) REFERENCES supply_items (community_id, id)
);
CREATE UNIQUE INDEX uq_supply_lines__holder ON supply_lines (community_id, holder, holder_id, item_id);
