-- Who is invited to an event whose audience is 'invited' (a meeting of some, a visit for
-- the elderly the grid worker names): only they may sign up.
CREATE TABLE event_invites (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    event_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id),
    invited_by BIGINT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, event_id, user_id),
    FOREIGN KEY (community_id, event_id) REFERENCES events (community_id, id)
);

-- The points rule (its code: the version in force when a session closes) that pays those
-- who come, picked by the organiser among the community's bonus rules; none: no points.
ALTER TABLE events ADD COLUMN attendance_rule TEXT;
