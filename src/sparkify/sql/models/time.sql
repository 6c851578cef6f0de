-- time: one row per distinct songplay start_time, broken into units analysts group by.
-- weekday: 0 = Sunday … 6 = Saturday; week: ISO week number.
-- Anti-joins are NOT IN / LEFT JOIN … IS NULL: Redshift runs no correlated subqueries.
DELETE FROM analytics."time"
WHERE start_time NOT IN (SELECT start_time FROM analytics.songplays);

INSERT INTO analytics."time" (start_time, hour, day, week, month, year, weekday)
SELECT played.start_time,
       EXTRACT(hour FROM played.start_time), EXTRACT(day FROM played.start_time),
       EXTRACT(week FROM played.start_time), EXTRACT(month FROM played.start_time),
       EXTRACT(year FROM played.start_time), EXTRACT(dow FROM played.start_time)
FROM (SELECT DISTINCT start_time FROM analytics.songplays) AS played
LEFT JOIN analytics."time" AS t ON t.start_time = played.start_time
WHERE t.start_time IS NULL;
