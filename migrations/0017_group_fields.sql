-- Issue 16, fields: the group's size and itinerary (在华日程), and per visitor the visa type
-- applied for (拟申请签证种类), the days per stay (停留期限) and the employer's address.
-- Groups saved before have none of these: their size is NULL, their itinerary empty and the
-- visitors' new columns blank; the form asks for them when the group is next saved, and printing
-- and showing an old group leave them blank. The visa types are reference data (`codes`, kind
-- 'visa_type'), seeded at start-up like the other code lists.
ALTER TABLE invitation_groups ADD COLUMN group_size BIGINT;
ALTER TABLE group_visitors ADD COLUMN visa_type TEXT NOT NULL DEFAULT '';
ALTER TABLE group_visitors ADD COLUMN stay_days BIGINT;
ALTER TABLE group_visitors ADD COLUMN employer_country TEXT NOT NULL DEFAULT '';
ALTER TABLE group_visitors ADD COLUMN employer_city TEXT NOT NULL DEFAULT '';
ALTER TABLE group_visitors ADD COLUMN employer_address TEXT NOT NULL DEFAULT '';
-- Rows in date order (seq 1..N); deleted with their group (a draft deleted by its unit).
CREATE TABLE group_itinerary (
    id {ID},
    group_id BIGINT NOT NULL REFERENCES invitation_groups(id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    day TEXT NOT NULL,
    city TEXT NOT NULL,
    activity TEXT NOT NULL,
    host TEXT NOT NULL
);
CREATE INDEX itinerary_group ON group_itinerary (group_id, seq);
