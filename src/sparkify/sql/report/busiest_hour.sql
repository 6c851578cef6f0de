-- title: Busiest hour
-- description: The hour of the day (UTC) with the most plays.
-- chart: none
SELECT t.hour, count(*) AS plays,
       ROUND(100.0 * count(*) / (SELECT count(*) FROM {songplays} AS songplays), 1) AS share_pct
FROM {songplays} AS p
JOIN analytics."time" AS t ON t.start_time = p.start_time
GROUP BY t.hour
ORDER BY plays DESC, t.hour
LIMIT 1;
