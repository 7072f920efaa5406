-- The second sign-in factor (TOTP, RFC 6238) of an account and its one-time recovery codes.
--
-- `secret` is the TOTP key in base32. It must be read back to check a code, so it cannot be
-- hashed like a password; it is never written to the audit log or the server log. (Encrypting
-- it at rest under a key kept outside the database belongs with the personal data.)
-- A row without `enrolled_at` is an enrolment under way: its secret has been shown but not yet
-- confirmed with a code. `last_step` is the newest time step whose code was accepted (a code is
-- accepted once). Guesses are limited in `attempts` (scope `second_factor`, subject the user id).
CREATE TABLE second_factors (
    user_id BIGINT PRIMARY KEY REFERENCES users(id),
    secret TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    enrolled_at BIGINT,
    last_step BIGINT NOT NULL DEFAULT 0
);

-- Recovery codes: an HMAC of each code under the server secret; `used_at` once it was used.
CREATE TABLE recovery_codes (
    user_id BIGINT NOT NULL REFERENCES users(id),
    code_hash TEXT NOT NULL,
    used_at BIGINT,
    PRIMARY KEY (user_id, code_hash)
);
