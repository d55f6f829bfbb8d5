-- Numbers handed out in series (volunteer numbers, a proposal's rounds, a project's
-- milestones, a rule's versions) come from one row per series, taken with an upsert:
-- two writers at once get two numbers, on SQLite and PostgreSQL alike.
CREATE TABLE counters (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    series TEXT NOT NULL,
    value BIGINT NOT NULL CHECK (value > 0),
    PRIMARY KEY (community_id, series)
);

-- A handover code names one redemption while it is held. Codes held twice (a chance of
-- one in a hundred million) keep the first; the later ones are made distinct.
UPDATE redemptions SET code = code || '-' || CAST(id AS TEXT)
WHERE status = 'held' AND EXISTS (
    SELECT 1 FROM redemptions r2
    WHERE r2.community_id = redemptions.community_id AND r2.code = redemptions.code
      AND r2.status = 'held' AND r2.id < redemptions.id
);
CREATE UNIQUE INDEX uq_redemptions__held_code ON redemptions (community_id, code) WHERE status = 'held';

-- Sign-in throttling kept what was typed (a mobile number, often); it now keeps a keyed
-- hash of it. What was counted before is let go.
DELETE FROM login_failures;
