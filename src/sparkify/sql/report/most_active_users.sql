-- title: Most active users
-- description: The users with the most plays, with their current level.
-- chart: bar label=first_name,last_name value=plays
SELECT p.user_id, u.first_name, u.last_name, u.level AS current_level,
       count(*) AS plays, count(DISTINCT p.session_id) AS sessions, max(p.start_time) AS last_play
FROM {songplays} AS p
LEFT JOIN analytics.users AS u ON u.user_id = p.user_id AND u.is_current
GROUP BY p.user_id, u.first_name, u.last_name, u.level
ORDER BY plays DESC, p.user_id
LIMIT {limit};
