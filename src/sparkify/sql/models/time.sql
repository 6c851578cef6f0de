-- time: one row per distinct songplay start_time, broken into units analysts group by.
-- weekday: 0 = Sunday … 6 = Saturday; week: ISO week number.
-- Anti-joins are NOT IN / LEFT JOIN … IS NULL: Redshift runs no correlated subqueries.
--
-- Incremental: a new start_time can only come with a play of this load, so only this load's
-- events that are plays (songplays.sql, step 2: NextSong, a userId, a time, a session and an
-- item) are read; when the table is empty (a first load), every play's time instead, which
-- holds this load's (one pass over the plays, not both).

-- 1. Times no play has any more go. The DuckDB and PostgreSQL backends run this only when the
--    load replaced or removed an event file (nothing else takes a play away).
DELETE FROM analytics."time"
WHERE start_time NOT IN (SELECT start_time FROM analytics.songplays);

-- 2. The times of this load's plays that are not there yet.
INSERT INTO analytics."time" (start_time, hour, day, week, month, year, weekday)
SELECT played.start_time,
       EXTRACT(hour FROM played.start_time), EXTRACT(day FROM played.start_time),
       EXTRACT(week FROM played.start_time), EXTRACT(month FROM played.start_time),
       EXTRACT(year FROM played.start_time), EXTRACT(dow FROM played.start_time)
FROM (
    -- The table empty (a first load): every play's time, this load's plays included (songplays
    -- is built first). Otherwise the times of this load's plays alone.
    SELECT DISTINCT start_time
    FROM (
        SELECT {{ epoch_ms(ts) }} AS start_time
        FROM staging.staging_events
        WHERE page = 'NextSong' AND user_id <> ''
          AND ts IS NOT NULL AND session_id IS NOT NULL AND item_in_session IS NOT NULL
          AND load_id = {{ this_load() }}
          AND EXISTS (SELECT 1 FROM analytics."time")
        UNION ALL
        SELECT start_time FROM analytics.songplays WHERE NOT EXISTS (SELECT 1 FROM analytics."time")
    ) AS times
) AS played
LEFT JOIN analytics."time" AS t  -- only times from the load's earliest event on can match (when the
  ON t.start_time = played.start_time  -- table was empty, the plays before it meet no time either)
 AND t.start_time >= {{ this_load_since() }}
WHERE t.start_time IS NULL;
