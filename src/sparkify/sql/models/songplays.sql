-- songplays: one row per NextSong event with a non-empty userId, identified by
-- (user_id, session_id, item_in_session, start_time). Incremental: events already in the table
-- are left alone, events no longer staged are removed, and new events get the next songplay_ids
-- in time order. song_id/artist_id come from staging.song_matches.
DELETE FROM analytics.songplays
WHERE NOT EXISTS (
    SELECT 1 FROM staging.staging_events AS e
    WHERE e.page = 'NextSong' AND e.user_id <> ''
      AND CAST(e.user_id AS BIGINT) = analytics.songplays.user_id
      AND e.session_id = analytics.songplays.session_id
      AND e.item_in_session = analytics.songplays.item_in_session
      AND epoch_ms(e.ts) = analytics.songplays.start_time
);

INSERT INTO analytics.songplays (songplay_id, start_time, user_id, level, song_id, artist_id,
                                 session_id, location, user_agent, item_in_session)
WITH plays AS (
    SELECT *
    FROM (
        SELECT e.*, row_number() OVER (
            PARTITION BY CAST(user_id AS BIGINT), session_id, item_in_session, ts
            ORDER BY load_id DESC, source_file, source_line
        ) AS copy
        FROM staging.staging_events AS e
        WHERE page = 'NextSong' AND user_id <> ''
          AND ts IS NOT NULL AND session_id IS NOT NULL AND item_in_session IS NOT NULL
    ) AS numbered
    WHERE copy = 1
),
new_plays AS (
    SELECT p.*
    FROM plays AS p
    WHERE NOT EXISTS (
        SELECT 1 FROM analytics.songplays AS s
        WHERE s.user_id = CAST(p.user_id AS BIGINT) AND s.session_id = p.session_id
          AND s.item_in_session = p.item_in_session AND s.start_time = epoch_ms(p.ts)
    )
)
SELECT (SELECT COALESCE(MAX(songplay_id), 0) FROM analytics.songplays)
         + row_number() OVER (ORDER BY n.ts, CAST(n.user_id AS BIGINT), n.session_id, n.item_in_session),
       epoch_ms(n.ts), CAST(n.user_id AS BIGINT), n.level, m.song_id, m.artist_id,
       n.session_id, COALESCE(t.fixed, n.location), TRIM(BOTH '"' FROM n.user_agent), n.item_in_session
FROM new_plays AS n
LEFT JOIN staging.text_repairs AS t ON t.raw = n.location
LEFT JOIN staging.song_matches AS m
  ON m.user_id = CAST(n.user_id AS BIGINT) AND m.session_id = n.session_id
 AND m.item_in_session = n.item_in_session AND m.ts = n.ts;
