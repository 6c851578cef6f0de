-- songplays: one row per NextSong event with a non-empty userId, identified by
-- (user_id, session_id, item_in_session, start_time). Incremental: events no longer staged are
-- removed, events this load staged again (a corrected file, a file delivered again) replace
-- their play's columns and keep its songplay_id (MERGE), new events get the next songplay_ids in
-- time order, and other plays are left alone. An event staged more than once (overlapping files)
-- is one play: its most recently loaded copy gives level, location and user agent (then the
-- first by file and line).
-- song_id/artist_id follow the rule of staging.song_matches (song_matches.sql), applied here as
-- the plays are inserted: the song whose title and own artist name (songs.artist_name) equal the
-- event's song and artist (after repair and cleaning); when several songs match (over all copies
-- of the event), the duration closest to the event's length wins, then the smallest song_id.
-- Text is repaired through staging.text_repairs, then cleaned: trimmed, and NULL when empty.
--
-- Only events staged by this load can be new plays: the events of earlier loads got theirs when
-- they were loaded (staging and the star are committed together; after editing the star by hand,
-- `etl --full-refresh` rebuilds it). To stay fast on millions of events, only narrow rows (keys
-- and numbers) are sorted and ranked; the wide columns are read once, as the plays are inserted.
-- The temporary tables below live until the end of this file. Every backend runs this file
-- (Redshift too: anti-joins are NOT IN / LEFT JOIN … IS NULL, never correlated subqueries).

-- 1. Plays whose event is no longer staged (its file was replaced) go away. The DuckDB backend
--    runs this only when the load replaced a file of an earlier load.
DELETE FROM analytics.songplays
WHERE songplay_id NOT IN (
    SELECT p.songplay_id
    FROM analytics.songplays AS p
    JOIN staging.staging_events AS e
      ON e.page = 'NextSong' AND e.user_id <> ''
     AND CAST(e.user_id AS BIGINT) = p.user_id AND e.session_id = p.session_id
     AND e.item_in_session = p.item_in_session AND {{ epoch_ms(e.ts) }} = p.start_time
);

-- 2. The key of every play this load staged, whether it staged it more than once, and its
--    songplay_id: a play already in the table (old_id) keeps its own; a new one gets the next
--    after the largest given so far, in (ts, user_id, session_id, item_in_session) order. The
--    copies of an event share its number (dense_rank), and one row per play is kept; one sort
--    serves every window (partitioned into plays old and new; a copy follows its first copy, so
--    `lead` tells whether there are more). Redshift has neither a WINDOW clause nor RANGE frames,
--    so each OVER is spelled out.
CREATE TEMP TABLE {{ temp(songplays_new) }} AS
SELECT user_id, session_id, item_in_session, ts, copied, old_id,
       COALESCE(old_id, (SELECT COALESCE(MAX(songplay_id), 0) FROM analytics.songplays) + number) AS songplay_id
FROM (
    SELECT e.user_id, e.session_id, e.item_in_session, e.ts, p.songplay_id AS old_id,
           dense_rank() OVER (PARTITION BY p.songplay_id IS NULL
                              ORDER BY e.ts, e.user_id, e.session_id, e.item_in_session) AS number,
           CASE WHEN lead(e.ts) OVER (PARTITION BY p.songplay_id IS NULL
                                      ORDER BY e.ts, e.user_id, e.session_id, e.item_in_session) = e.ts
                 AND lead(e.user_id) OVER (PARTITION BY p.songplay_id IS NULL
                                           ORDER BY e.ts, e.user_id, e.session_id, e.item_in_session) = e.user_id
                 AND lead(e.session_id) OVER (PARTITION BY p.songplay_id IS NULL
                                              ORDER BY e.ts, e.user_id, e.session_id, e.item_in_session)
                     = e.session_id
                 AND lead(e.item_in_session) OVER (PARTITION BY p.songplay_id IS NULL
                                                   ORDER BY e.ts, e.user_id, e.session_id, e.item_in_session)
                     = e.item_in_session
                THEN 1 ELSE 0 END AS copied,
           row_number() OVER (PARTITION BY p.songplay_id IS NULL
                              ORDER BY e.ts, e.user_id, e.session_id, e.item_in_session) AS copy,
           rank() OVER (PARTITION BY p.songplay_id IS NULL
                        ORDER BY e.ts, e.user_id, e.session_id, e.item_in_session) AS first_copy
    FROM (
        SELECT CAST(user_id AS BIGINT) AS user_id, session_id, item_in_session, ts
        FROM staging.staging_events
        WHERE page = 'NextSong' AND user_id <> ''
          AND ts IS NOT NULL AND session_id IS NOT NULL AND item_in_session IS NOT NULL
          AND load_id = {{ this_load() }}
    ) AS e
    LEFT JOIN analytics.songplays AS p  -- the bound is implied: only the plays from then on are read
      ON p.user_id = e.user_id AND p.session_id = e.session_id
     AND p.item_in_session = e.item_in_session AND p.start_time = {{ epoch_ms(e.ts) }}
     AND p.start_time >= {{ this_load_since() }}
) AS keys
WHERE copy = first_copy;

