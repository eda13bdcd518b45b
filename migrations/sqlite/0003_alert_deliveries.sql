-- One delivery per (alert, channel): routing fans an outbox alert out to the channels its
-- rules name, and each delivery is retried, sent or given up on by itself.
CREATE TABLE alert_deliveries (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id           INTEGER NOT NULL REFERENCES alert_outbox (id),
    channel            TEXT NOT NULL,
    status             TEXT NOT NULL DEFAULT 'pending',
    attempts           INTEGER NOT NULL DEFAULT 0,
    next_attempt_at_ms INTEGER NOT NULL,
    last_error         TEXT,
    external_id        TEXT,
    thread_key         TEXT,
    created_at_ms      INTEGER NOT NULL,
    sent_at_ms         INTEGER,
    UNIQUE (alert_id, channel)
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (status, next_attempt_at_ms);

-- Channels turned off after a permanent failure (revoked or deleted webhook).
CREATE TABLE channel_state (
    name            TEXT PRIMARY KEY,
    disabled        INTEGER NOT NULL DEFAULT 0,
    disabled_reason TEXT,
    disabled_at_ms  INTEGER
);
