-- The warehouse's tables in Amazon Redshift. Staging tables (staging_events, staging_songs) are
-- created from the field list in staging.py (see warehouse/redshift.py); everything else is here.
-- Redshift does not enforce PRIMARY KEY/UNIQUE: they are declared for the planner, and the models
-- keep them true with delete-insert and MERGE on the natural keys. The physical choices (DISTKEY,
-- SORTKEY, DISTSTYLE ALL, widths) are explained in the README ("Physical design").

CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS analytics;

-- One row per run of `sparkify etl`. load_id is MAX + 1 under a table lock (no sequences here).
CREATE TABLE staging.loads (
    load_id      BIGINT NOT NULL,
    started_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP,
    status       VARCHAR(16) NOT NULL,
    files        BIGINT,
    records      BIGINT,
    staged       BIGINT,
    rejected     BIGINT,
    message      VARCHAR(65535),
    PRIMARY KEY (load_id)
) DISTSTYLE ALL SORTKEY(load_id);

-- Reconciliation of each load, per source: records read = rows staged + rows rejected.
CREATE TABLE staging.load_sources (
    load_id   BIGINT NOT NULL,
    source    VARCHAR(16) NOT NULL,
    files     BIGINT NOT NULL,
    records   BIGINT NOT NULL,
    staged    BIGINT NOT NULL,
    rejected  BIGINT NOT NULL,
    PRIMARY KEY (load_id, source)
) DISTSTYLE ALL SORTKEY(load_id);

-- Every object loaded so far; an object whose size and ETag are unchanged is skipped.
CREATE TABLE staging.loaded_files (
    path       VARCHAR(1024) NOT NULL,
    source     VARCHAR(16) NOT NULL,
    size       BIGINT NOT NULL,
    modified   VARCHAR(256) NOT NULL,
    checksum   VARCHAR(256),
    load_id    BIGINT NOT NULL,
    records    BIGINT NOT NULL,
    "rows"     BIGINT NOT NULL,
    rejected   BIGINT NOT NULL,
    loaded_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (path)
) DISTSTYLE ALL SORTKEY(path);

-- Mangled text (doubly-encoded UTF-8, stray control characters) and its repair; see repair.py.
-- The models look values up here. raw_text is the key, kept true by the insert: repair.candidates_sql
-- only offers values not yet in the table, each once. Small and joined by every model: ALL.
CREATE TABLE staging.text_repairs (
    raw_text VARCHAR(65535) NOT NULL,
    fixed  VARCHAR(65535) NOT NULL,
    PRIMARY KEY (raw_text)
) DISTSTYLE ALL;

-- Every record COPY rejected, copied from stl_load_errors / sys_load_error_detail after each COPY.
CREATE TABLE staging.load_errors (
    load_id   BIGINT NOT NULL,
    source    VARCHAR(16) NOT NULL,
    file      VARCHAR(1024) NOT NULL,
    line      BIGINT NOT NULL,
    "column"  VARCHAR(256),
    reason    VARCHAR(1024) NOT NULL,
    raw_text VARCHAR(1024)
) DISTSTYLE EVEN SORTKEY(load_id);

-- Files a load unstaged because they were gone from the source (none on Redshift, whose rows name
-- their COPY manifest, not their file; kept for `sparkify loads --removed`).
CREATE TABLE staging.removed_files (
    load_id  BIGINT NOT NULL,
    source   VARCHAR(16) NOT NULL,
    path     VARCHAR(1024) NOT NULL,
    rows     BIGINT NOT NULL
) DISTSTYLE EVEN;

-- Songs: the biggest dimension (~1M rows in the full data set), spread on its unique key.
CREATE TABLE analytics.songs (
    song_id    VARCHAR(256) NOT NULL,
    title      VARCHAR(65535),
    artist_id  VARCHAR(256),
    year       INTEGER,
    duration   DOUBLE PRECISION,
    artist_name VARCHAR(65535),       -- the song's own credited artist (artists.name: one per artist)
    PRIMARY KEY (song_id)
) DISTSTYLE KEY DISTKEY(song_id) SORTKEY(song_id);

-- Small dimensions: a full copy on every node, so joins to them never move data.
CREATE TABLE analytics.artists (
    artist_id  VARCHAR(256) NOT NULL,
    name       VARCHAR(65535),
    location   VARCHAR(65535),
    latitude   DOUBLE PRECISION,
    longitude  DOUBLE PRECISION,
    PRIMARY KEY (artist_id)
) DISTSTYLE ALL SORTKEY(artist_id);

CREATE TABLE analytics.users (
    user_id     BIGINT NOT NULL,
    first_name  VARCHAR(65535),
    last_name   VARCHAR(65535),
    gender      VARCHAR(256),
    level       VARCHAR(256),
    valid_from  TIMESTAMP NOT NULL,
    valid_to    TIMESTAMP,
    is_current  BOOLEAN NOT NULL,
    PRIMARY KEY (user_id, valid_from)
) DISTSTYLE ALL COMPOUND SORTKEY(user_id, valid_from);

-- The fact table: distributed on start_time, not song_id: most plays of real data match no song
-- (NULL song_id), and a key's NULLs all land on one slice. start_time is nearly unique, so rows
-- spread evenly, and the join to "time" (distributed on it too) never moves data. Sorted on
-- start_time for time-range scans.
CREATE TABLE analytics.songplays (
    songplay_id      BIGINT NOT NULL,
    start_time       TIMESTAMP NOT NULL,
    user_id          BIGINT NOT NULL,
    level            VARCHAR(256),
    song_id          VARCHAR(256),
    artist_id        VARCHAR(256),
    session_id       BIGINT NOT NULL,
    location         VARCHAR(65535),
    user_agent       VARCHAR(65535),
    item_in_session  BIGINT NOT NULL,
    song_title       VARCHAR(65535),   -- the event's song, artist and length (after text repair),
    artist_name      VARCHAR(65535),   -- matched to a catalogue song or not
    length           DOUBLE PRECISION,
    PRIMARY KEY (songplay_id)
) DISTSTYLE KEY DISTKEY(start_time) COMPOUND SORTKEY(start_time);

-- Every event with a userId, whatever its page (Home, Upgrade, NextSong …): the funnels join a
-- user's views to each other, so the views are distributed on user_id, sorted on start_time.
CREATE TABLE analytics.page_views (
    start_time       TIMESTAMP NOT NULL,
    user_id          BIGINT NOT NULL,
    level            VARCHAR(256),
    session_id       BIGINT NOT NULL,
    item_in_session  BIGINT NOT NULL,
    page             VARCHAR(256) NOT NULL,
    PRIMARY KEY (user_id, session_id, item_in_session, start_time)
) DISTSTYLE KEY DISTKEY(user_id) COMPOUND SORTKEY(start_time);

-- One row per distinct start_time, so it grows with songplays: too big for DISTSTYLE ALL.
-- Distributed and sorted on start_time: range filters on time skip blocks via zone maps.
CREATE TABLE analytics."time" (
    start_time  TIMESTAMP NOT NULL,
    hour        INTEGER NOT NULL,
    day         INTEGER NOT NULL,
    week        INTEGER NOT NULL,
    month       INTEGER NOT NULL,
    year        INTEGER NOT NULL,
    weekday     INTEGER NOT NULL,
    PRIMARY KEY (start_time)
) DISTSTYLE KEY DISTKEY(start_time) SORTKEY(start_time);

CREATE VIEW analytics.users_current AS
    SELECT * FROM analytics.users WHERE is_current;
