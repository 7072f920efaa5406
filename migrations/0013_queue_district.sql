-- A group and a post-visit registration carry the district of their unit, so that a county's
-- queues (counted in the navigation of every staff page, and listed in 团组待办 and 销签待办) are
-- one short range of an index on (state, district, submission) instead of every waiting row of
-- the city with a lookup of its unit. The store sets it on insert and rewrites it, in the same
-- transaction, when a unit's registration changes district.
ALTER TABLE invitation_groups ADD COLUMN district_id BIGINT NOT NULL DEFAULT 0;
UPDATE invitation_groups SET district_id = (SELECT u.district_id FROM units u WHERE u.id = invitation_groups.unit_id);
ALTER TABLE visit_records ADD COLUMN district_id BIGINT NOT NULL DEFAULT 0;
UPDATE visit_records SET district_id = (SELECT u.district_id FROM units u WHERE u.id = visit_records.unit_id);
DROP INDEX groups_state_unit;
DROP INDEX visit_records_state_unit;
CREATE INDEX groups_district_queue ON invitation_groups (state, district_id, submitted_at, id);
CREATE INDEX visit_records_district_queue ON visit_records (state, district_id, submitted_at, id);
