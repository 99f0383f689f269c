-- Notes with every kind of constraint a service wants to recognise when it is violated.
CREATE TABLE notes (
    id      INTEGER PRIMARY KEY,
    counter TEXT REFERENCES counters (name),
    body    TEXT NOT NULL UNIQUE CHECK (length(body) > 0)
);
