-- Residents' requests (tickets): categories with deadlines and default handlers, the
-- tickets with their designated owner, history, whistles, escalations, inbox, tallies
-- for statistics, and Open311 API keys.

ALTER TABLE communities ADD COLUMN ticket_reopen_limit BIGINT NOT NULL DEFAULT 2;
ALTER TABLE communities ADD COLUMN ticket_autoclose_days BIGINT NOT NULL DEFAULT 7;

-- Members of a team: a team's pool of tickets is open to them.
CREATE TABLE team_members (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    team_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id),
    leader BOOLEAN NOT NULL DEFAULT FALSE,
    joined_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, team_id, user_id),
    FOREIGN KEY (community_id, team_id) REFERENCES teams (community_id, id)
);
CREATE INDEX ix_team_members_user ON team_members (user_id);

CREATE TABLE ticket_categories (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    grp TEXT NOT NULL,
    description TEXT,
    deadline_hours BIGINT NOT NULL,
    handler_kind TEXT NOT NULL DEFAULT 'grid_worker' CHECK (handler_kind IN ('grid_worker', 'team', 'partner_unit', 'user')),
    handler_team_id BIGINT,
    handler_unit_id BIGINT,
    handler_user_id BIGINT REFERENCES users (id),
    -- Open311 attributes: extra questions asked when submitting.
    attributes JSONB,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    archived_at BIGINT,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, handler_team_id) REFERENCES teams (community_id, id),
    FOREIGN KEY (community_id, handler_unit_id) REFERENCES partner_units (community_id, id)
);
CREATE UNIQUE INDEX uq_ticket_categories__code ON ticket_categories (community_id, code);

CREATE TABLE tickets (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    category_id BIGINT NOT NULL,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    description TEXT NOT NULL,
    household_id BIGINT,
    grid_id BIGINT,
    lat DOUBLE PRECISION,
    lng DOUBLE PRECISION,
    address TEXT,
    -- A point outside every grid: in the community's queue, flagged.
    outside_grid BOOLEAN NOT NULL DEFAULT FALSE,
    submitter_user_id BIGINT REFERENCES users (id),
    submitter_name TEXT,
    caller_phone_enc BYTEA,
    caller_phone_hash BYTEA,
    caller_phone_masked TEXT,
    owner_user_id BIGINT REFERENCES users (id),
    pool_team_id BIGINT,
    pool_unit_id BIGINT,
    due_at BIGINT NOT NULL,
    accepted_at BIGINT,
    resolved_at BIGINT,
    closed_at BIGINT,
    response_ms BIGINT,
    resolution_ms BIGINT,
    escalation_level BIGINT NOT NULL DEFAULT 0,
    escalated_at BIGINT,
    reopen_count BIGINT NOT NULL DEFAULT 0,
    rating BIGINT,
    rating_comment TEXT,
    duplicate_of BIGINT,
    -- 五连问: need, cause, plan, progress, outcome.
    q_need TEXT,
    q_cause TEXT,
    q_plan TEXT,
    q_progress TEXT,
    q_outcome TEXT,
    attributes JSONB,
    idempotency_key TEXT,
    token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, category_id) REFERENCES ticket_categories (community_id, id),
    FOREIGN KEY (community_id, household_id) REFERENCES households (community_id, id),
    FOREIGN KEY (community_id, grid_id) REFERENCES grids (community_id, id),
    FOREIGN KEY (community_id, pool_team_id) REFERENCES teams (community_id, id),
    FOREIGN KEY (community_id, pool_unit_id) REFERENCES partner_units (community_id, id)
);
CREATE INDEX ix_tickets_status ON tickets (community_id, status);
CREATE INDEX ix_tickets_grid ON tickets (community_id, grid_id, status);
CREATE INDEX ix_tickets_owner ON tickets (community_id, owner_user_id, status);
CREATE INDEX ix_tickets_pool_team ON tickets (community_id, pool_team_id, status);
CREATE INDEX ix_tickets_pool_unit ON tickets (community_id, pool_unit_id, status);
CREATE INDEX ix_tickets_submitter ON tickets (community_id, submitter_user_id);
CREATE INDEX ix_tickets_created ON tickets (community_id, created_at);
CREATE INDEX ix_tickets_escalation ON tickets (escalation_level, due_at);
CREATE INDEX ix_tickets_resolved ON tickets (status, resolved_at);
CREATE INDEX ix_tickets_response ON tickets (community_id, response_ms);
CREATE INDEX ix_tickets_resolution ON tickets (community_id, resolution_ms);
CREATE INDEX ix_tickets_token ON tickets (token);
CREATE UNIQUE INDEX uq_tickets__idempotency_key ON tickets (community_id, idempotency_key);

-- Every step: who, when, what, and a note.
CREATE TABLE ticket_events (
    community_id BIGINT NOT NULL,
    id BIGINT NOT NULL,
    ticket_id BIGINT NOT NULL,
    at BIGINT NOT NULL,
    actor_user_id BIGINT,
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT,
    note TEXT,
    data JSONB,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, ticket_id) REFERENCES tickets (community_id, id)
);
CREATE INDEX ix_ticket_events_ticket ON ticket_events (community_id, ticket_id, at);

-- 吹哨报到: units or departments called in, and their report.
CREATE TABLE ticket_whistles (
    community_id BIGINT NOT NULL,
    id BIGINT NOT NULL,
    ticket_id BIGINT NOT NULL,
    unit_id BIGINT,
    department TEXT,
    called_by BIGINT REFERENCES users (id),
    called_at BIGINT NOT NULL,
    note TEXT,
    responded_at BIGINT,
    responder_user_id BIGINT REFERENCES users (id),
    response TEXT,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, ticket_id) REFERENCES tickets (community_id, id),
    FOREIGN KEY (community_id, unit_id) REFERENCES partner_units (community_id, id)
);
CREATE INDEX ix_ticket_whistles_ticket ON ticket_whistles (community_id, ticket_id);
CREATE INDEX ix_ticket_whistles_unit ON ticket_whistles (community_id, unit_id, responded_at);

-- One row per escalation level reached: the key makes each escalation happen once,
-- however many server processes run the job.
CREATE TABLE ticket_escalations (
    community_id BIGINT NOT NULL,
    ticket_id BIGINT NOT NULL,
    level BIGINT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (community_id, ticket_id, level),
    FOREIGN KEY (community_id, ticket_id) REFERENCES tickets (community_id, id)
);

-- Statistics kept exact in the same transaction as every change (see tickets::tally).
-- grid_id 0: no grid.
CREATE TABLE ticket_tallies (
    community_id BIGINT NOT NULL,
    grid_id BIGINT NOT NULL,
    category_id BIGINT NOT NULL,
    metric TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (community_id, grid_id, category_id, metric)
);

-- Each user's inbox.
CREATE TABLE notifications (
    community_id BIGINT NOT NULL,
    id BIGINT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id),
    at BIGINT NOT NULL,
    ticket_id BIGINT,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    read_at BIGINT,
    PRIMARY KEY (community_id, id)
);
CREATE INDEX ix_notifications_user ON notifications (user_id, at);

-- Keys for Open311 clients that submit (`linli api-key create`).
CREATE TABLE api_keys (
    id BIGINT PRIMARY KEY,
    community_id BIGINT NOT NULL REFERENCES communities (id),
    key_hash BYTEA NOT NULL,
    label TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE UNIQUE INDEX uq_api_keys__key_hash ON api_keys (key_hash);
