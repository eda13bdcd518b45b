-- Silence detection: when a source last brought new mentions, and its usual gap between
-- polls that did (a moving average, in ms). A source quiet for much longer is reported.
ALTER TABLE source_state ADD COLUMN last_new_at_ms INTEGER;
ALTER TABLE source_state ADD COLUMN usual_gap_ms INTEGER;
