-- Sign-ups per client, for signup_max_per_ip: one row per sign-up that counts, deleted by the
-- sweep once it is an hour old.

CREATE TABLE signups (
    -- The client, keyed as the login throttle keys it: 'ip:<IPv4 address>' or 'ip:<IPv6 /64>'
    key     TEXT    NOT NULL,
    at      INTEGER NOT NULL,
    -- Random: to withdraw the row of a sign-up that the server could not finish
    attempt TEXT    NOT NULL
);

CREATE INDEX signups_by_key ON signups (key, at);
CREATE INDEX signups_by_attempt ON signups (attempt);
CREATE INDEX signups_by_time ON signups (at);
