-- Quiet hours: a delivery routed during a rule's quiet hours waits with status 'held' until
-- next_attempt_at_ms (the end of the quiet hours); then one digest alert per channel carries
-- all of them, and each held delivery records which digest did ('digested').
ALTER TABLE alert_deliveries ADD COLUMN digest_alert_id BIGINT REFERENCES alert_outbox (id);

-- Spike detection reads negative mentions of a brand by the time their post was written.
CREATE INDEX posts_created_for_spikes ON posts (created_at_ms);
