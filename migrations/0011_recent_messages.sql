-- A unit's newest messages (首页 shows five, 消息中心 pages through them), newest first: an index
-- in that order, so that neither database sorts years of messages (PostgreSQL cannot use the
-- older (unit_id, deleted_at, created_at) index for the order with `deleted_at IS NULL`).
CREATE INDEX messages_recent ON messages (unit_id, created_at, id) WHERE deleted_at IS NULL;
