-- title: Sessions by level
-- description: Listening sessions (a user's plays with one session id) per level: how many, and how long in plays and in minutes from the first play's start to the last one's. A session with a paid play counts as paid.
-- chart: bar label=level value=plays_per_session,minutes_per_session vertical ytitle=per_session
WITH sessions AS (
    SELECT user_id, session_id, max(level) AS level, count(*) AS plays,
           (EXTRACT(EPOCH FROM max(start_time)) - EXTRACT(EPOCH FROM min(start_time))) / 60.0 AS minutes
    FROM {songplays} AS p
    GROUP BY user_id, session_id
)
SELECT level, count(*) AS sessions, count(DISTINCT user_id) AS listeners,
       CAST(sum(plays) AS BIGINT) AS plays,
       ROUND(CAST(1.0 * sum(plays) / count(*) AS DECIMAL(18, 3)), 1) AS plays_per_session,
       ROUND(CAST(avg(minutes) AS DECIMAL(18, 3)), 1) AS minutes_per_session
FROM sessions
GROUP BY level
ORDER BY level;
