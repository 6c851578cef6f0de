-- title: Weekly retention cohorts
-- description: Users grouped by the week (starting Monday) of their first play ever; the share of each cohort that played again 0, 1, 2 … weeks later.
-- chart: heatmap x=week_number y=cohort_week value=retained_pct percent xtitle=weeks_after_the_first_play ytitle=cohort_(first_week)
WITH firsts AS (
    SELECT user_id, min(start_time) AS first_play
    FROM analytics.songplays
    GROUP BY user_id
),
cohorts AS (
    SELECT user_id, CAST(DATE_TRUNC('week', first_play) AS DATE) AS cohort_week
    FROM firsts
    WHERE {in_period:first_play}
),
sizes AS (
    SELECT cohort_week, count(*) AS cohort_users FROM cohorts GROUP BY cohort_week
),
active AS (
    SELECT DISTINCT user_id, CAST(DATE_TRUNC('week', start_time) AS DATE) AS week
    FROM {songplays} AS p
)
SELECT c.cohort_week, CAST((a.week - c.cohort_week) / 7 AS INTEGER) AS week_number, s.cohort_users,
       count(*) AS users, ROUND(100.0 * count(*) / s.cohort_users, 1) AS retained_pct
FROM cohorts AS c
JOIN sizes AS s ON s.cohort_week = c.cohort_week
JOIN active AS a ON a.user_id = c.user_id AND a.week >= c.cohort_week
GROUP BY c.cohort_week, a.week, s.cohort_users
ORDER BY c.cohort_week, week_number;
