-- Tamper-evident tables (db::chain): each row of the audit log and of the ledger carries
-- its place in its community's chain, the hash of the row before it and its own hash.
CREATE TABLE chains (
    community_id BIGINT NOT NULL,
    chain TEXT NOT NULL,
    seq BIGINT NOT NULL,
    head BYTEA,
    PRIMARY KEY (community_id, chain)
);
-- Rows written before this migration are linked once, at the next start.
INSERT INTO chains (community_id, chain, seq, head) VALUES (0, 'unlinked', 0, NULL);

ALTER TABLE audit_log ADD COLUMN seq BIGINT;
ALTER TABLE audit_log ADD COLUMN prev_hash BYTEA;
ALTER TABLE audit_log ADD COLUMN hash BYTEA;
CREATE UNIQUE INDEX uq_audit_log__seq ON audit_log (community_id, seq);

-- The ledger serves every unit a capability counts in (points, money in fen): the points
-- tables become the ledger's, each account and movement naming its unit. A source (the
-- points issuer; a donor of money) is the only account that goes below zero.
CREATE TABLE ledger_accounts (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    unit TEXT NOT NULL,
    kind TEXT NOT NULL,
    owner_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    balance BIGINT NOT NULL DEFAULT 0,
    may_go_negative BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id),
    CHECK (may_go_negative OR balance >= 0),
    CHECK (balance BETWEEN -1000000000000000 AND 1000000000000000)
);
CREATE UNIQUE INDEX uq_ledger_accounts__owner ON ledger_accounts (community_id, unit, kind, owner_id);

CREATE TABLE ledger_movements (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    unit TEXT NOT NULL,
    at BIGINT NOT NULL,
    from_account BIGINT NOT NULL,
    to_account BIGINT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount > 0),
    cause TEXT NOT NULL,
    -- The record behind it (a service record, a redemption, a reversed movement…).
    cause_id BIGINT,
    rule_id BIGINT,
    reason TEXT,
    author_id BIGINT,
    idempotency_key TEXT NOT NULL,
    reverses BIGINT,
    seq BIGINT,
    prev_hash BYTEA,
    hash BYTEA,
    PRIMARY KEY (community_id, id),
    CHECK (from_account <> to_account),
    FOREIGN KEY (community_id, from_account) REFERENCES ledger_accounts (community_id, id),
    FOREIGN KEY (community_id, to_account) REFERENCES ledger_accounts (community_id, id)
);
CREATE UNIQUE INDEX uq_ledger_movements__idempotency_key ON ledger_movements (community_id, unit, idempotency_key);
-- A movement is reversed at most once.
CREATE UNIQUE INDEX uq_ledger_movements__reverses ON ledger_movements (community_id, reverses) WHERE reverses IS NOT NULL;
CREATE UNIQUE INDEX uq_ledger_movements__seq ON ledger_movements (community_id, seq);
CREATE INDEX ix_ledger_movements_from ON ledger_movements (community_id, from_account, unit, cause, amount);
CREATE INDEX ix_ledger_movements_to ON ledger_movements (community_id, to_account, unit, cause, amount);
CREATE INDEX ix_ledger_movements_cause ON ledger_movements (community_id, cause, cause_id);

INSERT INTO ledger_accounts (community_id, id, unit, kind, owner_id, name, balance, may_go_negative, created_at)
SELECT community_id, id, 'points', kind, owner_id, name, balance, kind = 'issuing', created_at FROM points_accounts;
INSERT INTO ledger_movements (community_id, id, unit, at, from_account, to_account, amount, cause, cause_id, rule_id,
                              reason, author_id, idempotency_key, reverses)
SELECT community_id, id, 'points', at, from_account, to_account, amount, cause, cause_id, rule_id,
       reason, author_id, idempotency_key, reverses FROM points_movements ORDER BY id;
DROP TABLE points_movements;
DROP TABLE points_accounts;
