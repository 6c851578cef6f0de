-- Run when songs were loaded or changed: a song that arrives after its plays fixes their
-- song_id/artist_id, and a song that changed or went away no longer claims them.
-- `a <> b OR (a IS NULL) <> (b IS NULL)` is IS DISTINCT FROM, which Redshift lacks.
UPDATE analytics.songplays
SET song_id = m.song_id, artist_id = m.artist_id
FROM (
    SELECT p.songplay_id, sm.song_id, sm.artist_id
    FROM analytics.songplays AS p
    LEFT JOIN staging.song_matches AS sm
      ON sm.user_id = p.user_id AND sm.session_id = p.session_id
     AND sm.item_in_session = p.item_in_session AND {{ epoch_ms(sm.ts) }} = p.start_time
) AS m
WHERE m.songplay_id = analytics.songplays.songplay_id
  AND (m.song_id <> analytics.songplays.song_id
       OR (m.song_id IS NULL) <> (analytics.songplays.song_id IS NULL)
       OR m.artist_id <> analytics.songplays.artist_id
       OR (m.artist_id IS NULL) <> (analytics.songplays.artist_id IS NULL));
