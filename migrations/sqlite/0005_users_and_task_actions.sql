-- Users of the web queue, their sessions, machine tokens, task follow-ups and review labels.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0
);

-- token_hash and csrf are never the raw session cookie: the cookie value is hashed (sha256).
CREATE TABLE sessions (
    token_hash    TEXT PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id),
    csrf_token    TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    token_hash    TEXT PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL
);

-- When to ask "is the customer happy now?", and what the author's next post said.
ALTER TABLE tasks ADD COLUMN follow_up_at_ms INTEGER;
ALTER TABLE tasks ADD COLUMN next_post_id INTEGER;
ALTER TABLE tasks ADD COLUMN next_post_sentiment TEXT;
ALTER TABLE tasks ADD COLUMN recovered INTEGER;

-- Reviewer decisions usable as training data (`earshot model train --extra-train`).
CREATE TABLE labelled_examples (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id       INTEGER REFERENCES tasks (id),
    post_id       INTEGER NOT NULL REFERENCES posts (id),
    text          TEXT NOT NULL,
    label         TEXT NOT NULL,
    reviewer      TEXT NOT NULL,
    at_ms         INTEGER NOT NULL
);
CREATE INDEX labelled_examples_post ON labelled_examples (post_id);
