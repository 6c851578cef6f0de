-- Built-in data-quality checks, run by `sparkify check` and after every `sparkify etl`.
--
-- Format (the same for a file of your own, `sparkify check --checks-file FILE.sql`):
--   -- check: NAME              starts a check; NAME is unique
--   -- description: TEXT        what the check guarantees (optional)
--   -- expect: OP NUMBER        OP is one of = != <> > >= < <=; a bare NUMBER means "="; default "= 0"
--   SELECT ...;                 one query; the first column of its first row is the check's result
--
-- Most checks count offending rows and expect 0. The SQL is portable: DuckDB, PostgreSQL and
-- Redshift all run it as written (no IS DISTINCT FROM, no dialect-only functions).
--
-- What a load changed: `{{ since_load(x) }}` is true for a row whose time x (a TIMESTAMP) is not
-- known to be older than the earliest event the load staged, `{{ since_load_ms(x) }}` the same for
-- a staged ts (BIGINT milliseconds). `sparkify check`, a first or full load, a load that replaced or
-- removed files or changed songs, and a load after one whose checks did not all pass, check the
-- whole star: there both are always true. A load that only added events after a fully checked
-- one checks the rows it can have changed: every model changes rows at or after that time only
-- (songplays and page views of its events, their times, user versions in effect from then on).
-- The counts of rows (*_not_empty) are of every row: their result is the table's size.

-- ---------------------------------------------------------------- every table has rows

-- check: songplays_not_empty
-- description: analytics.songplays has rows
-- expect: > 0
SELECT count(*) FROM analytics.songplays;

-- check: users_not_empty
-- description: analytics.users has rows
-- expect: > 0
SELECT count(*) FROM analytics.users;

-- check: songs_not_empty
-- description: analytics.songs has rows
-- expect: > 0
SELECT count(*) FROM analytics.songs;

-- check: artists_not_empty
-- description: analytics.artists has rows
-- expect: > 0
SELECT count(*) FROM analytics.artists;

-- check: time_not_empty
-- description: analytics."time" has rows
-- expect: > 0
SELECT count(*) FROM analytics."time";

-- check: page_views_not_empty
-- description: analytics.page_views has rows
-- expect: > 0
SELECT count(*) FROM analytics.page_views;

-- ---------------------------------------------------------------- no NULL keys

-- check: songplays_keys_not_null
-- description: songplays with a NULL songplay_id, start_time, user_id, session_id or item_in_session
SELECT count(*) FROM analytics.songplays
WHERE {{ since_load(start_time) }}
  AND (songplay_id IS NULL OR start_time IS NULL OR user_id IS NULL
       OR session_id IS NULL OR item_in_session IS NULL);

-- check: users_keys_not_null
-- description: user versions with a NULL user_id or valid_from
SELECT count(*) FROM analytics.users WHERE user_id IS NULL OR valid_from IS NULL;

-- check: songs_keys_not_null
-- description: songs with a NULL song_id
SELECT count(*) FROM analytics.songs WHERE song_id IS NULL;

-- check: artists_keys_not_null
-- description: artists with a NULL artist_id
SELECT count(*) FROM analytics.artists WHERE artist_id IS NULL;

-- check: time_keys_not_null
-- description: time rows with a NULL start_time
SELECT count(*) FROM analytics."time" WHERE start_time IS NULL;

-- ---------------------------------------------------------------- unique primary keys (Redshift does not enforce them)

-- check: songplays_id_unique
-- description: songplay_ids used more than once
-- (a load's new plays take the ids after the largest so far, so the ids from the smallest of its
-- plays on hold every pair that one of them is in; "+ 0" keeps PostgreSQL from looking for that
-- smallest id by walking the primary key from the oldest play)
SELECT count(*) FROM (
    SELECT songplay_id FROM analytics.songplays
    WHERE songplay_id >= (SELECT min(songplay_id + 0) FROM analytics.songplays WHERE {{ since_load(start_time) }})
    GROUP BY songplay_id HAVING count(*) > 1
) AS dup;

