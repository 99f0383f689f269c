DROP TABLE events;
DROP TABLE things_tags;
DROP TABLE things;
DROP TABLE "user";
