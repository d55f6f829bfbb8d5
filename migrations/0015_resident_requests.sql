-- 居民注册: someone who signed up as a resident of a community, with the address they
-- gave, waiting for staff (or the grid worker) to check them and bind their account to a
-- household. The account exists from the start; the resident role comes with approval.
CREATE TABLE resident_requests (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    note TEXT,
    status TEXT NOT NULL,
    household_id BIGINT,
    reason TEXT,
    decided_by BIGINT REFERENCES users (id),
    decided_at BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, household_id) REFERENCES households (community_id, id)
);
CREATE INDEX ix_resident_requests__status ON resident_requests (community_id, status, created_at);
CREATE INDEX ix_resident_requests__user ON resident_requests (community_id, user_id);
