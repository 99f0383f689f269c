DROP TABLE mission_events;
DROP TABLE missions;