-- check: songplays_event_unique
-- description: events (user_id, session_id, item_in_session, start_time) that are more than one songplay
SELECT count(*) FROM (
    SELECT user_id, session_id, item_in_session, start_time FROM analytics.songplays
    WHERE {{ since_load(start_time) }}
    GROUP BY user_id, session_id, item_in_session, start_time HAVING count(*) > 1
) AS dup;

-- check: users_version_unique
-- description: (user_id, valid_from) used by more than one user version
SELECT count(*) FROM (
    SELECT user_id, valid_from FROM analytics.users GROUP BY user_id, valid_from HAVING count(*) > 1
) AS dup;

-- check: songs_id_unique
-- description: song_ids used more than once
SELECT count(*) FROM (
    SELECT song_id FROM analytics.songs GROUP BY song_id HAVING count(*) > 1
) AS dup;

-- check: artists_id_unique
-- description: artist_ids used more than once
SELECT count(*) FROM (
    SELECT artist_id FROM analytics.artists GROUP BY artist_id HAVING count(*) > 1
) AS dup;

-- check: time_start_time_unique
-- description: start_times in "time" more than once
SELECT count(*) FROM (
    SELECT start_time FROM analytics."time" WHERE {{ since_load(start_time) }}
    GROUP BY start_time HAVING count(*) > 1
) AS dup;

-- ---------------------------------------------------------------- every songplay's keys are in their dimension

-- check: songplays_user_in_users
-- description: songplays whose user_id is not in users
SELECT count(*) FROM analytics.songplays AS p
WHERE {{ since_load(p.start_time) }}
  AND NOT EXISTS (SELECT 1 FROM analytics.users AS u WHERE u.user_id = p.user_id);

-- check: songplays_song_in_songs
-- description: songplays whose song_id (when known) is not in songs
SELECT count(*) FROM analytics.songplays AS p
WHERE {{ since_load(p.start_time) }} AND p.song_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM analytics.songs AS s WHERE s.song_id = p.song_id);

-- check: songplays_artist_in_artists
-- description: songplays whose artist_id (when known) is not in artists
SELECT count(*) FROM analytics.songplays AS p
WHERE {{ since_load(p.start_time) }} AND p.artist_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM analytics.artists AS a WHERE a.artist_id = p.artist_id);

-- check: songplays_start_time_in_time
-- description: songplays whose start_time is not in "time"
SELECT count(*) FROM analytics.songplays AS p
WHERE {{ since_load(p.start_time) }}
  AND NOT EXISTS (SELECT 1 FROM analytics."time" AS t
                  WHERE t.start_time = p.start_time AND {{ since_load(t.start_time) }});

-- check: songs_artist_in_artists
-- description: songs whose artist_id is not in artists
SELECT count(*) FROM analytics.songs AS s
WHERE s.artist_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM analytics.artists AS a WHERE a.artist_id = s.artist_id);

-- ---------------------------------------------------------------- user versions (slowly changing dimension, type 2)

-- check: users_one_current_version
-- description: users without exactly one current version
SELECT count(*) FROM (
    SELECT user_id FROM analytics.users
    GROUP BY user_id HAVING sum(CASE WHEN is_current THEN 1 ELSE 0 END) <> 1
) AS bad;

-- check: users_current_is_open
-- description: user versions where is_current does not match "valid_to is NULL", or valid_to <= valid_from
SELECT count(*) FROM analytics.users
WHERE (is_current AND valid_to IS NOT NULL)
   OR (NOT is_current AND valid_to IS NULL)
   OR valid_to <= valid_from;

-- check: users_versions_do_not_overlap
-- description: pairs of versions of one user whose [valid_from, valid_to) intervals overlap
SELECT count(*) FROM analytics.users AS a
JOIN analytics.users AS b
  ON b.user_id = a.user_id AND b.valid_from > a.valid_from
WHERE a.valid_to IS NULL OR a.valid_to > b.valid_from;

