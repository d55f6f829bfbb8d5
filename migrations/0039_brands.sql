-- Brands 一社区一品牌 (seed 004): a community's named programme — 红心微聚, 邻聚欢享,
-- 连江营造计划, 红管+ — with its logo, story and people. It gathers by itself the teams and
-- events whose brand is its name; staff tag the needs, council projects and tickets that
-- belong to it as well.
CREATE TABLE brands (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    name TEXT NOT NULL,
    story TEXT NOT NULL,
    people TEXT NOT NULL,
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id)
);
CREATE UNIQUE INDEX uq_brands__name ON brands (community_id, name);

CREATE TABLE brand_tags (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    brand_id BIGINT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('need', 'project', 'ticket')),
    subject_id BIGINT NOT NULL,
    tagged_by BIGINT REFERENCES users (id),
    tagged_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, brand_id, kind, subject_id),
    FOREIGN KEY (community_id, brand_id) REFERENCES brands (community_id, id)
);
