-- dbinit:up
CREATE TABLE users (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE notes (
    id      INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    body    TEXT NOT NULL
);

CREATE INDEX notes_user_id ON notes (user_id);

-- dbinit:down
DROP TABLE notes;
DROP TABLE users;
