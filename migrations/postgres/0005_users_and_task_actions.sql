-- Users of the web queue, their sessions, machine tokens, task follow-ups and review labels.

CREATE TABLE users (
    id            BIGSERIAL PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    disabled      BIGINT NOT NULL DEFAULT 0
);

-- token_hash and csrf are never the raw session cookie: the cookie value is hashed (sha256).
CREATE TABLE sessions (
    token_hash    TEXT PRIMARY KEY,
    user_id       BIGINT NOT NULL REFERENCES users (id),
    csrf_token    TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    token_hash    TEXT PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
);

-- When to ask "is the customer happy now?", and what the author's next post said.
ALTER TABLE tasks ADD COLUMN follow_up_at_ms BIGINT;
ALTER TABLE tasks ADD COLUMN next_post_id BIGINT;
ALTER TABLE tasks ADD COLUMN next_post_sentiment TEXT;
ALTER TABLE tasks ADD COLUMN recovered BIGINT;

-- Reviewer decisions usable as training data (`earshot model train --extra-train`).
CREATE TABLE labelled_examples (
    id            BIGSERIAL PRIMARY KEY,
    task_id       BIGINT REFERENCES tasks (id),
    post_id       BIGINT NOT NULL REFERENCES posts (id),
    text          TEXT NOT NULL,
    label         TEXT NOT NULL,
    reviewer      TEXT NOT NULL,
    at_ms         BIGINT NOT NULL
);
CREATE INDEX labelled_examples_post ON labelled_examples (post_id);
