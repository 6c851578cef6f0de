-- users on Redshift: the same versions as sql/models/users.sql (a new version at a user's first
-- event and at every change of level; name and gender from the latest event that has them; mangled
-- names repaired through staging.text_repairs).
-- Rebuilt by delete-insert; epoch milliseconds become TIMESTAMPs with explicit arithmetic.
DROP TABLE IF EXISTS user_events;

CREATE TEMP TABLE user_events AS
SELECT CAST(user_id AS BIGINT) AS user_id, level, ts, session_id, item_in_session,
       first_name, last_name, gender
FROM staging.staging_events
WHERE user_id <> '' AND ts IS NOT NULL;

DELETE FROM analytics.users;

INSERT INTO analytics.users (user_id, first_name, last_name, gender, level, valid_from, valid_to, is_current)
SELECT v.user_id, COALESCE(f.fixed, p.first_name), COALESCE(l.fixed, p.last_name), p.gender, v.level,
       TIMESTAMP 'epoch' + v.from_ts * INTERVAL '0.001 second',
       TIMESTAMP 'epoch' + v.to_ts * INTERVAL '0.001 second',
       v.to_ts IS NULL
FROM (
    SELECT user_id, level, ts AS from_ts,
           lead(ts) OVER (PARTITION BY user_id ORDER BY ts) AS to_ts
    FROM (
        SELECT user_id, level, ts
        FROM (
            SELECT user_id, level, ts,
                   lag(level) OVER (PARTITION BY user_id ORDER BY ts, session_id, item_in_session) AS previous_level,
                   row_number() OVER (PARTITION BY user_id ORDER BY ts, session_id, item_in_session) AS n
            FROM user_events
            WHERE level IS NOT NULL
        ) AS ordered
        WHERE n = 1 OR level <> previous_level
        UNION ALL
        -- users whose events never say their level still get one version
        SELECT user_id, NULL, MIN(ts) FROM user_events GROUP BY user_id HAVING COUNT(level) = 0
    ) AS starts
) AS v
LEFT JOIN (
    SELECT user_id, first_name, last_name, gender
    FROM (
        SELECT user_id, first_name, last_name, gender,
               row_number() OVER (
                   PARTITION BY user_id ORDER BY ts DESC, session_id DESC, item_in_session DESC
               ) AS pick
        FROM user_events
        WHERE first_name IS NOT NULL OR last_name IS NOT NULL OR gender IS NOT NULL
    ) AS latest
    WHERE pick = 1
) AS p ON p.user_id = v.user_id
LEFT JOIN staging.text_repairs AS f ON f.raw_text = p.first_name
LEFT JOIN staging.text_repairs AS l ON l.raw_text = p.last_name;

DROP TABLE user_events;
