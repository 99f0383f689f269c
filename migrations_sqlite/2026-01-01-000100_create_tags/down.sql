DROP TABLE mission_tags;
DROP TABLE tags;
