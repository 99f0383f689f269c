-- The Diesel test bed's schema on SQLite, as its `diesel migration` would create it. Diesel
-- stores Bool as an integer, Timestamp, Date and Time as text, Double as REAL, Binary as a blob.
CREATE TABLE "user" (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    name TEXT NOT NULL,
    boss_id INTEGER REFERENCES "user" (id)
);
CREATE TABLE things (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    owner_id INTEGER REFERENCES "user" (id),
    flag BOOLEAN NOT NULL,
    maybe BOOLEAN,
    small SMALLINT NOT NULL,
    number INTEGER NOT NULL,
    big BIGINT NOT NULL,
    ratio DOUBLE NOT NULL,
    day DATE NOT NULL,
    clock TIME NOT NULL,
    moment TIMESTAMP NOT NULL,
    blob BLOB NOT NULL,
    note TEXT,
    "MixedCase" TEXT NOT NULL
);
CREATE TABLE things_tags (
    thing_id INTEGER NOT NULL REFERENCES things (id),
    tag TEXT NOT NULL,
    PRIMARY KEY (thing_id, tag)
);
-- Aware date/times: Diesel's TimestamptzSqlite is UTC text with `+00:00` on SQLite.
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    thing_id INTEGER NOT NULL REFERENCES things (id),
    at TIMESTAMPTZ NOT NULL,
    until TIMESTAMPTZ
);
