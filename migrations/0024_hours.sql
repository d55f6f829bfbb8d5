-- Opening hours that know the national holiday calendar (services::hours).

-- The national calendar: each day that is not what its weekday says, a public holiday
-- (off) or a weekend day worked in exchange 调休 (work). Global and small: one row a day,
-- about forty a year. The platform admin keeps it; shipped for 2026 (the State Council's
-- arrangement of 2025-11-04) and 2027 (the statutory days only, provisional until the
-- State Council announces the year).
CREATE TABLE holidays (
    day DATE PRIMARY KEY,
    special TEXT NOT NULL,
    name TEXT NOT NULL,
    provisional BOOLEAN NOT NULL,
    updated_by BIGINT REFERENCES users (id),
    updated_at BIGINT NOT NULL
);

INSERT INTO holidays (day, special, name, provisional, updated_at) VALUES
    ('2026-01-01', 'off', '元旦', FALSE, 0),
    ('2026-01-02', 'off', '元旦', FALSE, 0),
    ('2026-01-03', 'off', '元旦', FALSE, 0),
    ('2026-01-04', 'work', '元旦', FALSE, 0),
    ('2026-02-14', 'work', '春节', FALSE, 0),
    ('2026-02-15', 'off', '春节', FALSE, 0),
    ('2026-02-16', 'off', '春节', FALSE, 0),
    ('2026-02-17', 'off', '春节', FALSE, 0),
    ('2026-02-18', 'off', '春节', FALSE, 0),
    ('2026-02-19', 'off', '春节', FALSE, 0),
    ('2026-02-20', 'off', '春节', FALSE, 0),
    ('2026-02-21', 'off', '春节', FALSE, 0),
    ('2026-02-22', 'off', '春节', FALSE, 0),
    ('2026-02-23', 'off', '春节', FALSE, 0),
    ('2026-02-28', 'work', '春节', FALSE, 0),
    ('2026-04-04', 'off', '清明节', FALSE, 0),
    ('2026-04-05', 'off', '清明节', FALSE, 0),
    ('2026-04-06', 'off', '清明节', FALSE, 0),
    ('2026-05-01', 'off', '劳动节', FALSE, 0),
    ('2026-05-02', 'off', '劳动节', FALSE, 0),
    ('2026-05-03', 'off', '劳动节', FALSE, 0),
    ('2026-05-04', 'off', '劳动节', FALSE, 0),
    ('2026-05-05', 'off', '劳动节', FALSE, 0),
    ('2026-05-09', 'work', '劳动节', FALSE, 0),
    ('2026-06-19', 'off', '端午节', FALSE, 0),
    ('2026-06-20', 'off', '端午节', FALSE, 0),
    ('2026-06-21', 'off', '端午节', FALSE, 0),
    ('2026-09-20', 'work', '国庆节', FALSE, 0),
    ('2026-09-25', 'off', '中秋节', FALSE, 0),
    ('2026-09-26', 'off', '中秋节', FALSE, 0),
    ('2026-09-27', 'off', '中秋节', FALSE, 0),
    ('2026-10-01', 'off', '国庆节', FALSE, 0),
    ('2026-10-02', 'off', '国庆节', FALSE, 0),
    ('2026-10-03', 'off', '国庆节', FALSE, 0),
    ('2026-10-04', 'off', '国庆节', FALSE, 0),
    ('2026-10-05', 'off', '国庆节', FALSE, 0),
    ('2026-10-06', 'off', '国庆节', FALSE, 0),
    ('2026-10-07', 'off', '国庆节', FALSE, 0),
    ('2026-10-10', 'work', '国庆节', FALSE, 0),
    ('2027-01-01', 'off', '元旦', TRUE, 0),
    ('2027-02-05', 'off', '春节', TRUE, 0),
    ('2027-02-06', 'off', '春节', TRUE, 0),
    ('2027-02-07', 'off', '春节', TRUE, 0),
    ('2027-02-08', 'off', '春节', TRUE, 0),
    ('2027-04-05', 'off', '清明节', TRUE, 0),
    ('2027-05-01', 'off', '劳动节', TRUE, 0),
    ('2027-05-02', 'off', '劳动节', TRUE, 0),
    ('2027-06-09', 'off', '端午节', TRUE, 0),
    ('2027-09-15', 'off', '中秋节', TRUE, 0),
    ('2027-10-01', 'off', '国庆节', TRUE, 0),
    ('2027-10-02', 'off', '国庆节', TRUE, 0),
    ('2027-10-03', 'off', '国庆节', TRUE, 0);

-- Weekly rules of whatever a capability opens (`owner_kind`: a location, a warm station,
-- an appointment type), with dates of validity. Minutes from midnight; Monday is bit 0.
CREATE TABLE opening_hours (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    owner_kind TEXT NOT NULL,
    owner_id BIGINT NOT NULL,
    weekdays BIGINT NOT NULL,
    opens BIGINT NOT NULL,
    closes BIGINT NOT NULL,
    valid_from DATE,
    valid_until DATE,
    on_holidays BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id)
);
CREATE INDEX ix_opening_hours__owner ON opening_hours (community_id, owner_kind, owner_id);

-- A day that differs from the rules: closed (no times) or open at other times.
CREATE TABLE opening_exceptions (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    owner_kind TEXT NOT NULL,
    owner_id BIGINT NOT NULL,
    day DATE NOT NULL,
    opens BIGINT,
    closes BIGINT,
    note TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id)
);
CREATE INDEX ix_opening_exceptions__owner ON opening_exceptions (community_id, owner_kind, owner_id, day);
