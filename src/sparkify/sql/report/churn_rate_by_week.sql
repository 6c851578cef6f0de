-- title: Churn rate per week
-- description: Of the users who played in a week (starting Monday), the share with no play the week after. The last week is left out: the week after it is not in the data yet.
-- chart: line x=week y=churn_rate_pct percent ytitle=churn_rate_(%)
WITH weeks AS (
    SELECT DISTINCT user_id, CAST(DATE_TRUNC('week', start_time) AS DATE) AS week
    FROM {songplays} AS p
)
SELECT w.week, count(*) AS listeners,
       sum(CASE WHEN n.user_id IS NULL THEN 1 ELSE 0 END) AS churned,
       ROUND(100.0 * sum(CASE WHEN n.user_id IS NULL THEN 1 ELSE 0 END) / count(*), 1) AS churn_rate_pct
FROM weeks AS w
LEFT JOIN weeks AS n ON n.user_id = w.user_id AND n.week - w.week = 7
WHERE w.week < (SELECT max(week) FROM weeks)
GROUP BY w.week
ORDER BY w.week;
