-- Votes: who voted (once each), and the ballots.
CREATE TABLE votes_cast (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    proposal_id BIGINT NOT NULL,
    voter_key TEXT NOT NULL,
    voted_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, proposal_id, voter_key)
);

CREATE TABLE ballots (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    proposal_id BIGINT NOT NULL,
    choice TEXT NOT NULL CHECK (choice IN ('for', 'against', 'abstain')),
    -- Open ballots only.
    voter_key TEXT,
    voter_name TEXT,
    PRIMARY KEY (community_id, id)
);
CREATE INDEX ix_ballots_proposal ON ballots (community_id, proposal_id, choice);