-- 2b. The plays this load staged again make way for their new rows (same songplay_id), built by
--     the steps below like new plays: a corrected file updates the plays it feeds.
DELETE FROM analytics.songplays
WHERE songplay_id IN (SELECT old_id FROM {{ temp(songplays_new) }} WHERE old_id IS NOT NULL);

-- 3. Songs with their own artist name, and how many songs share that (title, name).
CREATE TEMP TABLE {{ temp(songplays_songs) }} AS
SELECT song_id, artist_id, title, artist_name AS name, duration,
       count(*) OVER (PARTITION BY title, artist_name) AS namesakes
FROM analytics.songs;

-- 4. The few new plays that need ranking: those staged more than once, and those whose title and
--    artist name several songs. Per play: the copy that gives its columns, and its best song.
--    Both kinds are looked up from their own few rows (the copied plays, the shared titles): an
--    event of this load with a play's key is that play's copy (step 2 made a play of every one),
--    so no hash table holds every new play (PostgreSQL at 1 M events: 2.7-3.4 s for 56 plays
--    when every event was joined to every new play first).
CREATE TEMP TABLE {{ temp(songplays_ranked) }} AS
WITH play_copies AS (
    SELECT e.play_user_id AS user_id, e.session_id, e.item_in_session, e.ts, e.load_id, e.source_file,
           e.source_line, e.length, e.title, e.name
    FROM (
        -- play_user_id: as in step 5
        SELECT e.*,
               CASE WHEN e.page = 'NextSong' AND e.user_id <> '' THEN CAST(e.user_id AS BIGINT) END AS play_user_id,
               {{ clean(COALESCE(rs.fixed, e.song)) }} AS title, {{ clean(COALESCE(ra.fixed, e.artist)) }} AS name
        FROM staging.staging_events AS e
        LEFT JOIN staging.text_repairs AS rs ON rs.raw_text = e.song
        LEFT JOIN staging.text_repairs AS ra ON ra.raw_text = e.artist
        WHERE e.load_id = {{ this_load() }}
    ) AS e
    LEFT JOIN (SELECT user_id, session_id, item_in_session, ts FROM {{ temp(songplays_new) }} WHERE copied = 1) AS n
      ON n.user_id = e.play_user_id AND n.session_id = e.session_id
     AND n.item_in_session = e.item_in_session AND n.ts = e.ts
    LEFT JOIN (SELECT DISTINCT title, name FROM {{ temp(songplays_songs) }} WHERE namesakes > 1) AS shared
      ON shared.title = e.title AND shared.name = e.name
    WHERE n.user_id IS NOT NULL
       OR (shared.title IS NOT NULL AND e.play_user_id IS NOT NULL AND e.session_id IS NOT NULL
           AND e.item_in_session IS NOT NULL AND e.ts IS NOT NULL)
)
SELECT c.user_id, c.session_id, c.item_in_session, c.ts, c.load_id, c.source_file, c.source_line,
       best.song_id, best.artist_id
FROM (
    SELECT play_copies.*, row_number() OVER (
        PARTITION BY user_id, session_id, item_in_session, ts
        ORDER BY load_id DESC, source_file, source_line
    ) AS copy
    FROM play_copies
) AS c
LEFT JOIN (
    SELECT user_id, session_id, item_in_session, ts, song_id, artist_id
    FROM (
        SELECT c.user_id, c.session_id, c.item_in_session, c.ts, s.song_id, s.artist_id,
               row_number() OVER (
                   PARTITION BY c.user_id, c.session_id, c.item_in_session, c.ts
                   ORDER BY abs(s.duration - c.length) NULLS LAST, s.song_id
               ) AS rank
        FROM play_copies AS c
        JOIN {{ temp(songplays_songs) }} AS s ON s.title = c.title AND s.name = c.name
    ) AS candidates
    WHERE rank = 1
) AS best
  ON best.user_id = c.user_id AND best.session_id = c.session_id
 AND best.item_in_session = c.item_in_session AND best.ts = c.ts
