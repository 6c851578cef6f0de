-- title: Users who stopped listening (churn risk)
-- description: Users with no play in the last {churn_days} days of the data (counted back from the last play in the warehouse); the {limit} idle longest.
-- chart: none
WITH last_plays AS (
    SELECT user_id, count(*) AS plays, max(start_time) AS last_play
    FROM {songplays} AS songplays
    GROUP BY user_id
),
data_end AS (
    SELECT max(start_time) AS end_time FROM {songplays} AS songplays
)
SELECT l.user_id, u.first_name, u.last_name, u.level AS current_level, l.plays, l.last_play,
       CAST(d.end_time AS DATE) - CAST(l.last_play AS DATE) AS days_idle,
       count(*) OVER () AS idle_users  -- all idle users, before the limit
FROM last_plays AS l
CROSS JOIN data_end AS d
LEFT JOIN analytics.users AS u ON u.user_id = l.user_id AND u.is_current
WHERE CAST(d.end_time AS DATE) - CAST(l.last_play AS DATE) >= {churn_days}
ORDER BY days_idle DESC, l.plays DESC, l.user_id
LIMIT {limit};
