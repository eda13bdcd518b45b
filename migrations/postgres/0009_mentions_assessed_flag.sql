-- Whether a mention has its assessment, set in the transaction that inserts it. Finding the
-- mentions still to score then reads a partial index of the few unassessed ones, instead of
-- anti-joining every mention ever stored with `assessments` (70 ms per claim at a million
-- mentions on SQLite, growing with the history; well under a millisecond with the index).
ALTER TABLE mentions ADD COLUMN assessed INTEGER NOT NULL DEFAULT 0;
UPDATE mentions SET assessed = 1 WHERE id IN (SELECT mention_id FROM assessments);
CREATE INDEX mentions_unassessed ON mentions (id) WHERE assessed = 0;
