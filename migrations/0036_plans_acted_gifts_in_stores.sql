-- Plans 预案 acted on (capabilities::emergency): the one on call is told when an incident
-- of the plan's kind is activated, and the plan's tasks become the incident's tasks, each
-- marked done by someone at some time.
ALTER TABLE incident_plans ADD COLUMN on_call_user_id BIGINT REFERENCES users (id);

CREATE TABLE incident_tasks (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    incident_id BIGINT NOT NULL,
    title TEXT NOT NULL,
    done_by BIGINT REFERENCES users (id),
    done_at BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, incident_id) REFERENCES incidents (community_id, id)
);
CREATE UNIQUE INDEX uq_incident_tasks__title ON incident_tasks (community_id, incident_id, title);

-- A gift in kind 实物捐赠 (capabilities::money) may go into a relief store: a batch of it
-- then names the store it went to instead of a household or a project.
ALTER TABLE goods_out ADD COLUMN to_store TEXT;
