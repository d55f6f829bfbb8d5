-- Movements that do not say why (no reason or no author where their cause needs one):
-- none are written, so this index holds nothing, and `linli ledger verify` finds any that
-- turn up at once instead of reading every movement's reason.
CREATE INDEX ix_ledger_movements_unexplained ON ledger_movements (community_id, cause)
    WHERE reason IS NULL OR reason = '' OR author_id IS NULL;
