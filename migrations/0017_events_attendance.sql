-- Events, the rest (issue 15): sign-up that needs approval, events for one team, classes
-- made by a recurrence rule (RRULE) whose sessions move or are called off alone, who
-- serves as a volunteer, walk-ins, check-out, no-shows, ratings and the report, each scan's
-- idempotency key, and private calendar feeds.

ALTER TABLE events ADD COLUMN needs_approval BOOLEAN NOT NULL DEFAULT FALSE;
-- For audience 'team': the team whose members may sign up.
ALTER TABLE events ADD COLUMN team_id BIGINT;
-- Minutes or a short report, written after the event.
ALTER TABLE events ADD COLUMN report TEXT;

-- The RRULE a class's session was made from, the start it had before it was moved, and
-- when it was closed (no-shows marked, volunteers' service recorded).
ALTER TABLE event_sessions ADD COLUMN rule TEXT;
ALTER TABLE event_sessions ADD COLUMN moved_from BIGINT;
ALTER TABLE event_sessions ADD COLUMN closed_at BIGINT;

ALTER TABLE event_signups ADD COLUMN role TEXT NOT NULL DEFAULT 'participant';
ALTER TABLE event_signups ADD COLUMN walk_in BOOLEAN NOT NULL DEFAULT FALSE;
-- Given a seat from the waitlist.
ALTER TABLE event_signups ADD COLUMN promoted BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE event_signups ADD COLUMN checked_out_at BIGINT;
ALTER TABLE event_signups ADD COLUMN no_show BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE event_signups ADD COLUMN rating BIGINT;
ALTER TABLE event_signups ADD COLUMN comment TEXT;

-- Each scan at the door carries its own key: a scan sent twice (a phone that was offline
-- sends its queue again) is answered from here, not counted twice.
CREATE TABLE event_scans (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    scan_key TEXT NOT NULL,
    signup_id BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, scan_key),
    FOREIGN KEY (community_id, signup_id) REFERENCES event_signups (community_id, id)
);

-- A person's private calendar feed: the token's SHA-256 (the token is only in the URL).
CREATE TABLE event_feed_tokens (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    token_hash TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    PRIMARY KEY (community_id, token_hash)
);
CREATE INDEX ix_event_feed_tokens__user ON event_feed_tokens (community_id, user_id);
