-- Everything Sparkify owns in the database; nothing outside these two schemas is touched.
DROP SCHEMA IF EXISTS analytics CASCADE;
DROP SCHEMA IF EXISTS staging CASCADE;
