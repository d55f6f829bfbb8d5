-- A name search over a whole subdistrict counts from this index alone (an index-only scan).
CREATE INDEX ix_residents_name_live ON residents (community_id, name text_pattern_ops, id) WHERE archived_at IS NULL;
