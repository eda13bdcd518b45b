-- Reply templates leads manage in the queue, per brand (the config's [[templates]] stay, for
-- every brand). `apology` marks the template offered first on a negative task.
CREATE TABLE reply_templates (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    brand_id      TEXT NOT NULL,
    name          TEXT NOT NULL,
    text          TEXT NOT NULL,
    apology       INTEGER NOT NULL DEFAULT 0,
    created_by    TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    updated_by    TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    UNIQUE (brand_id, name)
);
