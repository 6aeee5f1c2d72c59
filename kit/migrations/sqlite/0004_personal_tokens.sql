-- Personal access tokens (kind 'token') with scopes, sudo mode, and the address of last use.
-- SQLite cannot change a CHECK constraint in place, so the sessions table is rebuilt.

CREATE TABLE sessions_next (
    id           TEXT    PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   BLOB    NOT NULL UNIQUE,
    kind         TEXT    NOT NULL CHECK (kind IN ('api', 'browser', 'token')),
    name         TEXT,
    user_agent   TEXT,
    device       TEXT    NOT NULL,
    ip           TEXT,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    expires_at   INTEGER,
    -- Space-separated scope names of a personal token; NULL for full access (a sign-in).
    scopes       TEXT,
    -- A personal token's lifetime in days, so that regenerating it restarts the same length.
    token_days   INTEGER,
    -- Until when the session is in sudo mode (a recent password check); NULL when never.
    sudo_until   INTEGER,
    -- Client IP of the most recent use, written with last_used_at.
    last_ip      TEXT
);

INSERT INTO sessions_next (id, user_id, token_hash, kind, name, user_agent, device, ip,
                           created_at, last_used_at, expires_at, last_ip)
SELECT id, user_id, token_hash, kind, name, user_agent, device, ip,
       created_at, last_used_at, expires_at, ip
FROM sessions;

DROP TABLE sessions;

ALTER TABLE sessions_next RENAME TO sessions;

CREATE INDEX sessions_by_user ON sessions (user_id, last_used_at);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
CREATE INDEX sessions_by_last_use ON sessions (last_used_at);
