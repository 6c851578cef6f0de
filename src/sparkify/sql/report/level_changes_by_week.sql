-- title: Upgrades and downgrades per week
-- description: Users who moved from free to paid (upgrades) or paid to free (downgrades), by the week (starting Monday) of the change.
-- chart: bar label=week value=upgrades,downgrades vertical ytitle=users
WITH versions AS (
    SELECT user_id, level, valid_from,
           lag(level) OVER (PARTITION BY user_id ORDER BY valid_from) AS previous_level
    FROM analytics.users
)
SELECT CAST(DATE_TRUNC('week', valid_from) AS DATE) AS week,
       sum(CASE WHEN previous_level = 'free' AND level = 'paid' THEN 1 ELSE 0 END) AS upgrades,
       sum(CASE WHEN previous_level = 'paid' AND level = 'free' THEN 1 ELSE 0 END) AS downgrades
FROM versions
WHERE previous_level IS NOT NULL AND {in_period:valid_from}
GROUP BY CAST(DATE_TRUNC('week', valid_from) AS DATE)
ORDER BY week;
