-- title: Plays by hour of day
-- description: Plays per hour of the day (UTC), all days together; the busiest hour stands out.
-- chart: bar label=hour value=plays vertical
SELECT t.hour, count(*) AS plays,
       ROUND(100.0 * count(*) / (SELECT count(*) FROM {songplays} AS songplays), 1) AS share_pct
FROM {songplays} AS p
JOIN analytics."time" AS t ON t.start_time = p.start_time
GROUP BY t.hour
ORDER BY t.hour;
