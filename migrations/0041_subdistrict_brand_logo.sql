-- A subdistrict brand's logo: its JPEG thumbnail (at most 320 px, a few tens of KB) kept
-- in its row, since photos belong to a community and this brand to none; `logo_at` says
-- when it was set (none: no logo) and makes its address change with it.
ALTER TABLE subdistrict_brands ADD COLUMN logo BYTEA;
ALTER TABLE subdistrict_brands ADD COLUMN logo_at BIGINT;
