-- title: Plays per day
-- description: Plays and listeners per day (UTC), split by level.
-- chart: line x=day y=paid_plays,free_plays ytitle=plays
SELECT CAST(start_time AS DATE) AS day,
       count(*) AS plays,
       sum(CASE WHEN level = 'paid' THEN 1 ELSE 0 END) AS paid_plays,
       sum(CASE WHEN level = 'free' THEN 1 ELSE 0 END) AS free_plays,
       count(DISTINCT user_id) AS listeners
FROM {songplays} AS songplays
GROUP BY CAST(start_time AS DATE)
ORDER BY day;
