-- Photos attached to records of any capability (owner_kind names the kind of record).
CREATE TABLE media (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    owner_kind TEXT NOT NULL,
    owner_id BIGINT NOT NULL,
    mime TEXT NOT NULL,
    bytes BIGINT NOT NULL,
    width BIGINT,
    height BIGINT,
    created_by BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id)
);
CREATE INDEX ix_media_owner ON media (community_id, owner_kind, owner_id);
