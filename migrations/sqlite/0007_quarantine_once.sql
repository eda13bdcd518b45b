-- The same bad input is quarantined once per source: feeds repeat their items on every poll
-- and pushes are retried, so each quarantined item carries a key (sha256 of its location and
-- raw text) that is unique per source. Rows from before have no key and stay as they are.

ALTER TABLE quarantine ADD COLUMN dedup_key TEXT;
CREATE UNIQUE INDEX quarantine_once ON quarantine (source_id, dedup_key);
