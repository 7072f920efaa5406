-- Tamper evidence for the audit log (issue 6): each entry carries the hash of the previous one.
-- Entries written before this migration have no hash; the check starts after them.

ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN hash TEXT;

-- The head of the chain: one row, locked by every writer so that entries chain in order.
CREATE TABLE audit_chain (
    id BIGINT PRIMARY KEY,
    last_hash TEXT NOT NULL
);
INSERT INTO audit_chain (id, last_hash) VALUES (1, 'genesis');

CREATE INDEX audit_action ON audit_log (action, at);
CREATE INDEX audit_actor ON audit_log (actor_user_id, at);
