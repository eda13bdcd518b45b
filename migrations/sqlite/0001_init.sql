-- earshot schema, version 1 (SQLite). Times are Unix milliseconds (INTEGER), flags 0/1.
-- postgres/0001_init.sql is the same logical schema; keep them in step.

CREATE TABLE brands (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    threshold     REAL NOT NULL,
    settings_json TEXT NOT NULL,
    active        INTEGER NOT NULL DEFAULT 1,
    updated_at_ms INTEGER NOT NULL
);

CREATE TABLE sources (
    id            TEXT PRIMARY KEY,
    brand_id      TEXT NOT NULL REFERENCES brands (id),
    kind          TEXT NOT NULL,
    schedule      TEXT NOT NULL,
    active        INTEGER NOT NULL DEFAULT 1,
    updated_at_ms INTEGER NOT NULL
);

-- Where each source stopped, and how its polls have gone. The cursor is written in the same
-- transaction as the posts it covers.
CREATE TABLE source_state (
    source_id            TEXT PRIMARY KEY REFERENCES sources (id),
    cursor               TEXT,
    cursor_updated_at_ms INTEGER,
    last_poll_at_ms      INTEGER,
    last_success_at_ms   INTEGER,
    last_error           TEXT,
    last_error_kind      TEXT,
    last_error_at_ms     INTEGER,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    last_poll_new        INTEGER,
    total_new            INTEGER NOT NULL DEFAULT 0
);

-- A post as published. The same post found by two brands' sources is stored once.
CREATE TABLE posts (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    platform         TEXT NOT NULL,
    external_id      TEXT NOT NULL,
    author_handle    TEXT NOT NULL,
    author_name      TEXT,
    author_followers INTEGER,
    text             TEXT NOT NULL,
    url              TEXT,
    lang             TEXT,
    created_at_ms    INTEGER NOT NULL,
    first_seen_at_ms INTEGER NOT NULL,
    likes            INTEGER NOT NULL DEFAULT 0,
    reposts          INTEGER NOT NULL DEFAULT 0,
    replies          INTEGER NOT NULL DEFAULT 0,
    quotes           INTEGER NOT NULL DEFAULT 0,
    conversation_id  TEXT,
    in_reply_to      TEXT,
    UNIQUE (platform, external_id)
);
CREATE INDEX posts_author ON posts (platform, author_handle, created_at_ms);

-- A post as it concerns one brand.
CREATE TABLE mentions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    post_id     INTEGER NOT NULL REFERENCES posts (id),
    brand_id    TEXT NOT NULL REFERENCES brands (id),
    source_id   TEXT NOT NULL REFERENCES sources (id),
    found_at_ms INTEGER NOT NULL,
    UNIQUE (post_id, brand_id)
);
CREATE INDEX mentions_brand_found ON mentions (brand_id, found_at_ms);

-- The model's view of a post (status 'scored' or 'unscored' with a reason).
CREATE TABLE sentiments (
    post_id      INTEGER PRIMARY KEY REFERENCES posts (id),
    status       TEXT NOT NULL,
    label        TEXT,
    negative     REAL,
    neutral      REAL,
    positive     REAL,
    model        TEXT,
    language     TEXT,
    reason       TEXT,
    scored_at_ms INTEGER NOT NULL
);

CREATE TABLE tasks (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    brand_id             TEXT NOT NULL REFERENCES brands (id),
    platform             TEXT NOT NULL,
    author_handle        TEXT NOT NULL,
    conversation_key     TEXT,
    status               TEXT NOT NULL,
    priority             INTEGER NOT NULL,
    criticality          REAL NOT NULL,
    assignee             TEXT,
    opened_at_ms         INTEGER NOT NULL,
    due_at_ms            INTEGER NOT NULL,
    first_response_at_ms INTEGER,
    resolved_at_ms       INTEGER,
    dismissed_reason     TEXT,
    last_activity_at_ms  INTEGER NOT NULL,
    updated_at_ms        INTEGER NOT NULL
);
CREATE INDEX tasks_queue ON tasks (status, priority, due_at_ms);
CREATE INDEX tasks_conversation ON tasks (brand_id, platform, author_handle, status);

-- The criticality of a mention for its brand, and the task it opened or joined.
CREATE TABLE assessments (
    mention_id     INTEGER PRIMARY KEY REFERENCES mentions (id),
    criticality    REAL NOT NULL,
    factors_json   TEXT NOT NULL,
    flagged        INTEGER NOT NULL,
    task_id        INTEGER REFERENCES tasks (id),
    assessed_at_ms INTEGER NOT NULL
);
CREATE INDEX assessments_task ON assessments (task_id);

CREATE TABLE task_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id     INTEGER NOT NULL REFERENCES tasks (id),
    at_ms       INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    detail_json TEXT NOT NULL
);
CREATE INDEX task_events_task ON task_events (task_id, at_ms);

-- Alerts waiting to be delivered. dedup_key makes enqueueing idempotent.
CREATE TABLE alert_outbox (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    dedup_key          TEXT NOT NULL UNIQUE,
    kind               TEXT NOT NULL,
    brand_id           TEXT REFERENCES brands (id),
    task_id            INTEGER REFERENCES tasks (id),
    payload_json       TEXT NOT NULL,
    created_at_ms      INTEGER NOT NULL,
    status             TEXT NOT NULL DEFAULT 'pending',
    attempts           INTEGER NOT NULL DEFAULT 0,
    next_attempt_at_ms INTEGER NOT NULL,
    last_error         TEXT,
    delivered_at_ms    INTEGER
);
CREATE INDEX alert_outbox_pending ON alert_outbox (status, next_attempt_at_ms);

-- Input that could not be turned into a post, kept for inspection.
CREATE TABLE quarantine (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    source_id      TEXT NOT NULL REFERENCES sources (id),
    received_at_ms INTEGER NOT NULL,
    location       TEXT NOT NULL,
    reason         TEXT NOT NULL,
    raw            TEXT NOT NULL
);
CREATE INDEX quarantine_source ON quarantine (source_id, received_at_ms);

-- Every export written, so a missed week is caught up once and only once.
CREATE TABLE export_runs (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    week           TEXT NOT NULL,
    scope          TEXT NOT NULL,
    trigger_kind   TEXT NOT NULL,
    status         TEXT NOT NULL,
    started_at_ms  INTEGER NOT NULL,
    finished_at_ms INTEGER,
    files_json     TEXT,
    n_rows         INTEGER,
    error          TEXT
);
CREATE INDEX export_runs_week ON export_runs (week, scope, status);
