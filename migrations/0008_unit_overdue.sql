-- A unit's overdue post-visit registrations are counted on its 来华申报 page: its dispatched
-- groups by planned departure, from the index alone.
CREATE INDEX groups_unit_departure ON invitation_groups (unit_id, state, departure);
