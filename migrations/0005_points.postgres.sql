CREATE TRIGGER points_movements_append_only BEFORE UPDATE OR DELETE ON points_movements
    FOR EACH ROW EXECUTE FUNCTION linli_append_only();
