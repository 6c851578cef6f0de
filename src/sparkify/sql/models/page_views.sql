-- page_views: one row per event with a non-empty userId, whatever its page (Home, Upgrade,
-- Submit Upgrade, Downgrade, NextSong …), identified by (user_id, session_id, item_in_session,
-- start_time) like songplays. The report's funnels read it; the analyst role may read it, staging
-- stays closed. An event staged more than once (overlapping files) is one view: its most recently
-- loaded copy gives level and page (then the first by file and line), as for songplays. Events
-- without a page, time, session or item are not views; level and page follow the star's text rule. Rebuilt from the staged events each load,
-- so a replaced or removed event file takes its views with it.
{{ replace_by(user_id, session_id, item_in_session, start_time) }}
INSERT INTO analytics.page_views (start_time, user_id, level, session_id, item_in_session, page)
SELECT {{ epoch_ms(ts) }}, user_id, level, session_id, item_in_session, page
FROM (
    SELECT CAST(user_id AS BIGINT) AS user_id, ts, {{ clean(level) }} AS level, session_id, item_in_session,
           {{ clean(page) }} AS page,
           row_number() OVER (
               PARTITION BY user_id, session_id, item_in_session, ts
               ORDER BY load_id DESC, source_file, source_line
           ) AS copy
    FROM staging.staging_events
    WHERE user_id <> '' AND ts IS NOT NULL AND session_id IS NOT NULL AND item_in_session IS NOT NULL
      AND {{ clean(page) }} IS NOT NULL
) AS events
WHERE copy = 1;
