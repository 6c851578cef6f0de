-- The warehouse's tables in DuckDB. Staging tables (staging_events, staging_songs) are created
-- from the field list in staging.py; everything else is here.

CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS analytics;

CREATE SEQUENCE staging.load_id_seq START 1;

-- One row per run of `sparkify etl`.
CREATE TABLE staging.loads (
    load_id      BIGINT PRIMARY KEY,
    started_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP,
    status       VARCHAR NOT NULL,          -- running | committed | failed
    files        BIGINT,
    records      BIGINT,
    staged       BIGINT,
    rejected     BIGINT,
    message      VARCHAR,
    checked      BOOLEAN                    -- every data-quality check passed before the commit
);

-- Reconciliation of each load, per source: records read = rows staged + rows rejected.
CREATE TABLE staging.load_sources (
    load_id   BIGINT NOT NULL,
    source    VARCHAR NOT NULL,             -- events | songs
    files     BIGINT NOT NULL,
    records   BIGINT NOT NULL,
    staged    BIGINT NOT NULL,
    rejected  BIGINT NOT NULL,
    PRIMARY KEY (load_id, source)
);

-- Every file loaded so far; a file whose size or version (mtime, ETag) is unchanged is skipped.
CREATE TABLE staging.loaded_files (
    path       VARCHAR PRIMARY KEY,
    source     VARCHAR NOT NULL,            -- events | songs
    size       BIGINT NOT NULL,
    modified   VARCHAR NOT NULL,            -- mtime in ns, or the S3 ETag
    checksum   VARCHAR,                     -- sha256:… content hash (older manifests: crc32:…)
    load_id    BIGINT NOT NULL,
    records    BIGINT NOT NULL,
    rows       BIGINT NOT NULL,
    rejected   BIGINT NOT NULL,
    loaded_at  TIMESTAMP NOT NULL
);

-- Mangled text (doubly-encoded UTF-8, stray control characters) and its repair; see repair.py.
CREATE TABLE staging.text_repairs (
    raw_text VARCHAR PRIMARY KEY,
    fixed  VARCHAR NOT NULL
);

-- Every record that could not be staged, with where it was and why (like stl_load_errors).
CREATE TABLE staging.load_errors (
    load_id   BIGINT NOT NULL,
    source    VARCHAR NOT NULL,
    file      VARCHAR NOT NULL,
    line      BIGINT NOT NULL,
    "column"  VARCHAR,
    reason    VARCHAR NOT NULL,
    raw_text VARCHAR
);

-- Files a load unstaged because they were gone from the source (`sparkify loads --removed`).
CREATE TABLE staging.removed_files (
    load_id  BIGINT NOT NULL,
    source   VARCHAR NOT NULL,
    path     VARCHAR NOT NULL,
    rows     BIGINT NOT NULL
);

CREATE TABLE analytics.songs (
    song_id    VARCHAR PRIMARY KEY,
    title      VARCHAR,
    artist_id  VARCHAR,
    year       INTEGER,
    duration   DOUBLE,
    artist_name VARCHAR               -- the song's own credited artist (artists.name: one per artist)
);

CREATE TABLE analytics.artists (
    artist_id  VARCHAR PRIMARY KEY,
    name       VARCHAR,
    location   VARCHAR,
    latitude   DOUBLE,
    longitude  DOUBLE
);

CREATE TABLE analytics.users (
    user_id     BIGINT NOT NULL,
    first_name  VARCHAR,
    last_name   VARCHAR,
    gender      VARCHAR,
    level       VARCHAR,
    valid_from  TIMESTAMP NOT NULL,
    valid_to    TIMESTAMP,
    is_current  BOOLEAN NOT NULL,
    PRIMARY KEY (user_id, valid_from)
);

-- songplays and "time", the two tables that grow with every load, have no PRIMARY KEY here: DuckDB
-- keeps a key as an ART index and writes the whole index again at every checkpoint, which made a
-- one-day load into a month of history cost its commit ten times over. Their keys are kept by
-- the models and proven by the built-in checks every load runs before it publishes
-- (songplays_id_unique, songplays_event_unique, time_start_time_unique).
CREATE TABLE analytics.songplays (
    songplay_id      BIGINT NOT NULL,
    start_time       TIMESTAMP NOT NULL,
    user_id          BIGINT NOT NULL,
    level            VARCHAR,
    song_id          VARCHAR,
    artist_id        VARCHAR,
    session_id       BIGINT NOT NULL,
    location         VARCHAR,
    user_agent       VARCHAR,
    item_in_session  BIGINT NOT NULL,
    song_title       VARCHAR,          -- the event's song, artist and length (after text repair),
    artist_name      VARCHAR,          -- matched to a catalogue song or not
    length           DOUBLE
);

-- Every event with a userId, whatever its page (Home, Upgrade, NextSong …): the funnels.
CREATE TABLE analytics.page_views (
    start_time       TIMESTAMP NOT NULL,
    user_id          BIGINT NOT NULL,
    level            VARCHAR,
    session_id       BIGINT NOT NULL,
    item_in_session  BIGINT NOT NULL,
    page             VARCHAR NOT NULL   -- one row per (user_id, session_id, item_in_session, start_time):
);                                      -- a check, not an index (see songplays)

CREATE TABLE analytics."time" (
    start_time  TIMESTAMP NOT NULL,     -- unique: a check, not an index (see songplays)
    hour        INTEGER NOT NULL,
    day         INTEGER NOT NULL,
    week        INTEGER NOT NULL,
    month       INTEGER NOT NULL,
    year        INTEGER NOT NULL,
    weekday     INTEGER NOT NULL
);

CREATE VIEW analytics.users_current AS
    SELECT * FROM analytics.users WHERE is_current;

-- The star schema is also reachable unqualified, from any DuckDB client.
CREATE VIEW main.songplays AS SELECT * FROM analytics.songplays;
CREATE VIEW main.users AS SELECT * FROM analytics.users;
CREATE VIEW main.users_current AS SELECT * FROM analytics.users_current;
CREATE VIEW main.songs AS SELECT * FROM analytics.songs;
CREATE VIEW main.artists AS SELECT * FROM analytics.artists;
CREATE VIEW main."time" AS SELECT * FROM analytics."time";
CREATE VIEW main.page_views AS SELECT * FROM analytics.page_views;
