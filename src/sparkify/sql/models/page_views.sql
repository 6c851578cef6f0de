-- page_views: one row per event with a non-empty userId, whatever its page (Home, Upgrade,
-- Submit Upgrade, Downgrade, NextSong …), identified by (user_id, session_id, item_in_session,
-- start_time) like songplays. The report's funnels read it; the analyst role may read it, staging
-- stays closed. An event staged more than once (overlapping files) is one view: its most recently
-- loaded copy gives level and page (then the first by file and line), as for songplays. Events
-- without a page, time, session or item are not views; level and page follow the star's text rule.
--
-- Incremental: only the events this load staged can add or change a view (the most recent copy of
-- an event is always in the newest load that staged it), so only they are read. When a load takes
-- staged events away (a replaced or removed event file), a view may lose its event or its best
-- copy, and every view is rebuilt from staging instead.

-- 1. Every view goes, to be rebuilt from all staged events. The DuckDB backend runs this only when
--    the load replaced or removed an event file; the other backends on every load.
DELETE FROM analytics.page_views;

-- 2. The views of this load's events: of every staged event when the table is empty (a first
--    load, or after step 1). Only the events staged more than once (rare) are ranked: sorting
--    every event by key and copy cost a DuckDB load of 10 M events 11-17 CPU seconds, where
--    finding the copied keys (a hash aggregate) and ranking only them costs 4.
CREATE TEMP TABLE {{ temp(page_views_new) }} AS
WITH events AS {{ reused_cte() }} (
    SELECT user_id, ts, session_id, item_in_session, load_id, source_file, source_line, level, page
    FROM staging.staging_events
    WHERE user_id <> '' AND ts IS NOT NULL AND session_id IS NOT NULL AND item_in_session IS NOT NULL
      AND {{ clean(page) }} IS NOT NULL
      AND load_id >= {{ loads_to_read(analytics.page_views) }}
),
copied AS (
    SELECT user_id, session_id, item_in_session, ts
    FROM events
    GROUP BY user_id, session_id, item_in_session, ts
    HAVING count(*) > 1
)
SELECT {{ epoch_ms(ts) }} AS start_time, CAST(user_id AS BIGINT) AS user_id, {{ clean(level) }} AS level,
       session_id, item_in_session, {{ clean(page) }} AS page
FROM (
    SELECT e.user_id, e.ts, e.level, e.session_id, e.item_in_session, e.page
    FROM events AS e
    LEFT JOIN copied AS c
      ON c.user_id = e.user_id AND c.session_id = e.session_id
     AND c.item_in_session = e.item_in_session AND c.ts = e.ts
    WHERE c.user_id IS NULL
    UNION ALL
    SELECT user_id, ts, level, session_id, item_in_session, page
    FROM (
        SELECT e.user_id, e.ts, e.level, e.session_id, e.item_in_session, e.page,
               row_number() OVER (
                   PARTITION BY e.user_id, e.session_id, e.item_in_session, e.ts
                   ORDER BY e.load_id DESC, e.source_file, e.source_line
               ) AS copy
        FROM events AS e
        JOIN copied AS c
          ON c.user_id = e.user_id AND c.session_id = e.session_id
         AND c.item_in_session = e.item_in_session AND c.ts = e.ts
    ) AS ranked
    WHERE copy = 1
) AS views;

-- 3. A view this load staged again takes its new level and page. Such a view is at or after the
--    load's earliest event (when the table was empty in step 2, there is none), so only the views
--    from then on are read.
DELETE FROM analytics.page_views
USING {{ temp(page_views_new) }} AS n
WHERE page_views.user_id = n.user_id AND page_views.session_id = n.session_id
  AND page_views.item_in_session = n.item_in_session AND page_views.start_time = n.start_time
  AND page_views.start_time >= {{ this_load_since() }};

INSERT INTO analytics.page_views (start_time, user_id, level, session_id, item_in_session, page)
SELECT start_time, user_id, level, session_id, item_in_session, page
FROM {{ temp(page_views_new) }};

DROP TABLE {{ temp(page_views_new) }};
