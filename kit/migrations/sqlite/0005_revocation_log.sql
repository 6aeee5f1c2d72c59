-- Revoked token hashes, for servers on the same SQLite file to evict from their caches (the
-- command line's revoke, a second server). Kept for a minute: past that, every cache entry has
-- been read again from the sessions table anyway.

CREATE TABLE revocation_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash BLOB    NOT NULL,
    revoked_at INTEGER NOT NULL
);

CREATE INDEX revocation_log_by_time ON revocation_log (revoked_at);
