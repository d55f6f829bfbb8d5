-- Volunteer service and the points economy (红心微聚): volunteers, service records, points
-- rules (versioned), the double-entry points ledger, the rewards shop with redemptions,
-- commendations and certificates.

-- A person registered with a community's volunteer service; each has a user account (a
-- resident's own, or one made when an outsider signs up).
CREATE TABLE volunteers (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id),
    number TEXT NOT NULL,
    name TEXT NOT NULL,
    resident_id BIGINT,
    grid_id BIGINT,
    id_number_enc BYTEA,
    id_number_hash BYTEA,
    id_number_masked TEXT,
    skills TEXT NOT NULL DEFAULT '',
    availability TEXT,
    -- Agreed to be named on public boards (else the name is masked there).
    show_name BOOLEAN NOT NULL DEFAULT FALSE,
    joined_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    archived_at BIGINT,
    PRIMARY KEY (community_id, id)
);
CREATE UNIQUE INDEX uq_volunteers__user_id ON volunteers (community_id, user_id);
CREATE UNIQUE INDEX uq_volunteers__number ON volunteers (community_id, number);

-- 志愿服务记录: who served, with which team, what, where, when, for how long.
CREATE TABLE service_records (
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
    source TEXT NOT NULL CHECK (source IN ('ticket', 'patrol', 'staff', 'self', 'pledge', 'event')),
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
CREATE INDEX ix_service_records_user ON service_records (community_id, user_id, started_at);
CREATE INDEX ix_service_records_status ON service_records (community_id, status, started_at);
CREATE INDEX ix_service_records_team ON service_records (community_id, team_id, started_at);
-- One record per ticket, patrol or pledge it came from.
CREATE UNIQUE INDEX uq_service_records__source_id ON service_records (community_id, source, source_id)
    WHERE source_id IS NOT NULL;

-- Points rules, versioned: a change is a new version in force from a given time; the
-- versions before it stay as they were, and points already given name the version.
CREATE TABLE points_rules (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    code TEXT NOT NULL,
    version BIGINT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('per_hour', 'per_activity', 'bonus', 'deduction')),
    -- Which service it pays for ('*': any); only for per_hour and per_activity.
    service_type TEXT,
    points BIGINT NOT NULL CHECK (points > 0),
    daily_cap BIGINT CHECK (daily_cap > 0),
    monthly_cap BIGINT CHECK (monthly_cap > 0),
    effective_from BIGINT NOT NULL,
    effective_to BIGINT,
    created_by BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id)
);
CREATE UNIQUE INDEX uq_points_rules__version ON points_rules (community_id, code, version);

-- The ledger's accounts. kind: person (owner: user), team, unit (partner unit), issuing
-- (the community's, owner 0), holding (points held for redemptions, owner 0), provider
-- (who hands rewards over: owner 0 the community, else the partner unit).
-- The balance is the sum of the account's movements, kept in the same transaction.
CREATE TABLE points_accounts (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('person', 'team', 'unit', 'issuing', 'holding', 'provider')),
    owner_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    balance BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id),
    -- Only the issuing account goes below zero: it is where points come from.
    CHECK (kind = 'issuing' OR balance >= 0)
);
CREATE UNIQUE INDEX uq_points_accounts__owner ON points_accounts (community_id, kind, owner_id);

-- 积分流水: append-only, double-entry, each movement from one account to another.
CREATE TABLE points_movements (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    at BIGINT NOT NULL,
    from_account BIGINT NOT NULL,
    to_account BIGINT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount > 0),
    cause TEXT NOT NULL CHECK (cause IN ('service', 'bonus', 'deduction', 'adjustment', 'hold', 'settle', 'release', 'reversal', 'pledge')),
    -- The service record, redemption or reversed movement behind it.
    cause_id BIGINT,
    rule_id BIGINT,
    reason TEXT,
    author_id BIGINT,
    idempotency_key TEXT NOT NULL,
    reverses BIGINT,
    PRIMARY KEY (community_id, id),
    CHECK (from_account <> to_account),
    FOREIGN KEY (community_id, from_account) REFERENCES points_accounts (community_id, id),
    FOREIGN KEY (community_id, to_account) REFERENCES points_accounts (community_id, id)
);
CREATE UNIQUE INDEX uq_points_movements__idempotency_key ON points_movements (community_id, idempotency_key);
-- A movement is reversed at most once.
CREATE UNIQUE INDEX uq_points_movements__reverses ON points_movements (community_id, reverses) WHERE reverses IS NOT NULL;
CREATE INDEX ix_points_movements_from ON points_movements (community_id, from_account, cause, amount);
CREATE INDEX ix_points_movements_to ON points_movements (community_id, to_account, cause, amount);
CREATE INDEX ix_points_movements_cause ON points_movements (community_id, cause, cause_id);

