-- Personal access tokens (kind 'token') with scopes, sudo mode, and the address of last use.

ALTER TABLE sessions DROP CONSTRAINT sessions_kind_check;
ALTER TABLE sessions ADD CONSTRAINT sessions_kind_check
    CHECK (kind IN ('api', 'browser', 'token'));

-- Space-separated scope names of a personal token; NULL for full access (a sign-in).
ALTER TABLE sessions ADD COLUMN scopes TEXT;
-- A personal token's lifetime in days, so that regenerating it restarts the same length.
ALTER TABLE sessions ADD COLUMN token_days BIGINT;
-- Until when the session is in sudo mode (a recent password check); NULL when never.
ALTER TABLE sessions ADD COLUMN sudo_until BIGINT;
-- Client IP of the most recent use, written with last_used_at.
ALTER TABLE sessions ADD COLUMN last_ip TEXT;
UPDATE sessions SET last_ip = ip;
