-- A partner unit's service may also be a reward of the points shop (capabilities::points):
-- the listing names that reward, and its public page says it can be had for points.
-- Checked by the record engine within the community, and by the directory's rule that the
-- reward is a service of the listing's own provider.
ALTER TABLE listings ADD COLUMN reward_id BIGINT;
