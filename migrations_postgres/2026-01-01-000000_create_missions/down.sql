DROP TABLE mission_events;
DROP TABLE missions;
DROP TYPE mission_priority;
DROP TYPE mission_status;
-- pg_trgm stays: other schemas of the database may use it.
