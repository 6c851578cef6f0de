-- song_matches: which song each NextSong event played.
-- An event matches a song when the event's `song` equals the song's title and the event's
-- `artist` equals the song's artist name, exactly, after both are repaired (staging.text_repairs). When several songs match, the one whose
-- duration is closest to the event's `length` wins (then the smallest song_id).
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
    -- songs with their artist's name first, so events join on (title, name) at once: titles
    -- alone repeat ("Intro") and would fan out
    JOIN (
        SELECT songs.song_id, songs.artist_id, songs.title, songs.duration, artists.name
        FROM analytics.songs AS songs
        JOIN analytics.artists AS artists ON artists.artist_id = songs.artist_id
    ) AS s ON s.title = COALESCE(rs.fixed, e.song) AND s.name = COALESCE(ra.fixed, e.artist)
    WHERE e.page = 'NextSong' AND e.user_id <> ''
) AS candidates
WHERE rank = 1;
