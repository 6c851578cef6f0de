-- The warehouse's tables in PostgreSQL. Staging tables (staging_events, staging_songs) are
-- created from the field list in staging.py; everything else is here.
-- Text columns use COLLATE "C" so that ORDER BY (and so every tie-break in the models) sorts
-- by code point, exactly as DuckDB does: both backends must build identical tables.

CREATE SCHEMA staging;
CREATE SCHEMA analytics;

-- The shared models read ts (milliseconds since the epoch) with DuckDB's epoch_ms(): the same
-- function here, exact to the millisecond (no floating-point seconds) and inlinable.
CREATE FUNCTION analytics.epoch_ms(ms BIGINT) RETURNS TIMESTAMP
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT TIMESTAMP '1970-01-01 00:00:00' + ms * INTERVAL '1 millisecond' $$;

CREATE SEQUENCE staging.load_id_seq START 1;

-- One row per run of `sparkify etl`.
CREATE TABLE staging.loads (
    load_id      BIGINT PRIMARY KEY,
    started_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP,
    status       VARCHAR COLLATE "C" NOT NULL,     -- running | committed | failed
    files        BIGINT,
    records      BIGINT,
    staged       BIGINT,
    rejected     BIGINT,
    message      VARCHAR COLLATE "C",
    checked      BOOLEAN                           -- every data-quality check passed before the commit
);

-- Reconciliation of each load, per source: records read = rows staged + rows rejected.
CREATE TABLE staging.load_sources (
    load_id   BIGINT NOT NULL,
    source    VARCHAR COLLATE "C" NOT NULL,        -- events | songs
    files     BIGINT NOT NULL,
    records   BIGINT NOT NULL,
    staged    BIGINT NOT NULL,
    rejected  BIGINT NOT NULL,
    PRIMARY KEY (load_id, source)
);

-- Every file loaded so far; a file whose size or version (mtime, ETag) is unchanged is skipped.
CREATE TABLE staging.loaded_files (
    path       VARCHAR COLLATE "C" PRIMARY KEY,
    source     VARCHAR COLLATE "C" NOT NULL,       -- events | songs
    size       BIGINT NOT NULL,
    modified   VARCHAR COLLATE "C" NOT NULL,       -- mtime in ns, or the S3 ETag
    checksum   VARCHAR COLLATE "C",              -- sha256:… content hash (older manifests: crc32:…)
    load_id    BIGINT NOT NULL,
    records    BIGINT NOT NULL,
    rows       BIGINT NOT NULL,
    rejected   BIGINT NOT NULL,
    loaded_at  TIMESTAMP NOT NULL
);

-- Mangled text (doubly-encoded UTF-8, stray control characters) and its repair; see repair.py.
-- One row per raw value, unique on its MD5: a btree holds at most 2704 bytes per entry, and a
-- mangled title or location can be longer (DuckDB takes any length; so must we).
CREATE TABLE staging.text_repairs (
    raw_text VARCHAR COLLATE "C" NOT NULL,
    fixed  VARCHAR COLLATE "C" NOT NULL
);
CREATE UNIQUE INDEX text_repairs_raw_text ON staging.text_repairs (md5(raw_text));

-- Every record that could not be staged, with where it was and why (like stl_load_errors).
CREATE TABLE staging.load_errors (
    load_id   BIGINT NOT NULL,
    source    VARCHAR COLLATE "C" NOT NULL,
    file      VARCHAR COLLATE "C" NOT NULL,
    line      BIGINT NOT NULL,
    "column"  VARCHAR COLLATE "C",
    reason    VARCHAR COLLATE "C" NOT NULL,
    raw_text VARCHAR COLLATE "C"
);
CREATE INDEX load_errors_load_id ON staging.load_errors (load_id);

-- Files a load unstaged because they were gone from the source (`sparkify loads --removed`).
CREATE TABLE staging.removed_files (
    load_id  BIGINT NOT NULL,
    source   VARCHAR COLLATE "C" NOT NULL,
    path     VARCHAR COLLATE "C" NOT NULL,
    rows     BIGINT NOT NULL
);

CREATE TABLE analytics.songs (
    song_id    VARCHAR COLLATE "C" PRIMARY KEY,
    title      VARCHAR COLLATE "C",
    artist_id  VARCHAR COLLATE "C",
    year       INTEGER,
    duration   DOUBLE PRECISION,
    artist_name VARCHAR COLLATE "C"   -- the song's own credited artist (artists.name: one per artist)
);

CREATE TABLE analytics.artists (
    artist_id  VARCHAR COLLATE "C" PRIMARY KEY,
    name       VARCHAR COLLATE "C",
    location   VARCHAR COLLATE "C",
    latitude   DOUBLE PRECISION,
    longitude  DOUBLE PRECISION
);

CREATE TABLE analytics.users (
    user_id     BIGINT NOT NULL,
    first_name  VARCHAR COLLATE "C",
    last_name   VARCHAR COLLATE "C",
    gender      VARCHAR COLLATE "C",
    level       VARCHAR COLLATE "C",
    valid_from  TIMESTAMP NOT NULL,
    valid_to    TIMESTAMP,
    is_current  BOOLEAN NOT NULL,
    PRIMARY KEY (user_id, valid_from),
    -- At most one current version per user (checked at commit: a load moves it to a newer version).
    EXCLUDE (user_id WITH =) WHERE (is_current) DEFERRABLE INITIALLY DEFERRED
);

-- Its key is in fact_keys.sql (a first load makes it after the rows, as the facts' keys).
CREATE TABLE analytics."time" (
    start_time  TIMESTAMP NOT NULL,
    hour        INTEGER NOT NULL,
    day         INTEGER NOT NULL,
    week        INTEGER NOT NULL,
    month       INTEGER NOT NULL,
    year        INTEGER NOT NULL,
    weekday     INTEGER NOT NULL
);

-- Its keys and indexes are in fact_keys.sql (run right after this file).
CREATE TABLE analytics.songplays (
    songplay_id      BIGINT NOT NULL,
    start_time       TIMESTAMP NOT NULL,
    user_id          BIGINT NOT NULL,
    level            VARCHAR COLLATE "C",
    song_id          VARCHAR COLLATE "C",
    artist_id        VARCHAR COLLATE "C",
    session_id       BIGINT NOT NULL,
    location         VARCHAR COLLATE "C",
    user_agent       VARCHAR COLLATE "C",
    item_in_session  BIGINT NOT NULL,
    song_title       VARCHAR COLLATE "C",  -- the event's song, artist and length (after text repair),
    artist_name      VARCHAR COLLATE "C",  -- matched to a catalogue song or not
    length           DOUBLE PRECISION
);

-- Every event with a userId, whatever its page (Home, Upgrade, NextSong …): the funnels.
-- Its key and index are in fact_keys.sql.
CREATE TABLE analytics.page_views (
    start_time       TIMESTAMP NOT NULL,
    user_id          BIGINT NOT NULL,
    level            VARCHAR COLLATE "C",
    session_id       BIGINT NOT NULL,
    item_in_session  BIGINT NOT NULL,
    page             VARCHAR COLLATE "C" NOT NULL
);

CREATE INDEX songs_artist_id ON analytics.songs (artist_id);
-- A hash index: equality lookups (song matching) on a title of any length (a btree stops at 2704 bytes).
CREATE INDEX songs_title ON analytics.songs USING hash (title);

CREATE VIEW analytics.users_current AS
    SELECT * FROM analytics.users WHERE is_current;
