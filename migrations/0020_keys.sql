-- Issue 18: the keys of the personal data's encryption are kept in a key file outside the
-- database; the database keeps a check value of each data key (an HMAC-SM3 of a fixed text
-- under the key), so that a server given a missing or different key file refuses to start.
CREATE TABLE data_keys (
    number BIGINT PRIMARY KEY,
    check_value TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- The keyed part of the audit chain: each entry's link is HMAC-SM3, under the audit key of the
-- key file, of the previous link and the entry's SHA-256 hash. Entries written before this
-- migration have none; the chain head keeps the last link.
ALTER TABLE audit_log ADD COLUMN link TEXT;
ALTER TABLE audit_chain ADD COLUMN last_link TEXT;
