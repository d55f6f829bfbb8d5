-- Participation: dual registration 双报到, the needs list 需求清单 with its four pledges,
-- pairing 结对 with visits, and the residents' council 议事会 from proposal to project.

-- What a community sets: the activity below which registrants are reminded each year, and
-- the council's voting rules (taken into each vote when it opens).
ALTER TABLE communities ADD COLUMN participation_min_activity BIGINT NOT NULL DEFAULT 2;
ALTER TABLE communities ADD COLUMN council_voters TEXT NOT NULL DEFAULT 'household';
ALTER TABLE communities ADD COLUMN council_quorum_pct BIGINT NOT NULL DEFAULT 50;
ALTER TABLE communities ADD COLUMN council_majority_pct BIGINT NOT NULL DEFAULT 50;
ALTER TABLE communities ADD COLUMN council_secret BOOLEAN NOT NULL DEFAULT TRUE;

-- 报到: a party organisation or partner unit (with its party organisation), or an employed
-- party member, registering with the community where they live or work.
CREATE TABLE registrations (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('unit', 'member')),
    -- The account that acts for it: the member themselves, or the unit's contact.
    user_id BIGINT NOT NULL REFERENCES users (id),
    partner_unit_id BIGINT,
    name TEXT NOT NULL,
    party_org TEXT NOT NULL,
    -- A member lives or works here.
    relation TEXT CHECK (relation IN ('lives', 'works')),
    skills TEXT NOT NULL DEFAULT '',
    offers TEXT,
    contact_name TEXT,
    contact_phone_enc BYTEA,
    contact_phone_hash BYTEA,
    contact_phone_masked TEXT,
    -- Agreed to be named on the public pages.
    show_name BOOLEAN NOT NULL DEFAULT FALSE,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'declined')),
    reason TEXT,
    decided_by BIGINT,
    decided_at BIGINT,
    reminded_at BIGINT,
    registered_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, partner_unit_id) REFERENCES partner_units (community_id, id)
);
-- Registered once: a member by their account, a unit by its record.
CREATE UNIQUE INDEX uq_registrations__user_id ON registrations (community_id, user_id) WHERE kind = 'member';
CREATE UNIQUE INDEX uq_registrations__partner_unit_id ON registrations (community_id, partner_unit_id) WHERE kind = 'unit';

-- 需求清单: what the community needs done, given, looked after or adopted.
CREATE TABLE needs (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('service', 'item', 'money', 'place')),
    -- How much is needed: times or people for a service, pieces for items, yuan for money,
    -- 1 for a place.
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    unit TEXT NOT NULL,
    pledged BIGINT NOT NULL DEFAULT 0,
    fulfilled BIGINT NOT NULL DEFAULT 0,
    deadline DATE,
    status TEXT NOT NULL CHECK (status IN ('suggested', 'declined', 'open', 'pledged', 'in_progress', 'fulfilled', 'closed', 'withdrawn')),
    reason TEXT,
    suggested_by BIGINT,
    created_by BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id),
    -- Never over-filled, whatever races.
    CHECK (pledged >= 0 AND pledged <= quantity AND fulfilled >= 0 AND fulfilled <= pledged)
);
CREATE INDEX ix_needs_status ON needs (community_id, status, created_at);

-- 认领 claim, 认捐 sponsor, 认管 take charge, 认养 adopt.
CREATE TABLE pledges (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    need_id BIGINT NOT NULL,
    registration_id BIGINT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('claim', 'sponsor', 'take_charge', 'adopt')),
    amount BIGINT NOT NULL CHECK (amount > 0),
    status TEXT NOT NULL DEFAULT 'pledged' CHECK (status IN ('pledged', 'submitted', 'fulfilled', 'cancelled')),
    note TEXT,
    evidence TEXT,
    evidence_amount BIGINT,
    served_on DATE,
    minutes BIGINT,
    submitted_at BIGINT,
    confirmed_by BIGINT,
    confirmed_at BIGINT,
    service_record_id BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, need_id) REFERENCES needs (community_id, id),
    FOREIGN KEY (community_id, registration_id) REFERENCES registrations (community_id, id)
);
CREATE INDEX ix_pledges_need ON pledges (community_id, need_id);
CREATE INDEX ix_pledges_registration ON pledges (community_id, registration_id);

-- Every step of a need, for its page.
CREATE TABLE need_events (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    need_id BIGINT NOT NULL,
    at BIGINT NOT NULL,
    actor_id BIGINT,
    actor_name TEXT NOT NULL,
    what TEXT NOT NULL,
    note TEXT,
    PRIMARY KEY (community_id, id)
);
CREATE INDEX ix_need_events_need ON need_events (community_id, need_id, at);

