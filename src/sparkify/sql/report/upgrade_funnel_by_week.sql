-- title: Upgrade and downgrade funnels per week
-- description: Per week (starting Monday) and path, the users who opened Home, then (later that week) the Upgrade or Downgrade page, then submitted it; conversion is the share of the page's visitors who submitted.
-- chart: bar label=week,path value=page_users,submitted_users vertical wide ytitle=users
WITH paths AS (
    SELECT 'upgrade' AS path, 'Upgrade' AS page, 'Submit Upgrade' AS submit
    UNION ALL
    SELECT 'downgrade', 'Downgrade', 'Submit Downgrade'
),
views AS (
    SELECT user_id, page, start_time, CAST(DATE_TRUNC('week', start_time) AS DATE) AS week
    FROM {page_views} AS v
    WHERE page IN ('Home', 'Upgrade', 'Submit Upgrade', 'Downgrade', 'Submit Downgrade')
),
home AS (
    SELECT user_id, week, min(start_time) AS reached FROM views WHERE page = 'Home' GROUP BY user_id, week
),
opened AS (
    SELECT p.path, h.user_id, h.week, min(v.start_time) AS reached
    FROM home AS h
    CROSS JOIN paths AS p
    JOIN views AS v ON v.user_id = h.user_id AND v.week = h.week AND v.page = p.page AND v.start_time >= h.reached
    GROUP BY p.path, h.user_id, h.week
),
submitted AS (
    SELECT o.path, o.user_id, o.week
    FROM opened AS o
    JOIN paths AS p ON p.path = o.path
    JOIN views AS v ON v.user_id = o.user_id AND v.week = o.week AND v.page = p.submit AND v.start_time >= o.reached
    GROUP BY o.path, o.user_id, o.week
),
weeks AS (
    SELECT h.week, p.path, count(*) AS home_users FROM home AS h CROSS JOIN paths AS p GROUP BY h.week, p.path
)
SELECT w.week, w.path, w.home_users,
       count(DISTINCT o.user_id) AS page_users,
       count(DISTINCT s.user_id) AS submitted_users,
       ROUND(100.0 * count(DISTINCT s.user_id) / NULLIF(count(DISTINCT o.user_id), 0), 1) AS conversion_pct
FROM weeks AS w
LEFT JOIN opened AS o ON o.week = w.week AND o.path = w.path
LEFT JOIN submitted AS s ON s.week = o.week AND s.path = o.path AND s.user_id = o.user_id
GROUP BY w.week, w.path, w.home_users
ORDER BY w.week, w.path DESC;
