-- songplays on Redshift: the same rows and ids as sql/models/songplays.sql. Identified by
-- (user_id, session_id, item_in_session, start_time); events already in the table are left alone,
-- events no longer staged are removed, new ones get the next songplay_ids in time order. A mangled
-- location is repaired through staging.text_repairs; song_id/artist_id come from staging.song_matches
-- (sql/models/song_matches.sql, shared: it matches on the repaired song and artist). user_id is
-- compared as a number, as the table's key has it.
-- Anti-joins are written as NOT IN / LEFT JOIN (no correlated subqueries on Redshift).
DELETE FROM analytics.songplays
WHERE songplay_id NOT IN (
    SELECT p.songplay_id
    FROM analytics.songplays AS p
    JOIN staging.staging_events AS e
      ON e.page = 'NextSong' AND e.user_id <> ''
     AND CAST(e.user_id AS BIGINT) = p.user_id AND e.session_id = p.session_id
     AND e.item_in_session = p.item_in_session
     AND TIMESTAMP 'epoch' + e.ts * INTERVAL '0.001 second' = p.start_time
);

DROP TABLE IF EXISTS new_plays;

CREATE TEMP TABLE new_plays AS
SELECT n.user_id, n.session_id, n.item_in_session, n.ts, n.level, n.location, n.user_agent,
       TIMESTAMP 'epoch' + n.ts * INTERVAL '0.001 second' AS start_time
FROM (
    SELECT user_id, session_id, item_in_session, ts, level, location, user_agent,
           row_number() OVER (
               PARTITION BY CAST(user_id AS BIGINT), session_id, item_in_session, ts
               ORDER BY load_id DESC, source_file, source_line
           ) AS copy
    FROM staging.staging_events
    WHERE page = 'NextSong' AND user_id <> ''
      AND ts IS NOT NULL AND session_id IS NOT NULL AND item_in_session IS NOT NULL
) AS n
LEFT JOIN analytics.songplays AS s
  ON s.user_id = CAST(n.user_id AS BIGINT) AND s.session_id = n.session_id
 AND s.item_in_session = n.item_in_session
 AND s.start_time = TIMESTAMP 'epoch' + n.ts * INTERVAL '0.001 second'
WHERE n.copy = 1 AND s.songplay_id IS NULL;

INSERT INTO analytics.songplays (songplay_id, start_time, user_id, level, song_id, artist_id,
                                 session_id, location, user_agent, item_in_session)
SELECT (SELECT COALESCE(MAX(songplay_id), 0) FROM analytics.songplays)
         + row_number() OVER (ORDER BY n.ts, CAST(n.user_id AS BIGINT), n.session_id, n.item_in_session),
       n.start_time, CAST(n.user_id AS BIGINT), n.level, m.song_id, m.artist_id,
       n.session_id, COALESCE(t.fixed, n.location), BTRIM(n.user_agent, '"'), n.item_in_session
FROM new_plays AS n
LEFT JOIN staging.text_repairs AS t ON t.raw_text = n.location
LEFT JOIN staging.song_matches AS m
  ON CAST(m.user_id AS BIGINT) = CAST(n.user_id AS BIGINT) AND m.session_id = n.session_id
 AND m.item_in_session = n.item_in_session AND m.ts = n.ts;

DROP TABLE new_plays;
