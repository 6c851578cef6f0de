-- song_matches: which song each NextSong event played.
-- An event matches a song when the event's `song` equals the song's title and the event's
-- `artist` equals that song's own artist name (songs.artist_name, not the one name the artists
-- dimension keeps per artist_id), exactly, after both are repaired (staging.text_repairs) and
-- cleaned (trimmed, NULL when empty). When several songs match, the one whose duration is
-- closest to the event's `length` wins (then the smallest song_id).
-- Events are identified by (user_id, session_id, item_in_session, ts), user_id as a number.
CREATE VIEW staging.song_matches AS
SELECT user_id, session_id, item_in_session, ts, song_id, artist_id
FROM (
    SELECT CAST(e.user_id AS BIGINT) AS user_id, e.session_id, e.item_in_session, e.ts, s.song_id, s.artist_id,
           row_number() OVER (
               PARTITION BY CAST(e.user_id AS BIGINT), e.session_id, e.item_in_session, e.ts
               ORDER BY abs(s.duration - e.length) NULLS LAST, s.song_id
           ) AS rank
    FROM staging.staging_events AS e
    LEFT JOIN staging.text_repairs AS rs ON rs.raw_text = e.song
    LEFT JOIN staging.text_repairs AS ra ON ra.raw_text = e.artist
    -- on (title, artist name) at once: titles alone repeat ("Intro") and would fan out
    JOIN analytics.songs AS s
      ON s.title = {{ clean(COALESCE(rs.fixed, e.song)) }}
     AND s.artist_name = {{ clean(COALESCE(ra.fixed, e.artist)) }}
    WHERE e.page = 'NextSong' AND e.user_id <> ''
) AS candidates
WHERE rank = 1;
