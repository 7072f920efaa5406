-- A county's 销签待办 count (in the navigation of every staff page) joins the district's units
-- to their registrations in one state: with only (unit_id) that read every registration of the
-- district (hundreds of thousands after a few years).
CREATE INDEX visit_records_unit_state ON visit_records (unit_id, state);
DROP INDEX visit_records_unit;
