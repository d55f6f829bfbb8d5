-- SQLite cannot alter a CHECK constraint: goods_out is rebuilt with the wider one
-- (nothing references it by foreign key), rows copied as they are.
CREATE TABLE goods_out_next (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    goods_id BIGINT NOT NULL,
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    household_id BIGINT,
    project_id BIGINT,
    received_by TEXT NOT NULL,
    handed_by BIGINT NOT NULL REFERENCES users (id),
    handed_at BIGINT NOT NULL,
    to_store TEXT,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, goods_id) REFERENCES goods (community_id, id),
    FOREIGN KEY (community_id, household_id) REFERENCES households (community_id, id),
    FOREIGN KEY (community_id, project_id) REFERENCES projects (community_id, id),
    CHECK (household_id IS NOT NULL OR project_id IS NOT NULL OR to_store IS NOT NULL)
);
INSERT INTO goods_out_next (community_id, id, goods_id, quantity, household_id, project_id, received_by, handed_by,
    handed_at, to_store)
SELECT community_id, id, goods_id, quantity, household_id, project_id, received_by, handed_by, handed_at, to_store
FROM goods_out;
DROP TABLE goods_out;
ALTER TABLE goods_out_next RENAME TO goods_out;
CREATE INDEX ix_goods_out_goods ON goods_out (community_id, goods_id, handed_at);