-- check: songplays_level_matches_user_version
-- description: songplays whose level differs from the level of the user's version at start_time (or with no version then); a play tied with another play of the user in the same millisecond at another level is not counted (the version takes the last by session_id, item_in_session)
-- (the plays without such a version are found first, by an anti-join written as LEFT JOIN … IS
-- NULL, as a few groups of (user, time, level), and only those are looked for among the user's
-- other plays: a correlated NOT EXISTS with the version's time range, and every play joined with
-- the other plays of its user and time first, took most of this check's time on DuckDB)
SELECT COALESCE(SUM(m.plays), 0) FROM (
    SELECT p.user_id, p.start_time, p.level, count(*) AS plays
    FROM analytics.songplays AS p
    LEFT JOIN analytics.users AS u
      ON u.user_id = p.user_id
     AND u.valid_from <= p.start_time
     AND (u.valid_to IS NULL OR p.start_time < u.valid_to)
     AND (p.level IS NULL OR u.level = p.level)
    WHERE {{ since_load(p.start_time) }} AND u.user_id IS NULL
    GROUP BY p.user_id, p.start_time, p.level
) AS m
WHERE NOT EXISTS (
    SELECT 1 FROM analytics.songplays AS q
    WHERE q.user_id = m.user_id AND q.start_time = m.start_time AND q.level <> m.level
      AND {{ since_load(q.start_time) }}  -- implied by m's; said so that only the window is read
);

-- ---------------------------------------------------------------- the star agrees with staging

-- check: songplays_match_staged_events
-- description: songplays minus distinct staged NextSong events with a userId (duplicates staged twice count once)
SELECT (SELECT count(*) FROM analytics.songplays WHERE {{ since_load(start_time) }})
     - (SELECT count(*) FROM (
            SELECT DISTINCT user_id, session_id, item_in_session, ts FROM staging.staging_events
            WHERE page = 'NextSong' AND user_id <> '' AND {{ since_load_ms(ts) }}
              AND ts IS NOT NULL AND session_id IS NOT NULL AND item_in_session IS NOT NULL
        ) AS events);

-- check: page_views_match_staged_events
-- description: page views minus distinct staged events with a userId, page, ts, session and item (duplicates staged twice count once)
SELECT (SELECT count(*) FROM analytics.page_views WHERE {{ since_load(start_time) }})
     - (SELECT count(*) FROM (
            SELECT DISTINCT user_id, session_id, item_in_session, ts FROM staging.staging_events
            WHERE user_id <> '' AND NULLIF(TRIM(page), '') IS NOT NULL AND {{ since_load_ms(ts) }}
              AND ts IS NOT NULL AND session_id IS NOT NULL AND item_in_session IS NOT NULL
        ) AS events);

-- check: page_views_event_unique
-- description: page views sharing (user_id, session_id, item_in_session, start_time) with another
SELECT count(*) - (SELECT count(*) FROM (
           SELECT DISTINCT user_id, session_id, item_in_session, start_time FROM analytics.page_views
           WHERE {{ since_load(start_time) }}
       ) AS keys)
FROM analytics.page_views
WHERE {{ since_load(start_time) }};

-- check: songplays_within_staged_ts_range
-- description: songplays whose start_time is outside the range of staged event timestamps
-- (for the plays since the load, the range of the events staged since then: the same last one)
SELECT count(*) FROM analytics.songplays AS p
CROSS JOIN (
    SELECT TIMESTAMP 'epoch' + (min(ts) / 1000.0) * INTERVAL '1 second' AS first_ts,
           TIMESTAMP 'epoch' + (max(ts) / 1000.0) * INTERVAL '1 second' AS last_ts
    FROM staging.staging_events
    WHERE {{ since_load_ms(ts) }}
) AS r
WHERE {{ since_load(p.start_time) }}
  AND (r.first_ts IS NULL OR p.start_time < r.first_ts OR p.start_time > r.last_ts);
