-- The security activity log: one row per security event of a user, written in the transaction
-- of the action itself. Kept for activity_retention seconds. `network` is the client's IPv4 /24
-- or IPv6 /64 on sign-ins, for new-device detection; `detail` is a JSON object.

CREATE TABLE activity (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type       TEXT    NOT NULL,
    at         INTEGER NOT NULL,
    ip         TEXT,
    device     TEXT,
    network    TEXT,
    session_id TEXT,
    detail     TEXT    NOT NULL DEFAULT '{}'
);

CREATE INDEX activity_by_user ON activity (user_id, id);
CREATE INDEX activity_sign_ins ON activity (user_id, device, network) WHERE type = 'sign_in';
CREATE INDEX activity_by_time ON activity (at);
