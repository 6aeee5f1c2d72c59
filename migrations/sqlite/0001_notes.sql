-- The example resource: each user's notes (see the README to remove it).

CREATE TABLE notes (
    -- Random, URL-safe public id.
    id         TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title      TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE INDEX notes_by_user ON notes (user_id, updated_at);
