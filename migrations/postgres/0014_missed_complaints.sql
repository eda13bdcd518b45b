-- "Nothing missed silently": a reviewer can open a task from any mention, and that is kept
-- as a missed-complaint example beside the false positives.
--
-- labelled_examples: `label` (the sentiment) becomes optional, because a reviewer who opens
-- a task from a mention says it is a complaint without necessarily saying its sentiment;
-- `complaint` (0/1, optional) is the new complaint label. Examples written by a
-- false-positive dismissal (at the time of a `dismissed` event of their task) get
-- complaint = 0.
ALTER TABLE labelled_examples ALTER COLUMN label DROP NOT NULL;
ALTER TABLE labelled_examples ADD COLUMN complaint BIGINT;
UPDATE labelled_examples l SET complaint = 0
WHERE EXISTS (SELECT 1 FROM task_events e
              WHERE e.task_id = l.task_id AND e.kind = 'dismissed' AND e.at_ms = l.at_ms);

-- Who opened a task from a mention the pipeline did not flag, and when (the mention's
-- `task_id` then names that task). Such a mention is a missed complaint for the threshold
-- suggestion.
ALTER TABLE assessments ADD COLUMN reviewer_opened_by TEXT;
ALTER TABLE assessments ADD COLUMN reviewer_opened_at_ms BIGINT;
CREATE INDEX assessments_criticality ON assessments (criticality);

-- The mentions search: author handle, author name and text, lower-cased by earshot (Unicode,
-- the same on both backends, whatever the database's locale) and joined by U+001F, which
-- post text never contains. Written with each new post; posts stored before this migration
-- are filled in by `earshot migrate` (and every start).
ALTER TABLE posts ADD COLUMN search_text TEXT;
CREATE INDEX posts_search_pending ON posts (id) WHERE search_text IS NULL;
