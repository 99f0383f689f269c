-- Missions and their event log. SQLite has no enum, boolean, JSON or timestamp types: CHECK
-- constraints hold the same value sets as the PostgreSQL enums, booleans are 0/1, JSON is
-- validated text, and timestamps are UTC text 'YYYY-MM-DD HH:MM:SS.ffffff' (six digits always, as dbshift
-- writes them) that sorts in time order.
CREATE TABLE missions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    title       TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    description TEXT,
    status      TEXT NOT NULL DEFAULT 'draft'
                CHECK (status IN ('draft', 'active', 'paused', 'completed', 'archived', 'failed')),
    priority    TEXT NOT NULL DEFAULT 'medium'
                CHECK (priority IN ('low', 'medium', 'high', 'critical')),
    is_archived BOOLEAN NOT NULL DEFAULT 0 CHECK (is_archived IN (0, 1)),
    progress    INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    metadata    TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
    created_at  TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f000', 'now')),
    updated_at  TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f000', 'now'))
);

CREATE INDEX missions_status_idx ON missions (status, priority);

CREATE TABLE mission_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    mission_id INTEGER NOT NULL REFERENCES missions (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (length(kind) > 0),
    message    TEXT,
    payload    TEXT CHECK (payload IS NULL OR json_valid(payload)),
    created_at TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f000', 'now'))
);

CREATE INDEX mission_events_mission_idx ON mission_events (mission_id, created_at);
