-- Two-factor authentication: an authenticator (TOTP) per user, its recovery codes, and on every
-- session whether its sign-in passed a second factor.

-- 1 when the session's sign-in passed a second factor (a code or a recovery code).
ALTER TABLE sessions ADD COLUMN mfa INTEGER NOT NULL DEFAULT 0;
ALTER TABLE session_history ADD COLUMN mfa INTEGER NOT NULL DEFAULT 0;

CREATE TABLE two_factor (
    user_id         INTEGER NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    -- The TOTP secret sealed with the app's key (a nonce, then XChaCha20-Poly1305): a database
    -- dump alone yields no code.
    secret          BLOB    NOT NULL,
    -- 0 while set up but not confirmed with a code; 1 once on.
    enabled         INTEGER NOT NULL DEFAULT 0,
    -- The last time step whose code was accepted: a code is good once, and never an older one.
    last_step       INTEGER,
    created_at      INTEGER NOT NULL
);

-- Single-use recovery codes, as SHA-256 hashes; a used one is deleted.
CREATE TABLE recovery_codes (
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash       BLOB    NOT NULL,
    PRIMARY KEY (user_id, code_hash)
);

-- Half-done sign-ins of the login form: the password was right, the second factor is still to
-- come. Found by the SHA-256 of a random handle that only the browser's cookie holds, and held
-- for mfa_pending_lifetime seconds. Never the password: a fingerprint (SHA-256) of the password
-- hash it was checked against, so that a password changed meanwhile voids it.
CREATE TABLE mfa_pending (
    handle_hash     BLOB PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    password_print  BLOB NOT NULL,
    -- The name the sign-in gives its session, if any.
    name            TEXT,
    expires_at      INTEGER NOT NULL
);

CREATE INDEX mfa_pending_by_expiry ON mfa_pending (expires_at);
