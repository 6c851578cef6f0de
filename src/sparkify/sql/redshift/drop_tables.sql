-- Everything Sparkify owns in the database; nothing outside these two schemas is touched.
-- CASCADE drops every table in them: the star, staging_events/staging_songs, the bookkeeping
-- tables, staging.text_repairs, and the song_matches view.
DROP SCHEMA IF EXISTS analytics CASCADE;
DROP SCHEMA IF EXISTS staging CASCADE;
