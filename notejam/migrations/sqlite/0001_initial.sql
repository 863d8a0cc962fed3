-- The same schema as migrations/postgres, in SQLite's dialect: AUTOINCREMENT keeps
-- ids of deleted rows from being handed out again, as PostgreSQL identities do.
-- Times are Unix milliseconds (UTC).
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE pads (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name    TEXT    NOT NULL,
    UNIQUE (id, user_id)
);
CREATE INDEX pads_user_id ON pads (user_id);

CREATE TABLE notes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    pad_id     INTEGER,
    name       TEXT    NOT NULL,
    text       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    FOREIGN KEY (pad_id, user_id) REFERENCES pads (id, user_id) ON DELETE CASCADE
);
CREATE INDEX notes_user_id_updated_at ON notes (user_id, updated_at);
CREATE INDEX notes_pad_id ON notes (pad_id);
