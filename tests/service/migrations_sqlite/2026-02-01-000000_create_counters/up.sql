-- A named counter the service increments in transactions.
CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
