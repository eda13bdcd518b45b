-- Several instances on one database: leases (one poller per source at a time) and claims on
-- mentions being scored, both with an expiry so a killed instance's work is taken over.

CREATE TABLE leases (
    name          TEXT PRIMARY KEY,
    holder        TEXT NOT NULL,
    expires_at_ms BIGINT NOT NULL
);

ALTER TABLE mentions ADD COLUMN claimed_by TEXT;
ALTER TABLE mentions ADD COLUMN claimed_until_ms BIGINT;
