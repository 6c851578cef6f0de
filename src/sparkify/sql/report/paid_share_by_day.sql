-- title: Share of paid listeners per day
-- description: Of the users who played something that day, the share on the paid level.
-- chart: line x=day y=paid_share_pct percent
SELECT CAST(start_time AS DATE) AS day,
       count(DISTINCT user_id) AS listeners,
       count(DISTINCT CASE WHEN level = 'paid' THEN user_id END) AS paid_listeners,
       ROUND(100.0 * count(DISTINCT CASE WHEN level = 'paid' THEN user_id END) / count(DISTINCT user_id), 1)
           AS paid_share_pct
FROM {songplays} AS songplays
GROUP BY CAST(start_time AS DATE)
ORDER BY day;
