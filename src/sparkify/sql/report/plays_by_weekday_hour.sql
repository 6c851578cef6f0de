-- title: Plays by weekday and hour
-- description: Plays per weekday (0 = Sunday) and hour of the day (UTC): when people listen.
-- chart: heatmap x=hour y=weekday value=plays
SELECT t.weekday, t.hour, count(*) AS plays
FROM {songplays} AS p
JOIN analytics."time" AS t ON t.start_time = p.start_time
GROUP BY t.weekday, t.hour
ORDER BY t.weekday, t.hour;
