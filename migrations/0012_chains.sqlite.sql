-- Append-only, but a row may be linked into its chain once (in the transaction that
-- writes it, or at the first start for rows written before chains).
DROP TRIGGER audit_log_append_only_u;
CREATE TRIGGER audit_log_append_only_u BEFORE UPDATE ON audit_log WHEN OLD.hash IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER ledger_movements_append_only_u BEFORE UPDATE ON ledger_movements WHEN OLD.hash IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'ledger_movements is append-only'); END;
CREATE TRIGGER ledger_movements_append_only_d BEFORE DELETE ON ledger_movements
BEGIN SELECT RAISE(ABORT, 'ledger_movements is append-only'); END;
