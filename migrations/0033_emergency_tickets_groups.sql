-- A household's needs recorded in an emergency can become a ticket (capabilities::tickets)
-- in one tap: the check names it, so that it is raised once and the report counts it.
ALTER TABLE welfare_checks ADD COLUMN ticket_id BIGINT;

-- An incident over several communities of a subdistrict: one incident in each community
-- (its checks stay with the community's data, on its shard), gathered by a small global
-- group that the subdistrict commands.
CREATE TABLE incident_groups (
    id BIGINT PRIMARY KEY,
    subdistrict_id BIGINT NOT NULL REFERENCES subdistricts (id),
    title TEXT NOT NULL,
    kind TEXT NOT NULL,
    level TEXT NOT NULL,
    created_by BIGINT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX ix_incident_groups ON incident_groups (subdistrict_id, created_at);
ALTER TABLE incidents ADD COLUMN group_id BIGINT;
