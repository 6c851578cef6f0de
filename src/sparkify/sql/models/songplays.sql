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
WITH events AS (
    SELECT load_id, source_file, source_line, CAST(user_id AS BIGINT) AS user_id, session_id, item_in_session, ts,
           level, location, user_agent
    FROM staging.staging_events
    WHERE page = 'NextSong' AND user_id <> ''
      AND ts IS NOT NULL AND session_id IS NOT NULL AND item_in_session IS NOT NULL
),
copied AS (
    -- events staged more than once (a re-delivered or overlapping file): rare, so only they are
    -- ranked, and the most recently loaded copy is kept
    SELECT user_id, session_id, item_in_session, ts
    FROM events
    GROUP BY user_id, session_id, item_in_session, ts
    HAVING COUNT(*) > 1
),
plays AS (
    SELECT e.user_id, e.session_id, e.item_in_session, e.ts, e.level, e.location, e.user_agent
    FROM events AS e
    WHERE NOT EXISTS (
        SELECT 1 FROM copied AS c
        WHERE c.user_id = e.user_id AND c.session_id = e.session_id
          AND c.item_in_session = e.item_in_session AND c.ts = e.ts
    )
    UNION ALL
    SELECT user_id, session_id, item_in_session, ts, level, location, user_agent
    FROM (
        SELECT e.*, row_number() OVER (
            PARTITION BY e.user_id, e.session_id, e.item_in_session, e.ts
            ORDER BY e.load_id DESC, e.source_file, e.source_line
        ) AS copy
        FROM events AS e
        JOIN copied AS c
          ON c.user_id = e.user_id AND c.session_id = e.session_id
         AND c.item_in_session = e.item_in_session AND c.ts = e.ts
    ) AS ranked
    WHERE copy = 1
),
new_plays AS (
    SELECT p.*
    FROM plays AS p
    WHERE NOT EXISTS (
        SELECT 1 FROM analytics.songplays AS s
        WHERE s.user_id = p.user_id AND s.session_id = p.session_id
          AND s.item_in_session = p.item_in_session AND s.start_time = epoch_ms(p.ts)
    )
)
SELECT (SELECT COALESCE(MAX(songplay_id), 0) FROM analytics.songplays)
         + row_number() OVER (ORDER BY n.ts, n.user_id, n.session_id, n.item_in_session),
       epoch_ms(n.ts), n.user_id, n.level, m.song_id, m.artist_id,
       n.session_id, COALESCE(t.fixed, n.location), TRIM(BOTH '"' FROM n.user_agent), n.item_in_session
FROM new_plays AS n
LEFT JOIN staging.text_repairs AS t ON t.raw = n.location
LEFT JOIN staging.song_matches AS m
  ON m.user_id = n.user_id AND m.session_id = n.session_id
 AND m.item_in_session = n.item_in_session AND m.ts = n.ts;
