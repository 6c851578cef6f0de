-- Run when songs were loaded or changed (as sql/models/songplays_rematch.sql). Redshift has no
-- IS DISTINCT FROM: ids are never '' (the models drop empty ids), so COALESCE to '' compares NULLs.
UPDATE analytics.songplays
SET song_id = m.song_id, artist_id = m.artist_id
FROM (
    SELECT p.songplay_id, sm.song_id, sm.artist_id
    FROM analytics.songplays AS p
    LEFT JOIN staging.song_matches AS sm
      ON CAST(sm.user_id AS BIGINT) = p.user_id AND sm.session_id = p.session_id
     AND sm.item_in_session = p.item_in_session
     AND TIMESTAMP 'epoch' + sm.ts * INTERVAL '0.001 second' = p.start_time
) AS m
WHERE m.songplay_id = analytics.songplays.songplay_id
  AND (COALESCE(m.song_id, '') <> COALESCE(analytics.songplays.song_id, '')
       OR COALESCE(m.artist_id, '') <> COALESCE(analytics.songplays.artist_id, ''));
