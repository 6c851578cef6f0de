-- time: one row per distinct songplay start_time, broken into units analysts group by.
-- weekday: 0 = Sunday … 6 = Saturday; week: ISO week number.
DELETE FROM analytics."time"
WHERE NOT EXISTS (SELECT 1 FROM analytics.songplays AS p WHERE p.start_time = analytics."time".start_time);

INSERT INTO analytics."time" (start_time, hour, day, week, month, year, weekday)
SELECT start_time,
       EXTRACT(hour FROM start_time), EXTRACT(day FROM start_time), EXTRACT(week FROM start_time),
       EXTRACT(month FROM start_time), EXTRACT(year FROM start_time), EXTRACT(dow FROM start_time)
FROM (SELECT DISTINCT start_time FROM analytics.songplays) AS played
WHERE NOT EXISTS (SELECT 1 FROM analytics."time" AS t WHERE t.start_time = played.start_time);
