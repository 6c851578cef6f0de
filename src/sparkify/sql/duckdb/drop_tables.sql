DROP VIEW IF EXISTS main.songplays;
DROP VIEW IF EXISTS main.users_current;
DROP VIEW IF EXISTS main.users;
DROP VIEW IF EXISTS main.songs;
DROP VIEW IF EXISTS main.artists;
DROP VIEW IF EXISTS main."time";
DROP VIEW IF EXISTS main.page_views;
DROP SCHEMA IF EXISTS analytics CASCADE;
DROP SCHEMA IF EXISTS staging CASCADE;