-- 积分超市: services and goods with a points price, stock, a per-person limit and a
-- validity period; the provider is the community or a partner merchant.
CREATE TABLE rewards (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('service', 'goods')),
    provider_unit_id BIGINT,
    price BIGINT NOT NULL CHECK (price > 0),
    stock BIGINT NOT NULL CHECK (stock >= 0),
    per_person_limit BIGINT CHECK (per_person_limit > 0),
    valid_from DATE,
    valid_to DATE,
    hold_days BIGINT NOT NULL DEFAULT 7 CHECK (hold_days > 0),
    description TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    archived_at BIGINT,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, provider_unit_id) REFERENCES partner_units (community_id, id)
);

-- 兑换: points and one unit held, then handed over against the code (or released).
CREATE TABLE redemptions (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    reward_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id),
    points BIGINT NOT NULL CHECK (points > 0),
    code TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('held', 'confirmed', 'cancelled', 'expired')),
    held_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    decided_at BIGINT,
    decided_by BIGINT,
    idempotency_key TEXT,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, reward_id) REFERENCES rewards (community_id, id)
);
CREATE INDEX ix_redemptions_user ON redemptions (community_id, user_id, reward_id);
CREATE INDEX ix_redemptions_held ON redemptions (expires_at) WHERE status = 'held';
CREATE UNIQUE INDEX uq_redemptions__idempotency_key ON redemptions (community_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- 表彰: who was honoured (a person, team or unit), the title, the date and the issuer.
CREATE TABLE commendations (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    honoree_kind TEXT NOT NULL CHECK (honoree_kind IN ('person', 'team', 'unit')),
    honoree_name TEXT NOT NULL,
    -- A person honoured agreed to be named on the public board.
    show_name BOOLEAN NOT NULL DEFAULT FALSE,
    team_id BIGINT,
    partner_unit_id BIGINT,
    title TEXT NOT NULL,
    awarded_on DATE NOT NULL,
    issuer TEXT NOT NULL,
    notes TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    archived_at BIGINT,
    PRIMARY KEY (community_id, id)
);

-- Volunteer service certificates, found by their verification code.
CREATE TABLE certificates (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    volunteer_id BIGINT NOT NULL,
    code TEXT NOT NULL,
    period_from DATE NOT NULL,
    period_to DATE NOT NULL,
    records BIGINT NOT NULL,
    minutes BIGINT NOT NULL,
    issued_by BIGINT,
    issued_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, volunteer_id) REFERENCES volunteers (community_id, id)
);
CREATE UNIQUE INDEX uq_certificates__code ON certificates (community_id, code);

-- Patrols 巡查 and their findings; field notes 民情笔记 (one thing, one record).
CREATE TABLE patrols (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id),
    team_id BIGINT,
    grid_id BIGINT,
    route TEXT,
    started_at BIGINT NOT NULL,
    ended_at BIGINT,
    note TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, team_id) REFERENCES teams (community_id, id),
    FOREIGN KEY (community_id, grid_id) REFERENCES grids (community_id, id)
);
CREATE INDEX ix_patrols_team ON patrols (community_id, team_id, started_at);
CREATE INDEX ix_patrols_user ON patrols (community_id, user_id, started_at);

CREATE TABLE patrol_findings (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    patrol_id BIGINT NOT NULL,
    at BIGINT NOT NULL,
    note TEXT NOT NULL,
    lat DOUBLE PRECISION,
    lng DOUBLE PRECISION,
    ticket_id BIGINT,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, patrol_id) REFERENCES patrols (community_id, id)
);
CREATE INDEX ix_patrol_findings_patrol ON patrol_findings (community_id, patrol_id);

CREATE TABLE field_notes (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id),
    at BIGINT NOT NULL,
    household_id BIGINT,
    place TEXT,
    heard TEXT NOT NULL,
    follow_up TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, household_id) REFERENCES households (community_id, id)
);
CREATE INDEX ix_field_notes_at ON field_notes (community_id, at);
