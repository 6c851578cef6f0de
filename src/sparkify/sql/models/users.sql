-- users: one version per stretch of time a user kept the same level (free or paid).
-- Events of each user are ordered by (ts, session_id, item_in_session); a new version starts at
-- the first event and at every event whose level differs from the previous event's. valid_to is
-- the next version's valid_from (NULL on the current version). Every non-empty userId seen in
-- any event is a user; name and gender come from the user's latest event that has a name.
DELETE FROM analytics.users;

INSERT INTO analytics.users (user_id, first_name, last_name, gender, level, valid_from, valid_to, is_current)
WITH events AS (
    SELECT CAST(user_id AS BIGINT) AS user_id, level, ts, session_id, item_in_session,
           first_name, last_name, gender
    FROM staging.staging_events
    WHERE user_id <> '' AND ts IS NOT NULL
),
ordered AS (
    SELECT user_id, level, ts, session_id, item_in_session,
           lag(level) OVER (PARTITION BY user_id ORDER BY ts, session_id, item_in_session) AS previous_level,
           row_number() OVER (PARTITION BY user_id ORDER BY ts, session_id, item_in_session) AS n
    FROM events
    WHERE level IS NOT NULL
),
starts AS (
    SELECT user_id, level, ts FROM ordered WHERE n = 1 OR level <> previous_level
    UNION ALL
    -- users whose events never say their level still get one version
    SELECT user_id, NULL, MIN(ts) FROM events GROUP BY user_id HAVING COUNT(level) = 0
),
versions AS (
    SELECT user_id, level, ts AS from_ts,
           lead(ts) OVER (PARTITION BY user_id ORDER BY ts) AS to_ts
    FROM starts
),
profiles AS (
    SELECT user_id, first_name, last_name, gender
    FROM (
        SELECT user_id, first_name, last_name, gender,
               row_number() OVER (
                   PARTITION BY user_id ORDER BY ts DESC, session_id DESC, item_in_session DESC
               ) AS pick
        FROM events
        WHERE first_name IS NOT NULL OR last_name IS NOT NULL OR gender IS NOT NULL
    ) AS latest
    WHERE pick = 1
)
SELECT v.user_id, COALESCE(f.fixed, p.first_name), COALESCE(l.fixed, p.last_name), p.gender, v.level,
       epoch_ms(v.from_ts), epoch_ms(v.to_ts), v.to_ts IS NULL
FROM versions AS v
LEFT JOIN profiles AS p ON p.user_id = v.user_id
LEFT JOIN staging.text_repairs AS f ON f.raw = p.first_name
LEFT JOIN staging.text_repairs AS l ON l.raw = p.last_name;
