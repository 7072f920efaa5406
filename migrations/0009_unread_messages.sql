-- Every page of a unit counts its unread messages and picks the newest for the reminder: with
-- years of messages (thousands per busy unit) that must read the unread ones only.
CREATE INDEX messages_unread ON messages (unit_id, read_at, deleted_at, created_at);
