-- Posts 岗位 of community staff (小区秘书, 外勤员, 片区秘书) and the compound or zone each looks after.
ALTER TABLE users ADD COLUMN post TEXT CHECK (post IN ('compound_secretary', 'field_worker', 'zone_secretary'));
ALTER TABLE users ADD COLUMN post_place_id BIGINT;
