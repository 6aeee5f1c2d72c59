-- Email addresses, one-time links (verification and password reset) and the mails that carry
-- them, counted per hour for mail_max_per_hour.

-- The address as stored: trimmed, its domain lower-cased (the local part keeps its case, which
-- a mail server may honour). NULL when the user has none.
ALTER TABLE users ADD COLUMN email TEXT;
-- The whole address lower-cased: uniqueness and sign-in by address are case-insensitive.
ALTER TABLE users ADD COLUMN email_key TEXT;
-- 1 once a link mailed to the address was used.
ALTER TABLE users ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 0;
-- A new address waiting for its verification link; it replaces email when that link is used.
ALTER TABLE users ADD COLUMN pending_email TEXT;

CREATE UNIQUE INDEX users_by_email_key ON users (email_key);

CREATE TABLE email_links (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL CHECK (kind IN ('verify', 'reset')),
    -- SHA-256 of the token text; the token itself is only ever in the mail.
    token_hash BLOB    NOT NULL UNIQUE,
    -- The address the link was mailed to.
    email      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

-- A link is deleted when used, when a newer one of its kind is issued, when the password
-- changes, and by the sweep once expired.
CREATE INDEX email_links_by_user ON email_links (user_id, kind);
CREATE INDEX email_links_by_expiry ON email_links (expires_at);

-- Mails that carry a link, one row each, deleted by the sweep once an hour old.
CREATE TABLE mail_sends (
    -- 'email:<lower-cased address>' or 'ip:<IPv4 address>' / 'ip:<IPv6 /64>'
    key     TEXT    NOT NULL,
    sent_at INTEGER NOT NULL
);

CREATE INDEX mail_sends_by_key ON mail_sends (key, sent_at);
CREATE INDEX mail_sends_by_time ON mail_sends (sent_at);
