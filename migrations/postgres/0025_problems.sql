-- Recurring problems (issue 17): complaints of a brand grouped by what they are about.
-- sqlite/0025_problems.sql is the same logical schema; keep them in step.

-- A post's sentence embedding (base64 of little-endian f32s, unit length), kept for posts that
-- are complaints or negative, from the model named.
CREATE TABLE post_embeddings (
    post_id BIGINT PRIMARY KEY REFERENCES posts (id),
    model   TEXT NOT NULL,
    vector  TEXT NOT NULL
);

-- A problem: its centroid (the same encoding), how many complaints it holds, its label and
-- terms (JSON array), and what leads made of it: status (new, acknowledged, fixed), owner,
-- note and the known-issue message agents send. merged_into is set when re-clustering found it
-- to be part of another problem (it then holds no members).
CREATE TABLE problems (
    id               BIGSERIAL PRIMARY KEY,
    brand_id         TEXT NOT NULL REFERENCES brands (id),
    status           TEXT NOT NULL DEFAULT 'new',
    label            TEXT NOT NULL DEFAULT '',
    terms_json       TEXT NOT NULL DEFAULT '[]',
    centroid         TEXT NOT NULL,
    n_members        BIGINT NOT NULL DEFAULT 0,
    first_seen_at_ms BIGINT NOT NULL,
    last_seen_at_ms  BIGINT NOT NULL,
    owner            TEXT,
    note             TEXT,
    message          TEXT,
    merged_into      BIGINT,
    growing_alert_at_ms BIGINT,
    created_at_ms    BIGINT NOT NULL,
    updated_at_ms    BIGINT NOT NULL
);
CREATE INDEX problems_brand ON problems (brand_id, last_seen_at_ms);

-- Which problem each grouped mention belongs to (one row per mention: never grouped twice).
-- post_created_at_ms is copied from the post so counts over time need no join.
CREATE TABLE problem_members (
    mention_id         BIGINT PRIMARY KEY REFERENCES mentions (id),
    problem_id         BIGINT NOT NULL REFERENCES problems (id),
    brand_id           TEXT NOT NULL,
    post_created_at_ms BIGINT NOT NULL,
    similarity         DOUBLE PRECISION NOT NULL,
    assigned_at_ms     BIGINT NOT NULL
);
CREATE INDEX problem_members_problem ON problem_members (problem_id, post_created_at_ms);
CREATE INDEX problem_members_brand ON problem_members (brand_id, post_created_at_ms);
