-- The public disclosure page lists the newest gifts of all funds, and paid expenses by when
-- they were paid (waiting ones are few).
CREATE INDEX ix_donations_given ON donations (community_id, given_on);
DROP INDEX ix_expenses_status;
CREATE INDEX ix_expenses_status ON expenses (community_id, status, updated_at);
