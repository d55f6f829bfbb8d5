-- Notifications belong to no capability: a line is about a subject (a kind and an id)
-- instead of a ticket. What was about a ticket keeps its ticket as its subject.
ALTER TABLE notifications ADD COLUMN subject_kind TEXT;
ALTER TABLE notifications ADD COLUMN subject_id BIGINT;
UPDATE notifications SET subject_kind = 'ticket', subject_id = ticket_id WHERE ticket_id IS NOT NULL;
ALTER TABLE notifications DROP COLUMN ticket_id;
CREATE INDEX ix_notifications_unread ON notifications (user_id) WHERE read_at IS NULL;
