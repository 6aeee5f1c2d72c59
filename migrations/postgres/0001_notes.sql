-- The example resource: each user's notes (see the README to remove it).

CREATE TABLE notes (
    -- Random, URL-safe public id.
    id         TEXT    PRIMARY KEY,
    user_id    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title      TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL
);

CREATE INDEX notes_by_user ON notes (user_id, updated_at);
