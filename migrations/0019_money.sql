-- Money and projects (seed 002's 义聚爱嘉 drive and co-building fund, seed 003's 惠民工程):
-- funds, donations into them, projects funded from them, and expenses paid from them. The
-- money itself is in the ledger (`ledger_movements`, unit 'fen'); these tables say why.

-- A fund: a drive, a co-building fund, the service company's income, an allocation.
CREATE TABLE funds (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    purpose TEXT NOT NULL,
    -- The expense categories it may pay for, comma-separated; none: any.
    restriction TEXT,
    target_fen BIGINT CHECK (target_fen > 0),
    starts_on DATE,
    ends_on DATE,
    status TEXT NOT NULL,
    created_by BIGINT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id)
);

-- Who keeps a fund (besides the community's staff).
CREATE TABLE fund_managers (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    fund_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id),
    PRIMARY KEY (community_id, fund_id, user_id),
    FOREIGN KEY (community_id, fund_id) REFERENCES funds (community_id, id)
);

-- A gift of money, numbered for its receipt; its movement is in the ledger.
CREATE TABLE donations (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    number TEXT NOT NULL,
    fund_id BIGINT NOT NULL,
    donor_kind TEXT NOT NULL,
    donor_user_id BIGINT REFERENCES users (id),
    partner_unit_id BIGINT,
    donor_name TEXT NOT NULL,
    -- The donor agreed to be named in public (else 张*, or 爱心人士 when anonymous).
    named BOOLEAN NOT NULL,
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
    given_on DATE NOT NULL,
    channel TEXT NOT NULL,
    pledge_id BIGINT,
    movement_id BIGINT NOT NULL,
    note TEXT,
    recorded_by BIGINT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, fund_id) REFERENCES funds (community_id, id),
    FOREIGN KEY (community_id, partner_unit_id) REFERENCES partner_units (community_id, id)
);
CREATE UNIQUE INDEX uq_donations__number ON donations (community_id, number);
-- A pledge is paid once.
CREATE UNIQUE INDEX uq_donations__pledge_id ON donations (community_id, pledge_id);
CREATE INDEX ix_donations_fund ON donations (community_id, fund_id, given_on);

-- Income that is no gift, into a fund: the service company's takings per service and month
-- (服务—收益—反哺), or an allocation from government.
CREATE TABLE incomes (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    fund_id BIGINT NOT NULL,
    source TEXT NOT NULL,
    month TEXT NOT NULL,
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
    movement_id BIGINT NOT NULL,
    note TEXT,
    recorded_by BIGINT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, fund_id) REFERENCES funds (community_id, id)
);
CREATE INDEX ix_incomes_fund ON incomes (community_id, fund_id, month);

-- A public-benefit project 惠民工程.
CREATE TABLE projects (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    title TEXT NOT NULL,
    place TEXT NOT NULL,
    description TEXT,
    budget_fen BIGINT NOT NULL CHECK (budget_fen > 0),
    status TEXT NOT NULL,
    -- Where it came from: a council decision (its proposal), a need, or staff.
    origin TEXT NOT NULL,
    proposal_id BIGINT,
    need_id BIGINT,
    created_by BIGINT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, proposal_id) REFERENCES proposals (community_id, id),
    FOREIGN KEY (community_id, need_id) REFERENCES needs (community_id, id)
);
CREATE INDEX ix_projects_status ON projects (community_id, status);

-- Each step of a project's state, for its page.
CREATE TABLE project_events (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    project_id BIGINT NOT NULL,
    status TEXT NOT NULL,
    note TEXT,
    actor_id BIGINT NOT NULL REFERENCES users (id),
    at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, project_id) REFERENCES projects (community_id, id)
);
CREATE INDEX ix_project_events_project ON project_events (community_id, project_id, at);

-- How much of a project each fund pays for, and how much of that is spent: an expense
-- adds to `spent_fen` with a guarded update, so a project never spends beyond its share.
CREATE TABLE project_funding (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    project_id BIGINT NOT NULL,
    fund_id BIGINT NOT NULL,
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
    spent_fen BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (community_id, project_id, fund_id),
    FOREIGN KEY (community_id, project_id) REFERENCES projects (community_id, id),
    FOREIGN KEY (community_id, fund_id) REFERENCES funds (community_id, id),
    CHECK (spent_fen >= 0 AND spent_fen <= amount_fen)
);

-- The plan: milestones with dates and weights; progress is the weight of those done.
CREATE TABLE milestones (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    project_id BIGINT NOT NULL,
    title TEXT NOT NULL,
    due_on DATE NOT NULL,
    weight BIGINT NOT NULL CHECK (weight BETWEEN 1 AND 100),
    done_on DATE,
    done_by BIGINT REFERENCES users (id),
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, project_id) REFERENCES projects (community_id, id)
);
CREATE INDEX ix_milestones_project ON milestones (community_id, project_id, due_on);

-- What residents say on a project's public page.
CREATE TABLE project_comments (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    project_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id),
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, project_id) REFERENCES projects (community_id, id)
);
CREATE INDEX ix_project_comments_project ON project_comments (community_id, project_id, created_at);

-- An expense of a project from a fund, with its receipt (media, owner 'expense') and its
-- approvals; paid when the last step approves, as a movement fund → payee.
CREATE TABLE expenses (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    project_id BIGINT NOT NULL,
    fund_id BIGINT NOT NULL,
    category TEXT NOT NULL,
    payee TEXT NOT NULL,
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
    purpose TEXT NOT NULL,
    status TEXT NOT NULL,
    -- The approval steps it needs (roles, comma-separated), fixed when asked.
    chain TEXT NOT NULL,
    asked_by BIGINT NOT NULL REFERENCES users (id),
    movement_id BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, project_id, fund_id) REFERENCES project_funding (community_id, project_id, fund_id)
);
CREATE INDEX ix_expenses_project ON expenses (community_id, project_id, created_at);
CREATE INDEX ix_expenses_status ON expenses (community_id, status, created_at);

-- Each step's decision: the key makes a step decided once, whoever races to it.
CREATE TABLE expense_steps (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    expense_id BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    role TEXT NOT NULL,
    decision TEXT NOT NULL,
    note TEXT,
    decided_by BIGINT NOT NULL REFERENCES users (id),
    decided_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, expense_id, seq),
    FOREIGN KEY (community_id, expense_id) REFERENCES expenses (community_id, id)
);

-- A disclosure 公示: a period's accounts published with the ledger's chain head at that
-- moment, open to residents' objections until a day.
CREATE TABLE disclosures (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    period_from DATE NOT NULL,
    period_to DATE NOT NULL,
    objections_until DATE NOT NULL,
    chain_length BIGINT NOT NULL,
    chain_head TEXT,
    published_by BIGINT NOT NULL REFERENCES users (id),
    published_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id),
    CHECK (period_from <= period_to)
);

-- A resident's objection to a disclosure, answered in public.
CREATE TABLE objections (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    disclosure_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id),
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    answer TEXT,
    answered_by BIGINT REFERENCES users (id),
    answered_at BIGINT,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, disclosure_id) REFERENCES disclosures (community_id, id)
);
CREATE INDEX ix_objections_disclosure ON objections (community_id, disclosure_id, created_at);
