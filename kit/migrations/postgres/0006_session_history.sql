-- Ended sessions, kept for history_retention seconds with why they ended. A session that ends
-- moves here from `sessions` in the transaction that ends it, without its token hash: the live
-- table holds live rows only, so however many ended rows pile up here, validating a token costs
-- the same one indexed lookup.

CREATE TABLE session_history (
    id           TEXT    PRIMARY KEY,
    user_id      BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL,
    name         TEXT,
    user_agent   TEXT,
    device       TEXT    NOT NULL,
    ip           TEXT,
    created_at   BIGINT  NOT NULL,
    last_used_at BIGINT  NOT NULL,
    expires_at   BIGINT,
    scopes       TEXT,
    last_ip      TEXT,
    ended_at     BIGINT  NOT NULL,
    end_reason   TEXT    NOT NULL CHECK (end_reason IN ('logout', 'logout_all', 'revoked',
                     'revoked_others', 'password_changed', 'evicted', 'expired', 'idle', 'admin'))
);

CREATE INDEX session_history_by_user ON session_history (user_id, ended_at);
CREATE INDEX session_history_by_time ON session_history (ended_at);
