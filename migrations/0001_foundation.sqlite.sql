CREATE TABLE id_seq (value BIGINT NOT NULL);
INSERT INTO id_seq (value) VALUES (1000);

CREATE TRIGGER audit_log_append_only_u BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_append_only_d BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER pii_access_log_append_only_u BEFORE UPDATE ON pii_access_log
BEGIN SELECT RAISE(ABORT, 'pii_access_log is append-only'); END;
CREATE TRIGGER pii_access_log_append_only_d BEFORE DELETE ON pii_access_log
BEGIN SELECT RAISE(ABORT, 'pii_access_log is append-only'); END;
