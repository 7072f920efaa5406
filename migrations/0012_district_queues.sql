-- A county's queue counts (团组待办 and 销签待办 in the navigation of every staff page) take the
-- groups or registrations in one state and keep those of the district's units: read in state
-- order with the unit beside it, that is a short run of one index plus a lookup of each unit,
-- instead of a seek per unit of the district into the whole table.
CREATE INDEX groups_state_unit ON invitation_groups (state, unit_id);
CREATE INDEX visit_records_state_unit ON visit_records (state, unit_id);
