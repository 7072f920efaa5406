-- Issue 19: personal access tokens of the JSON API (/api/v1). A unit's clerk creates them on
-- the account page: named, expiring, revocable. Only the token's SHA-256 is kept (the token
-- is shown once); every use is an audit entry, and the last use is kept here for the list.
CREATE TABLE api_tokens (
    id {ID},
    user_id BIGINT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    -- The first characters of the token, to tell tokens apart in the list and the audit log.
    prefix TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    last_used_at BIGINT,
    last_used_ip TEXT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id, id);