-- 结对: a party member or volunteer with households (党群1+1; volunteer ↔ elderly resident).
CREATE TABLE pairs (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('party', 'volunteer')),
    user_id BIGINT NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    starts_on DATE NOT NULL,
    ends_on DATE,
    -- Visits are due every so many days (7: weekly).
    every_days BIGINT NOT NULL CHECK (every_days > 0),
    note TEXT,
    created_by BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id)
);
CREATE INDEX ix_pairs_user ON pairs (community_id, user_id);

CREATE TABLE pair_households (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    pair_id BIGINT NOT NULL,
    household_id BIGINT NOT NULL,
    PRIMARY KEY (community_id, pair_id, household_id),
    FOREIGN KEY (community_id, pair_id) REFERENCES pairs (community_id, id),
    FOREIGN KEY (community_id, household_id) REFERENCES households (community_id, id)
);
CREATE INDEX ix_pair_households_household ON pair_households (community_id, household_id);

CREATE TABLE pair_visits (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    pair_id BIGINT NOT NULL,
    household_id BIGINT NOT NULL,
    visited_on DATE NOT NULL,
    done TEXT NOT NULL,
    found TEXT,
    ticket_id BIGINT,
    created_by BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, pair_id) REFERENCES pairs (community_id, id)
);
CREATE INDEX ix_pair_visits_pair ON pair_visits (community_id, pair_id, visited_on);

-- 议事会: the roster of council members (who attend meetings; who vote when the
-- community lets only members vote).
CREATE TABLE council_members (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    title TEXT,
    joined_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, user_id)
);

-- 议题: from proposal to decision. The vote's rules are copied in when voting opens.
CREATE TABLE proposals (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    scope_kind TEXT NOT NULL CHECK (scope_kind IN ('community', 'grid', 'compound')),
    scope_id BIGINT,
    raised_by BIGINT NOT NULL,
    raised_by_name TEXT NOT NULL,
    stage TEXT NOT NULL CHECK (stage IN ('submitted', 'agenda', 'merged', 'declined', 'voting', 'passed', 'rejected')),
    merged_into BIGINT,
    reason TEXT,
    voters TEXT CHECK (voters IN ('household', 'resident', 'council')),
    quorum_pct BIGINT,
    majority_pct BIGINT,
    secret BOOLEAN,
    eligible BIGINT,
    opens_at BIGINT,
    closes_at BIGINT,
    votes_for BIGINT,
    votes_against BIGINT,
    votes_abstain BIGINT,
    decided_at BIGINT,
    decision TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id)
);
CREATE INDEX ix_proposals_stage ON proposals (community_id, stage, created_at);

-- 协商: a meeting, who came, the minutes.
CREATE TABLE proposal_rounds (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    proposal_id BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    held_at BIGINT NOT NULL,
    place TEXT NOT NULL,
    minutes TEXT NOT NULL,
    created_by BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, proposal_id) REFERENCES proposals (community_id, id)
);
CREATE UNIQUE INDEX uq_proposal_rounds__seq ON proposal_rounds (community_id, proposal_id, seq);

CREATE TABLE round_attendance (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    round_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    PRIMARY KEY (community_id, round_id, user_id)
);

CREATE TABLE proposal_comments (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    proposal_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    at BIGINT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (community_id, id)
);
CREATE INDEX ix_proposal_comments_proposal ON proposal_comments (community_id, proposal_id, at);

-- Who has voted (one household, resident or member once) is kept apart from how: a
-- secret ballot carries neither its voter nor its time, and its id is random, so nothing
-- links the two.
-- votes_cast (who voted, once) and ballots (how, and for open ballots by whom) are in the
-- backend files: on SQLite they are WITHOUT ROWID tables, so that no hidden row order
-- pairs a secret ballot with the vote cast beside it.


-- 决议 carried out: the project, its owner and budget line, its milestones.
CREATE TABLE council_projects (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    proposal_id BIGINT NOT NULL,
    title TEXT NOT NULL,
    owner_name TEXT NOT NULL,
    owner_user_id BIGINT,
    budget_yuan BIGINT NOT NULL DEFAULT 0 CHECK (budget_yuan >= 0),
    budget_line TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, proposal_id) REFERENCES proposals (community_id, id)
);
CREATE UNIQUE INDEX uq_council_projects__proposal_id ON council_projects (community_id, proposal_id);

CREATE TABLE project_milestones (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    project_id BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    title TEXT NOT NULL,
    due_on DATE,
    done_on DATE,
    note TEXT,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, project_id) REFERENCES council_projects (community_id, id)
);
CREATE INDEX ix_project_milestones_project ON project_milestones (community_id, project_id, seq);
