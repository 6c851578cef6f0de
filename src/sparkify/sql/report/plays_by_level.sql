-- title: Plays and listening time by level
-- description: Plays, listeners and hours listened by level (free or paid) at the time of the play. Hours come from the staged events' song length (deduplicated like songplays), since songplays has no duration.
-- chart: bar label=level value=plays
WITH listening AS (
    SELECT level, sum(length) AS seconds
    FROM (
        SELECT level, length, row_number() OVER (
            PARTITION BY user_id, session_id, item_in_session, ts
            ORDER BY load_id DESC, source_file, source_line
        ) AS copy
        FROM staging.staging_events
        WHERE page = 'NextSong' AND user_id <> ''
          AND ts IS NOT NULL AND session_id IS NOT NULL AND item_in_session IS NOT NULL
    ) AS events
    WHERE copy = 1
    GROUP BY level
),
plays AS (
    SELECT level, count(*) AS plays, count(DISTINCT user_id) AS listeners
    FROM analytics.songplays
    GROUP BY level
)
SELECT p.level, p.plays,
       ROUND(100.0 * p.plays / (SELECT count(*) FROM analytics.songplays), 1) AS share_pct,
       p.listeners,
       ROUND(CAST(l.seconds / 3600.0 AS DECIMAL(18, 3)), 1) AS listening_hours
FROM plays AS p
LEFT JOIN listening AS l ON l.level = p.level
ORDER BY p.plays DESC;
