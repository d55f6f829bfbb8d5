CREATE TRIGGER points_movements_append_only_u BEFORE UPDATE ON points_movements
BEGIN SELECT RAISE(ABORT, 'points_movements is append-only'); END;
CREATE TRIGGER points_movements_append_only_d BEFORE DELETE ON points_movements
BEGIN SELECT RAISE(ABORT, 'points_movements is append-only'); END;
