-- Gifts in kind 实物捐赠 (seed 003: 40 cotton coats): what, how many, an estimated value,
-- where they are kept; numbered in the same series as gifts of money. `left_qty` falls
-- with each hand-out under a guard, so the stock never goes below zero.
CREATE TABLE goods (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    number TEXT NOT NULL,
    donor_kind TEXT NOT NULL,
    partner_unit_id BIGINT,
    donor_name TEXT NOT NULL,
    named BOOLEAN NOT NULL,
    item TEXT NOT NULL,
    unit TEXT NOT NULL,
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    left_qty BIGINT NOT NULL,
    value_fen BIGINT NOT NULL CHECK (value_fen >= 0),
    stored_at TEXT NOT NULL,
    given_on DATE NOT NULL,
    recorded_by BIGINT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, partner_unit_id) REFERENCES partner_units (community_id, id),
    CHECK (left_qty >= 0 AND left_qty <= quantity)
);
CREATE UNIQUE INDEX uq_goods__number ON goods (community_id, number);
CREATE INDEX ix_goods_given ON goods (community_id, given_on);

-- Each batch handed to a household or used by a project, with who received it.
CREATE TABLE goods_out (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    goods_id BIGINT NOT NULL,
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    household_id BIGINT,
    project_id BIGINT,
    received_by TEXT NOT NULL,
    handed_by BIGINT NOT NULL REFERENCES users (id),
    handed_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, goods_id) REFERENCES goods (community_id, id),
    FOREIGN KEY (community_id, household_id) REFERENCES households (community_id, id),
    FOREIGN KEY (community_id, project_id) REFERENCES projects (community_id, id),
    CHECK (household_id IS NOT NULL OR project_id IS NOT NULL)
);
CREATE INDEX ix_goods_out_goods ON goods_out (community_id, goods_id, handed_at);
