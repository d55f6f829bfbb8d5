-- A community's settings, one row per setting a capability declares
-- (services::settings), instead of a column on communities for each. The values set so
-- far move over; a setting left at its default needs no row.
CREATE TABLE settings (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, key)
);
INSERT INTO settings (community_id, key, value, updated_at)
SELECT id, 'tickets:reopen_limit', CAST(ticket_reopen_limit AS TEXT), updated_at FROM communities WHERE ticket_reopen_limit <> 2;
INSERT INTO settings (community_id, key, value, updated_at)
SELECT id, 'tickets:autoclose_days', CAST(ticket_autoclose_days AS TEXT), updated_at FROM communities WHERE ticket_autoclose_days <> 7;
INSERT INTO settings (community_id, key, value, updated_at)
SELECT id, 'participation:min_activity', CAST(participation_min_activity AS TEXT), updated_at FROM communities WHERE participation_min_activity <> 2;
INSERT INTO settings (community_id, key, value, updated_at)
SELECT id, 'council:voters', council_voters, updated_at FROM communities WHERE council_voters <> 'household';
INSERT INTO settings (community_id, key, value, updated_at)
SELECT id, 'council:quorum_pct', CAST(council_quorum_pct AS TEXT), updated_at FROM communities WHERE council_quorum_pct <> 50;
INSERT INTO settings (community_id, key, value, updated_at)
SELECT id, 'council:majority_pct', CAST(council_majority_pct AS TEXT), updated_at FROM communities WHERE council_majority_pct <> 50;
INSERT INTO settings (community_id, key, value, updated_at)
SELECT id, 'council:secret', CASE WHEN council_secret THEN 'true' ELSE 'false' END, updated_at FROM communities WHERE NOT council_secret;
ALTER TABLE communities DROP COLUMN ticket_reopen_limit;
ALTER TABLE communities DROP COLUMN ticket_autoclose_days;
ALTER TABLE communities DROP COLUMN participation_min_activity;
ALTER TABLE communities DROP COLUMN council_voters;
ALTER TABLE communities DROP COLUMN council_quorum_pct;
ALTER TABLE communities DROP COLUMN council_majority_pct;
ALTER TABLE communities DROP COLUMN council_secret;
