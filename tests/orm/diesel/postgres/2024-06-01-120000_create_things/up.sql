-- The Diesel test bed's schema on PostgreSQL: the same tables with PostgreSQL's types.
CREATE TABLE "user" (
    id SERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    boss_id INTEGER REFERENCES "user" (id)
);
CREATE TABLE things (
    id SERIAL PRIMARY KEY,
    owner_id INTEGER REFERENCES "user" (id),
    flag BOOLEAN NOT NULL,
    maybe BOOLEAN,
    small SMALLINT NOT NULL,
    number INTEGER NOT NULL,
    big BIGINT NOT NULL,
    ratio DOUBLE PRECISION NOT NULL,
    day DATE NOT NULL,
    clock TIME NOT NULL,
    moment TIMESTAMP NOT NULL,
    blob BYTEA NOT NULL,
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
    id SERIAL PRIMARY KEY,
    thing_id INTEGER NOT NULL REFERENCES things (id),
    at TIMESTAMPTZ NOT NULL,
    until TIMESTAMPTZ
);
