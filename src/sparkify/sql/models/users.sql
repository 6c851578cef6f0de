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
--
-- Incremental: only a user with an event in this load can change, and only from that event's
-- time on (`since`, the earliest). A user's versions that start before `since` stay as they are;
-- the latest of them (the seed) is read as one more event of the user, at its valid_from with
-- its level, and the versions from the seed on are computed again from the seed and every staged
-- event of the user at or after `since`. That is what all its events give: a version starts only
-- where an event's level differs from the one before, and before `since` that is the seed's.
-- Name and gender come from the latest of those events that has one, else stay as stored (an
-- earlier event gave them). Every user is computed from all its events when the table is empty
-- (a first load), and after a load took staged events away.

-- 1. Every version goes, to be rebuilt from all staged events. The DuckDB and PostgreSQL
--    backends run this only when the load replaced or removed an event file.
DELETE FROM analytics.users;

-- 2. The users this load staged an event for, and since when (every user, from its first event,
--    when the table is empty).
CREATE TEMP TABLE {{ temp(users_touched) }} AS
SELECT CAST(user_id AS BIGINT) AS user_id, MIN(ts) AS since
FROM staging.staging_events
WHERE user_id <> '' AND ts IS NOT NULL
  AND load_id >= {{ loads_to_read(analytics.users) }}
GROUP BY CAST(user_id AS BIGINT);

-- 3. Each such user's seed (none for a new user, or when `since` is before its first version),
--    and its stored name and gender (every version of a user has the same).
CREATE TEMP TABLE {{ temp(users_seed) }} AS
SELECT t.user_id, s.level, s.ts, s.valid_from, c.first_name, c.last_name, c.gender
FROM {{ temp(users_touched) }} AS t
LEFT JOIN (
    SELECT u.user_id, u.level, u.valid_from, {{ ms_of(u.valid_from) }} AS ts,
           row_number() OVER (PARTITION BY u.user_id ORDER BY u.valid_from DESC) AS latest
    FROM analytics.users AS u
    JOIN {{ temp(users_touched) }} AS t ON t.user_id = u.user_id AND u.valid_from < {{ epoch_ms(t.since) }}
) AS s ON s.user_id = t.user_id AND s.latest = 1
LEFT JOIN analytics.users AS c ON c.user_id = t.user_id AND c.is_current;

-- 4. The versions of those users: the ones before the seed as they were, the others computed.
{{ replace_by(user_id, valid_from, within=users_touched) }}
INSERT INTO analytics.users (user_id, first_name, last_name, gender, level, valid_from, valid_to, is_current)
WITH events AS {{ reused_cte() }} (  -- read three times below (dialects.reused_cte)
    -- every staged event of the users, at or after `since`
    SELECT CAST(e.user_id AS BIGINT) AS user_id, {{ clean(e.level) }} AS level, e.ts, e.session_id,
           e.item_in_session, e.first_name, e.last_name, e.gender
    FROM staging.staging_events AS e
    JOIN {{ temp(users_touched) }} AS t ON t.user_id = CAST(e.user_id AS BIGINT) AND e.ts >= t.since
    WHERE e.user_id <> '' AND e.ts IS NOT NULL
      -- implied by the join; said once more so that only the staged events from then on are read
      -- (PostgreSQL: through the BRIN index on ts)
      AND e.ts >= (SELECT MIN(since) FROM {{ temp(users_touched) }})
    UNION ALL
    -- and the seeds, as events without a name
    SELECT user_id, level, ts, NULL, NULL, NULL, NULL, NULL
    FROM {{ temp(users_seed) }}
    WHERE ts IS NOT NULL
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
    -- last by (session_id, item_in_session), NULLs last as above; then, for copies of one event
    -- that disagree, the highest name and gender (so that row order never decides)
    SELECT user_id, first_name, last_name, gender
    FROM (
        SELECT e.user_id, e.first_name, e.last_name, e.gender,
               row_number() OVER (
                   PARTITION BY e.user_id
                   ORDER BY e.session_id DESC NULLS FIRST, e.item_in_session DESC NULLS FIRST,
                            e.first_name DESC NULLS LAST, e.last_name DESC NULLS LAST, e.gender DESC NULLS LAST
               ) AS pick
        FROM events AS e
        JOIN per_user AS u ON u.user_id = e.user_id AND u.profile_ts = e.ts
        WHERE e.first_name IS NOT NULL OR e.last_name IS NOT NULL OR e.gender IS NOT NULL
    ) AS latest
    WHERE pick = 1
),
named AS (
    -- the name and gender every version of a user gets: from the latest event that has them,
    -- else as stored
    SELECT s.user_id,
           CASE WHEN p.user_id IS NULL THEN s.first_name ELSE {{ clean(COALESCE(f.fixed, p.first_name)) }} END
               AS first_name,
           CASE WHEN p.user_id IS NULL THEN s.last_name ELSE {{ clean(COALESCE(l.fixed, p.last_name)) }} END
               AS last_name,
           CASE WHEN p.user_id IS NULL THEN s.gender ELSE {{ clean(p.gender) }} END AS gender
    FROM {{ temp(users_seed) }} AS s
    LEFT JOIN profiles AS p ON p.user_id = s.user_id
    LEFT JOIN staging.text_repairs AS f ON f.raw_text = p.first_name
    LEFT JOIN staging.text_repairs AS l ON l.raw_text = p.last_name
)
SELECT v.user_id, n.first_name, n.last_name, n.gender, v.level,
       {{ epoch_ms(v.from_ts) }}, {{ epoch_ms(v.to_ts) }}, v.to_ts IS NULL
FROM versions AS v
JOIN named AS n ON n.user_id = v.user_id
UNION ALL
SELECT u.user_id, n.first_name, n.last_name, n.gender, u.level, u.valid_from, u.valid_to, u.is_current
FROM analytics.users AS u
JOIN {{ temp(users_seed) }} AS s ON s.user_id = u.user_id AND u.valid_from < s.valid_from
JOIN named AS n ON n.user_id = u.user_id;

DROP TABLE {{ temp(users_seed) }};

DROP TABLE {{ temp(users_touched) }};
