-- Notices 公告 (capabilities::notices): a notice to an audience of the community, published
-- at a time (by the job when it is later) until an expiry; every wording kept as a
-- version with what changed; its readers written when it is published, each with their
-- household, grid and building, with when they read and acknowledged it.
CREATE TABLE notices (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    category TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    audience TEXT NOT NULL,
    targets TEXT NOT NULL DEFAULT '',
    publish_at BIGINT NOT NULL,
    expires_at BIGINT,
    pinned BOOLEAN NOT NULL,
    asks_ack BOOLEAN NOT NULL,
    version BIGINT NOT NULL,
    sent_at BIGINT,
    created_by BIGINT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id),
    CHECK (expires_at IS NULL OR expires_at > publish_at)
);
CREATE INDEX ix_notices_publish ON notices (community_id, publish_at);
-- The job's question: which are due and not yet sent, over every community.
CREATE INDEX ix_notices_due ON notices (sent_at, publish_at);

CREATE TABLE notice_versions (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    notice_id BIGINT NOT NULL,
    version BIGINT NOT NULL,
    category TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    changed TEXT NOT NULL,
    changed_by BIGINT NOT NULL REFERENCES users (id),
    changed_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, notice_id) REFERENCES notices (community_id, id)
);
CREATE UNIQUE INDEX uq_notice_versions__version ON notice_versions (community_id, notice_id, version);

CREATE TABLE notice_recipients (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    notice_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id),
    household_id BIGINT,
    grid_id BIGINT,
    building_id BIGINT,
    read_at BIGINT,
    acked_at BIGINT,
    PRIMARY KEY (community_id, notice_id, user_id),
    FOREIGN KEY (community_id, notice_id) REFERENCES notices (community_id, id)
);
CREATE INDEX ix_notice_recipients_user ON notice_recipients (community_id, user_id);