WHERE c.copy = 1;

-- 5. The new plays that need no ranking: one copy, naming at most one song. Every play keeps the
--    event's own song, artist (after repair) and length, whether a catalogue song matched or not.
INSERT INTO analytics.songplays (songplay_id, start_time, user_id, level, song_id, artist_id,
                                 session_id, location, user_agent, item_in_session,
                                 song_title, artist_name, length)
SELECT n.songplay_id, {{ epoch_ms(n.ts) }}, n.user_id, {{ clean(e.level) }}, s.song_id, s.artist_id,
       n.session_id, {{ clean(COALESCE(t.fixed, e.location)) }}, {{ clean(TRIM(BOTH '"' FROM e.user_agent)) }},
       n.item_in_session, e.title, e.name, e.length
FROM (
    -- play_user_id: the user of a NextSong event, NULL for other events (they join no play).
    -- Joining on it instead of filtering the events first lets DuckDB see this side as the whole
    -- table, so it keeps the narrow new plays in memory for the join, not the wide events.
    -- title and name, the song and artist after repair and cleaning, are computed once here: the
    -- song match joins on them and the play keeps them.
    SELECT e.level, e.location, e.user_agent, e.length, e.session_id, e.item_in_session, e.ts,
           CASE WHEN e.page = 'NextSong' AND e.user_id <> '' THEN CAST(e.user_id AS BIGINT) END AS play_user_id,
           {{ clean(COALESCE(rs.fixed, e.song)) }} AS title, {{ clean(COALESCE(ra.fixed, e.artist)) }} AS name
    FROM staging.staging_events AS e
    LEFT JOIN staging.text_repairs AS rs ON rs.raw_text = e.song
    LEFT JOIN staging.text_repairs AS ra ON ra.raw_text = e.artist
    WHERE e.load_id = {{ this_load() }}
) AS e
JOIN {{ temp(songplays_new) }} AS n
  ON n.user_id = e.play_user_id AND n.session_id = e.session_id
 AND n.item_in_session = e.item_in_session AND n.ts = e.ts
LEFT JOIN {{ temp(songplays_songs) }} AS s
  ON s.namesakes = 1 AND s.title = e.title AND s.name = e.name
LEFT JOIN staging.text_repairs AS t ON t.raw_text = e.location
LEFT JOIN {{ temp(songplays_ranked) }} AS r
  ON r.user_id = n.user_id AND r.session_id = n.session_id
 AND r.item_in_session = n.item_in_session AND r.ts = n.ts
WHERE r.user_id IS NULL;

-- 6. The ranked plays: their chosen copy, with the song ranked in step 4.
INSERT INTO analytics.songplays (songplay_id, start_time, user_id, level, song_id, artist_id,
                                 session_id, location, user_agent, item_in_session,
                                 song_title, artist_name, length)
SELECT n.songplay_id, {{ epoch_ms(n.ts) }}, n.user_id, {{ clean(e.level) }}, r.song_id, r.artist_id,
       n.session_id, {{ clean(COALESCE(t.fixed, e.location)) }}, {{ clean(TRIM(BOTH '"' FROM e.user_agent)) }},
       n.item_in_session, {{ clean(COALESCE(rs.fixed, e.song)) }}, {{ clean(COALESCE(ra.fixed, e.artist)) }}, e.length
FROM {{ temp(songplays_ranked) }} AS r
JOIN staging.staging_events AS e  -- every ranked copy is this load's: only its events are read
  ON e.load_id = r.load_id AND e.source_file = r.source_file AND e.source_line = r.source_line
 AND e.load_id = {{ this_load() }}
JOIN {{ temp(songplays_new) }} AS n
  ON n.user_id = r.user_id AND n.session_id = r.session_id
 AND n.item_in_session = r.item_in_session AND n.ts = r.ts
LEFT JOIN staging.text_repairs AS t ON t.raw_text = e.location
LEFT JOIN staging.text_repairs AS rs ON rs.raw_text = e.song
LEFT JOIN staging.text_repairs AS ra ON ra.raw_text = e.artist;

DROP TABLE {{ temp(songplays_new) }};

DROP TABLE {{ temp(songplays_ranked) }};

DROP TABLE {{ temp(songplays_songs) }};
