-- Viral escalation (issue 15): the engagement of open tasks' posts re-read on a schedule.
-- One row per reading; the first row of a post is its engagement as first stored (at
-- first_seen_at_ms), so growth counts from what earshot saw at ingest.
-- sqlite/0021_engagement_history.sql is the same logical schema; keep them in step.
CREATE TABLE engagement_samples (
    post_id BIGINT NOT NULL REFERENCES posts (id),
    at_ms   BIGINT NOT NULL,
    likes   BIGINT NOT NULL,
    reposts BIGINT NOT NULL,
    replies BIGINT NOT NULL,
    quotes  BIGINT NOT NULL,
    PRIMARY KEY (post_id, at_ms)
);

-- When the post's engagement was last re-read (the refresh takes the stalest first), and when
-- the platform said it was gone (its content is then blanked and it is not read again).
ALTER TABLE posts ADD COLUMN engagement_checked_at_ms BIGINT;
ALTER TABLE posts ADD COLUMN gone_at_ms BIGINT;

-- When the task was escalated as going viral: set once, so the escalation and its alert
-- happen once per task.
ALTER TABLE tasks ADD COLUMN viral_at_ms BIGINT;
