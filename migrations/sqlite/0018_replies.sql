-- Replies sent from earshot, an outbox: the row is written before anything is sent, then the
-- reply worker claims it (claimed_by/claimed_until_ms), marks the attempt (in_doubt = 1:
-- a send started whose outcome is not recorded), sends and records the outcome. A row still
-- in doubt is looked for on the platform before it is sent again. At most one reply per task
-- is waiting to be sent.
CREATE TABLE replies (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id            INTEGER NOT NULL REFERENCES tasks (id),
    post_id            INTEGER NOT NULL REFERENCES posts (id),
    brand_id           TEXT NOT NULL,
    platform           TEXT NOT NULL,
    text               TEXT NOT NULL,
    idempotency_key    TEXT NOT NULL UNIQUE,
    requested_by       TEXT NOT NULL,
    resolve_after      INTEGER NOT NULL DEFAULT 0,
    status             TEXT NOT NULL,
    attempts           INTEGER NOT NULL DEFAULT 0,
    in_doubt           INTEGER NOT NULL DEFAULT 0,
    next_attempt_at_ms INTEGER NOT NULL,
    claimed_by         TEXT,
    claimed_until_ms   INTEGER,
    external_id        TEXT,
    url                TEXT,
    error              TEXT,
    error_kind         TEXT,
    created_at_ms      INTEGER NOT NULL,
    sent_at_ms         INTEGER,
    updated_at_ms      INTEGER NOT NULL
);
CREATE INDEX replies_due ON replies (status, next_attempt_at_ms);
CREATE INDEX replies_task ON replies (task_id);
CREATE UNIQUE INDEX replies_one_queued_per_task ON replies (task_id) WHERE status = 'queued';
