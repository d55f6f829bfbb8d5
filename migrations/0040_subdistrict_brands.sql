-- A subdistrict's own brand (seed 004: 洲心街道's 一社区一品牌): its name, story and people,
-- and the communities' brands it brings together; its figures are theirs added up. Both
-- tables are small and global (reference tables on Citus): a member names its community's
-- brand by id, checked when it is added.
CREATE TABLE subdistrict_brands (
    id BIGINT PRIMARY KEY,
    subdistrict_id BIGINT NOT NULL REFERENCES subdistricts (id),
    name TEXT NOT NULL,
    story TEXT NOT NULL,
    people TEXT NOT NULL,
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX uq_subdistrict_brands__name ON subdistrict_brands (subdistrict_id, name);

CREATE TABLE subdistrict_brand_members (
    subdistrict_brand_id BIGINT NOT NULL REFERENCES subdistrict_brands (id),
    member_community_id BIGINT NOT NULL REFERENCES communities (id),
    member_brand_id BIGINT NOT NULL,
    PRIMARY KEY (subdistrict_brand_id, member_community_id, member_brand_id)
);
