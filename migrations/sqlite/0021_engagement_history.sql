-- Viral escalation (issue 15): the engagement of open tasks' posts re-read on a schedule.
-- One row per reading; the first row of a post is its engagement as first stored (at
-- first_seen_at_ms), so growth counts from what earshot saw at ingest.
-- postgres/0021_engagement_history.sql is the same logical schema; keep them in step.
CREATE TABLE engagement_samples (
    post_id INTEGER NOT NULL REFERENCES posts (id),
    at_ms   INTEGER NOT NULL,
    likes   INTEGER NOT NULL,
    reposts INTEGER NOT NULL,
    replies INTEGER NOT NULL,
    quotes  INTEGER NOT NULL,
    PRIMARY KEY (post_id, at_ms)
);

-- When the post's engagement was last re-read (the refresh takes the stalest first), and when
-- the platform said it was gone (its content is then blanked and it is not read again).
ALTER TABLE posts ADD COLUMN engagement_checked_at_ms INTEGER;
ALTER TABLE posts ADD COLUMN gone_at_ms INTEGER;

-- When the task was escalated as going viral: set once, so the escalation and its alert
-- happen once per task.
ALTER TABLE tasks ADD COLUMN viral_at_ms INTEGER;
