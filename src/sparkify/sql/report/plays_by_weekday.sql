-- title: Plays by weekday
-- description: Plays per day of the week (UTC).
-- chart: bar label=weekday_name value=plays vertical
SELECT t.weekday,
       CASE t.weekday WHEN 0 THEN 'Sun' WHEN 1 THEN 'Mon' WHEN 2 THEN 'Tue' WHEN 3 THEN 'Wed'
                      WHEN 4 THEN 'Thu' WHEN 5 THEN 'Fri' ELSE 'Sat' END AS weekday_name,
       count(*) AS plays
FROM {songplays} AS p
JOIN analytics."time" AS t ON t.start_time = p.start_time
GROUP BY t.weekday
ORDER BY t.weekday;
