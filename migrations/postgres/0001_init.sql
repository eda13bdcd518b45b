-- earshot schema, version 1 (PostgreSQL). Times are Unix milliseconds (BIGINT), flags 0/1.
-- sqlite/0001_init.sql is the same logical schema; keep them in step.

CREATE TABLE brands (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    threshold     DOUBLE PRECISION NOT NULL,
    settings_json TEXT NOT NULL,
    active        BIGINT NOT NULL DEFAULT 1,
    updated_at_ms BIGINT NOT NULL
);

CREATE TABLE sources (
    id            TEXT PRIMARY KEY,
    brand_id      TEXT NOT NULL REFERENCES brands (id),
    kind          TEXT NOT NULL,
    schedule      TEXT NOT NULL,
    active        BIGINT NOT NULL DEFAULT 1,
    updated_at_ms BIGINT NOT NULL
);

-- Where each source stopped, and how its polls have gone. The cursor is written in the same
-- transaction as the posts it covers.
CREATE TABLE source_state (
    source_id            TEXT PRIMARY KEY REFERENCES sources (id),
    cursor               TEXT,
    cursor_updated_at_ms BIGINT,
    last_poll_at_ms      BIGINT,
    last_success_at_ms   BIGINT,
    last_error           TEXT,
    last_error_kind      TEXT,
    last_error_at_ms     BIGINT,
    consecutive_failures BIGINT NOT NULL DEFAULT 0,
    last_poll_new        BIGINT,
    total_new            BIGINT NOT NULL DEFAULT 0
);

-- A post as published. The same post found by two brands' sources is stored once.
CREATE TABLE posts (
    id               BIGSERIAL PRIMARY KEY,
    platform         TEXT NOT NULL,
    external_id      TEXT NOT NULL,
    author_handle    TEXT NOT NULL,
    author_name      TEXT,
    author_followers BIGINT,
    text             TEXT NOT NULL,
    url              TEXT,
    lang             TEXT,
    created_at_ms    BIGINT NOT NULL,
    first_seen_at_ms BIGINT NOT NULL,
    likes            BIGINT NOT NULL DEFAULT 0,
    reposts          BIGINT NOT NULL DEFAULT 0,
    replies          BIGINT NOT NULL DEFAULT 0,
    quotes           BIGINT NOT NULL DEFAULT 0,
    conversation_id  TEXT,
    in_reply_to      TEXT,
    UNIQUE (platform, external_id)
);
CREATE INDEX posts_author ON posts (platform, author_handle, created_at_ms);

-- A post as it concerns one brand.
CREATE TABLE mentions (
    id          BIGSERIAL PRIMARY KEY,
    post_id     BIGINT NOT NULL REFERENCES posts (id),
    brand_id    TEXT NOT NULL REFERENCES brands (id),
    source_id   TEXT NOT NULL REFERENCES sources (id),
    found_at_ms BIGINT NOT NULL,
    UNIQUE (post_id, brand_id)
);
CREATE INDEX mentions_brand_found ON mentions (brand_id, found_at_ms);

-- The model's view of a post (status 'scored' or 'unscored' with a reason).
CREATE TABLE sentiments (
    post_id      BIGINT PRIMARY KEY REFERENCES posts (id),
    status       TEXT NOT NULL,
    label        TEXT,
    negative     DOUBLE PRECISION,
    neutral      DOUBLE PRECISION,
    positive     DOUBLE PRECISION,
    model        TEXT,
    language     TEXT,
    reason       TEXT,
    scored_at_ms BIGINT NOT NULL
);

CREATE TABLE tasks (
    id                   BIGSERIAL PRIMARY KEY,
    brand_id             TEXT NOT NULL REFERENCES brands (id),
    platform             TEXT NOT NULL,
    author_handle        TEXT NOT NULL,
    conversation_key     TEXT,
    status               TEXT NOT NULL,
    priority             BIGINT NOT NULL,
    criticality          DOUBLE PRECISION NOT NULL,
    assignee             TEXT,
    opened_at_ms         BIGINT NOT NULL,
    due_at_ms            BIGINT NOT NULL,
    first_response_at_ms BIGINT,
    resolved_at_ms       BIGINT,
    dismissed_reason     TEXT,
    last_activity_at_ms  BIGINT NOT NULL,
    updated_at_ms        BIGINT NOT NULL
);
CREATE INDEX tasks_queue ON tasks (status, priority, due_at_ms);
CREATE INDEX tasks_conversation ON tasks (brand_id, platform, author_handle, status);

-- The criticality of a mention for its brand, and the task it opened or joined.
CREATE TABLE assessments (
    mention_id     BIGINT PRIMARY KEY REFERENCES mentions (id),
    criticality    DOUBLE PRECISION NOT NULL,
    factors_json   TEXT NOT NULL,
    flagged        BIGINT NOT NULL,
    task_id        BIGINT REFERENCES tasks (id),
    assessed_at_ms BIGINT NOT NULL
);
CREATE INDEX assessments_task ON assessments (task_id);

CREATE TABLE task_events (
    id          BIGSERIAL PRIMARY KEY,
    task_id     BIGINT NOT NULL REFERENCES tasks (id),
    at_ms       BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    detail_json TEXT NOT NULL
);
CREATE INDEX task_events_task ON task_events (task_id, at_ms);

-- Alerts waiting to be delivered. dedup_key makes enqueueing idempotent.
CREATE TABLE alert_outbox (
    id                 BIGSERIAL PRIMARY KEY,
    dedup_key          TEXT NOT NULL UNIQUE,
    kind               TEXT NOT NULL,
    brand_id           TEXT REFERENCES brands (id),
    task_id            BIGINT REFERENCES tasks (id),
    payload_json       TEXT NOT NULL,
    created_at_ms      BIGINT NOT NULL,
    status             TEXT NOT NULL DEFAULT 'pending',
    attempts           BIGINT NOT NULL DEFAULT 0,
    next_attempt_at_ms BIGINT NOT NULL,
    last_error         TEXT,
    delivered_at_ms    BIGINT
);
CREATE INDEX alert_outbox_pending ON alert_outbox (status, next_attempt_at_ms);

-- Input that could not be turned into a post, kept for inspection.
CREATE TABLE quarantine (
    id             BIGSERIAL PRIMARY KEY,
    source_id      TEXT NOT NULL REFERENCES sources (id),
    received_at_ms BIGINT NOT NULL,
    location       TEXT NOT NULL,
    reason         TEXT NOT NULL,
    raw            TEXT NOT NULL
);
CREATE INDEX quarantine_source ON quarantine (source_id, received_at_ms);

-- Every export written, so a missed week is caught up once and only once.
CREATE TABLE export_runs (
    id             BIGSERIAL PRIMARY KEY,
    week           TEXT NOT NULL,
    scope          TEXT NOT NULL,
    trigger_kind   TEXT NOT NULL,
    status         TEXT NOT NULL,
    started_at_ms  BIGINT NOT NULL,
    finished_at_ms BIGINT,
    files_json     TEXT,
    n_rows         BIGINT,
    error          TEXT
);
CREATE INDEX export_runs_week ON export_runs (week, scope, status);
