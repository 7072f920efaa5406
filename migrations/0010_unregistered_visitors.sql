-- The overdue lists (销签待办, the reminder job) look for visitors of dispatched groups whose
-- post-visit registration has not been submitted. Finding them by walking every dispatched group
-- reads most of the database after a few years (nearly all old visitors are registered), so each
-- visitor carries its group's planned departure while it is unregistered, and NULL otherwise
-- (kept by the store on dispatch, submission and return); the partial index holds only those.
ALTER TABLE group_visitors ADD COLUMN unregistered_departure TEXT;
UPDATE group_visitors SET unregistered_departure = CASE
    WHEN EXISTS (SELECT 1 FROM visit_records r WHERE r.visitor_id = group_visitors.id
                 AND r.state NOT IN ('entered', 'draft', 'returned')) THEN NULL
    ELSE (SELECT g.departure FROM invitation_groups g
          WHERE g.id = group_visitors.group_id AND g.state = 'dispatched') END;
CREATE INDEX visitors_unregistered ON group_visitors (unregistered_departure)
    WHERE unregistered_departure IS NOT NULL;
