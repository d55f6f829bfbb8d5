-- The dictionary of figures counts a month of a community at a time: each table it counts
-- is read by (community, time) with what it counts in the index, never the whole table.
CREATE INDEX ix_tickets_month ON tickets (community_id, created_at, grid_id, status, rating, due_at, resolved_at);
CREATE INDEX ix_ledger_movements_at ON ledger_movements (community_id, at, cause);
CREATE INDEX ix_pledges_created ON pledges (community_id, created_at);
-- Residents are counted per grid among those still registered: from the index alone.
CREATE INDEX ix_residents_live_grid ON residents (community_id, grid_id) WHERE archived_at IS NULL;
