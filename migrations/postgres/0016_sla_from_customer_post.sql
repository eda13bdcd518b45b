-- The first-response SLA counts from the customer's post (issue "Answer from earshot"):
-- sla_started_at_ms is the opening post's created_at, never later than when earshot first
-- saw it (tasks::sla::clock_start). Tasks opened before this migration get the same value
-- from their opening post, so the queue shows how long those customers have waited; their
-- due times stay as they were computed.
ALTER TABLE tasks ADD COLUMN sla_started_at_ms BIGINT NOT NULL DEFAULT 0;
UPDATE tasks SET sla_started_at_ms = COALESCE(
    (SELECT CASE WHEN p.created_at_ms < p.first_seen_at_ms THEN p.created_at_ms ELSE p.first_seen_at_ms END
     FROM assessments a JOIN mentions m ON m.id = a.mention_id JOIN posts p ON p.id = m.post_id
     WHERE a.task_id = tasks.id ORDER BY a.mention_id LIMIT 1),
    opened_at_ms);
