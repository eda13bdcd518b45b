-- What was erased or expired, and by whom: the audit trail of personal-data handling. The
-- subject is kept only as the sha256 of its lowercased handle, so the log itself names nobody
-- (an auditor who knows the handle can check it).
CREATE TABLE privacy_log (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    kind           TEXT NOT NULL,
    platform       TEXT,
    subject_sha256 TEXT,
    n_posts        INTEGER NOT NULL,
    n_tasks        INTEGER NOT NULL,
    n_examples     INTEGER NOT NULL,
    actor          TEXT NOT NULL,
    at_ms          INTEGER NOT NULL
);
CREATE INDEX posts_first_seen ON posts (first_seen_at_ms);
