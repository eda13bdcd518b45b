-- Reply accounts (issue "Answer from earshot"): per account (`brand/platform`), the refresh
-- token a platform rotated (X), kept so a restart uses the live one, with a fingerprint of the
-- configured token it descends from; and the account's health: who it posts as, when it last
-- worked, and the last error (a revoked token shows here).
CREATE TABLE reply_tokens (
    account            TEXT PRIMARY KEY,
    origin_fingerprint TEXT NOT NULL,
    refresh_token      TEXT NOT NULL,
    updated_at_ms      INTEGER NOT NULL
);

CREATE TABLE reply_account_health (
    account            TEXT PRIMARY KEY,
    handle             TEXT,
    last_success_at_ms INTEGER,
    last_error         TEXT,
    last_error_kind    TEXT,
    last_error_at_ms   INTEGER
);
