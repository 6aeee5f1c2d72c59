-- Users, sessions (one row per device or client) and failed-login records.
-- Timestamps are Unix seconds (UTC); flags are 0/1 integers, so the same SQL serves PostgreSQL.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT    NOT NULL,
    -- Lower-cased username: uniqueness and login are case-insensitive.
    username_key  TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

CREATE TABLE sessions (
    -- Public id: random, URL-safe, shown to the user; never the secret.
    id           TEXT    PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- SHA-256 of the token text; the token itself is never stored.
    token_hash   BLOB    NOT NULL UNIQUE,
    kind         TEXT    NOT NULL CHECK (kind IN ('api', 'browser')),
    name         TEXT,
    user_agent   TEXT,
    device       TEXT    NOT NULL,
    ip           TEXT,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    -- Absolute end of the session; NULL when session_lifetime is 0 (never).
    expires_at   INTEGER
);

CREATE INDEX sessions_by_user ON sessions (user_id, last_used_at);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
CREATE INDEX sessions_by_last_use ON sessions (last_used_at);

CREATE TABLE login_failures (
    -- 'user:<username_key>' or 'ip:<address>'
    key       TEXT    NOT NULL,
    failed_at INTEGER NOT NULL
);

CREATE INDEX login_failures_by_key ON login_failures (key, failed_at);
CREATE INDEX login_failures_by_time ON login_failures (failed_at);
