-- users: one version per stretch of time a user kept the same level (free or paid).
-- Events of each user are ordered by (ts, session_id, item_in_session); a new version starts at
-- the first event and at every event whose level differs from the previous event's. valid_to is
-- the next version's valid_from (NULL on the current version). Every non-empty userId seen in
-- any event is a user; name and gender come from the user's latest event that has a name.
--
-- Events without a level are skipped when comparing levels. Only users who changed level need
-- their events put in order; the others get their single version from one pass per user.
--
-- Ties: two events of a user in one millisecond with different levels (overlapping datasets)
-- cannot both start a version at that instant. The last of them by (session_id, item_in_session)
-- gives the version that starts there (NULLs order last, as in the ascending order above; then
-- the higher level, for copies of one event that disagree), and a change undone within its
-- millisecond is no change. So every load succeeds, and the result does not depend on row order.
{{ replace_by(user_id, valid_from) }}
INSERT INTO analytics.users (user_id, first_name, last_name, gender, level, valid_from, valid_to, is_current)
WITH events AS {{ not_materialized() }} (  -- all events with a userId: read where used, never stored
    SELECT CAST(user_id AS BIGINT) AS user_id, {{ clean(level) }} AS level, ts, session_id, item_in_session,
           first_name, last_name, gender
    FROM staging.staging_events
    WHERE user_id <> '' AND ts IS NOT NULL
),
per_user AS (
    SELECT user_id,
           MIN(ts) AS first_ts,
           MIN(CASE WHEN level IS NOT NULL THEN ts END) AS first_level_ts,
           MIN(level) AS lowest_level, MAX(level) AS highest_level,
           MAX(CASE WHEN first_name IS NOT NULL OR last_name IS NOT NULL OR gender IS NOT NULL THEN ts END)
               AS profile_ts
    FROM events
    GROUP BY user_id
),
starts AS (
    -- users who kept one level: one version, from their first event that says it
    SELECT user_id, lowest_level AS level, first_level_ts AS ts, 1 AS last_in_ms
    FROM per_user WHERE lowest_level = highest_level
    UNION ALL
    -- users whose events never say their level still get one version
    SELECT user_id, NULL, first_ts, 1 FROM per_user WHERE lowest_level IS NULL
    UNION ALL
    -- users who changed level: a version at their first event and at each change (last_in_ms:
    -- 1 for the last change of its millisecond, see Ties)
    SELECT user_id, level, ts,
           row_number() OVER (
               PARTITION BY user_id, ts
               ORDER BY session_id DESC NULLS FIRST, item_in_session DESC NULLS FIRST, level DESC
           ) AS last_in_ms
    FROM (
        SELECT e.user_id, e.level, e.ts, e.session_id, e.item_in_session,
               lag(e.level) OVER (
                   PARTITION BY e.user_id ORDER BY e.ts, e.session_id, e.item_in_session, e.level
               ) AS previous_level
        FROM events AS e
        JOIN per_user AS u ON u.user_id = e.user_id AND u.lowest_level <> u.highest_level
        WHERE e.level IS NOT NULL
    ) AS ordered
    WHERE previous_level IS NULL OR level <> previous_level
),
changes AS (
    -- one start per millisecond (ties), and only where the level differs from the version before
    SELECT user_id, level, ts
    FROM (
        SELECT user_id, level, ts, lag(level) OVER (PARTITION BY user_id ORDER BY ts) AS previous_level
        FROM starts WHERE last_in_ms = 1
    ) AS one_per_ms
    WHERE previous_level IS NULL OR level IS NULL OR level <> previous_level
),
versions AS (
    SELECT user_id, level, ts AS from_ts,
           lead(ts) OVER (PARTITION BY user_id ORDER BY ts) AS to_ts
    FROM changes
),
profiles AS (
    -- the user's latest event with a name or gender: among those at the latest such ts, the
    -- last by (session_id, item_in_session)
    SELECT user_id, first_name, last_name, gender
    FROM (
        SELECT e.user_id, e.first_name, e.last_name, e.gender,
               row_number() OVER (
                   PARTITION BY e.user_id ORDER BY e.session_id DESC, e.item_in_session DESC
               ) AS pick
        FROM events AS e
        JOIN per_user AS u ON u.user_id = e.user_id AND u.profile_ts = e.ts
        WHERE e.first_name IS NOT NULL OR e.last_name IS NOT NULL OR e.gender IS NOT NULL
    ) AS latest
    WHERE pick = 1
)
SELECT v.user_id, {{ clean(COALESCE(f.fixed, p.first_name)) }}, {{ clean(COALESCE(l.fixed, p.last_name)) }},
       {{ clean(p.gender) }}, v.level,
       {{ epoch_ms(v.from_ts) }}, {{ epoch_ms(v.to_ts) }}, v.to_ts IS NULL
FROM versions AS v
LEFT JOIN profiles AS p ON p.user_id = v.user_id
LEFT JOIN staging.text_repairs AS f ON f.raw_text = p.first_name
LEFT JOIN staging.text_repairs AS l ON l.raw_text = p.last_name;
