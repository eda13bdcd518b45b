-- "Nothing missed silently": a reviewer can open a task from any mention, and that is kept
-- as a missed-complaint example beside the false positives.
--
-- labelled_examples: `label` (the sentiment) becomes optional, because a reviewer who opens
-- a task from a mention says it is a complaint without necessarily saying its sentiment;
-- `complaint` (0/1, optional) is the new complaint label. SQLite cannot drop a NOT NULL in
-- place, so the table is rebuilt with the same ids. Examples written by a false-positive
-- dismissal (at the time of a `dismissed` event of their task) get complaint = 0.
CREATE TABLE labelled_examples_new (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id   INTEGER REFERENCES tasks (id),
    post_id   INTEGER NOT NULL REFERENCES posts (id),
    text      TEXT NOT NULL,
    label     TEXT,
    complaint INTEGER,
    reviewer  TEXT NOT NULL,
    at_ms     INTEGER NOT NULL
);
INSERT INTO labelled_examples_new (id, task_id, post_id, text, label, complaint, reviewer, at_ms)
SELECT l.id, l.task_id, l.post_id, l.text, l.label,
       CASE WHEN EXISTS (SELECT 1 FROM task_events e
                         WHERE e.task_id = l.task_id AND e.kind = 'dismissed' AND e.at_ms = l.at_ms)
            THEN 0 END,
       l.reviewer, l.at_ms
FROM labelled_examples l;
DROP TABLE labelled_examples;
ALTER TABLE labelled_examples_new RENAME TO labelled_examples;
CREATE INDEX labelled_examples_post ON labelled_examples (post_id);

-- Who opened a task from a mention the pipeline did not flag, and when (the mention's
-- `task_id` then names that task). Such a mention is a missed complaint for the threshold
-- suggestion.
ALTER TABLE assessments ADD COLUMN reviewer_opened_by TEXT;
ALTER TABLE assessments ADD COLUMN reviewer_opened_at_ms INTEGER;
CREATE INDEX assessments_criticality ON assessments (criticality);

-- The mentions search: author handle, author name and text, lower-cased by earshot (Unicode,
-- the same on both backends) and joined by U+001F, which post text never contains. Written
-- with each new post; posts stored before this migration are filled in by `earshot migrate`
-- (and every start) in Rust, since SQLite's LOWER() folds only ASCII.
ALTER TABLE posts ADD COLUMN search_text TEXT;
CREATE INDEX posts_search_pending ON posts (id) WHERE search_text IS NULL;
