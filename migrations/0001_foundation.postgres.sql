CREATE SEQUENCE id_seq START WITH 1001;

CREATE FUNCTION linli_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION linli_append_only();
CREATE TRIGGER pii_access_log_append_only BEFORE UPDATE OR DELETE ON pii_access_log
    FOR EACH ROW EXECUTE FUNCTION linli_append_only();

-- Name search is a prefix LIKE on PostgreSQL (see db::DbKind::push_prefix).
CREATE INDEX ix_residents_name_pattern ON residents (community_id, name text_pattern_ops);
CREATE INDEX ix_residents_name_all_pattern ON residents (name text_pattern_ops);
