-- Attempts limited atomically (sign-in, current password, second factor, SMS codes, the
-- registration's login-ID check). One row per limit and subject: each attempt reserves a
-- slot in one statement before anything is checked; a success may give it back. See
-- domain::account for the limits and the policy.
CREATE TABLE attempts (
    scope TEXT NOT NULL,
    subject TEXT NOT NULL,
    n BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (scope, subject)
);
CREATE INDEX attempts_expiry ON attempts (expires_at);

-- Addresses an account signed in from: a lock of the account does not apply there (each such
-- address has its own limit), so that guesses from elsewhere cannot keep its owner out.
CREATE TABLE known_addresses (
    user_id BIGINT NOT NULL REFERENCES users(id),
    ip TEXT NOT NULL,
    last_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, ip)
);

-- The failure counter of sign-ins moved to attempts.
DROP TABLE login_failures;
