-- A completed password reset ends every session of the user with its own end reason,
-- `password_reset`. SQLite cannot alter a CHECK constraint: the table is rebuilt with the new
-- list, its rows copied, and its indexes made again.

CREATE TABLE session_history_new (
    id           TEXT    PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL,
    name         TEXT,
    user_agent   TEXT,
    device       TEXT    NOT NULL,
    ip           TEXT,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    expires_at   INTEGER,
    scopes       TEXT,
    last_ip      TEXT,
    ended_at     INTEGER NOT NULL,
    end_reason   TEXT    NOT NULL CHECK (end_reason IN ('logout', 'logout_all', 'revoked',
                     'revoked_others', 'password_changed', 'password_reset', 'evicted',
                     'expired', 'idle', 'admin'))
);

INSERT INTO session_history_new
    (id, user_id, kind, name, user_agent, device, ip, created_at, last_used_at, expires_at,
     scopes, last_ip, ended_at, end_reason)
SELECT id, user_id, kind, name, user_agent, device, ip, created_at, last_used_at, expires_at,
       scopes, last_ip, ended_at, end_reason
FROM session_history;

DROP TABLE session_history;
ALTER TABLE session_history_new RENAME TO session_history;

CREATE INDEX session_history_by_user ON session_history (user_id, ended_at);
CREATE INDEX session_history_by_time ON session_history (ended_at);
