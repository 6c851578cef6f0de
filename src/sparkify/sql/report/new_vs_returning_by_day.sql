-- title: New and returning listeners per day
-- description: Listeners per day (UTC): new ones played for the first time ever that day, returning ones had played before.
-- chart: line x=day y=new_listeners,returning_listeners ytitle=listeners
WITH firsts AS (
    SELECT user_id, CAST(min(start_time) AS DATE) AS first_day
    FROM analytics.songplays
    GROUP BY user_id
),
daily AS (
    SELECT DISTINCT user_id, CAST(start_time AS DATE) AS day
    FROM {songplays} AS p
)
SELECT d.day, count(*) AS listeners,
       sum(CASE WHEN d.day = f.first_day THEN 1 ELSE 0 END) AS new_listeners,
       sum(CASE WHEN d.day > f.first_day THEN 1 ELSE 0 END) AS returning_listeners
FROM daily AS d
JOIN firsts AS f ON f.user_id = d.user_id
GROUP BY d.day
ORDER BY d.day;
