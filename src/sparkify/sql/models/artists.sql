-- artists: exactly one row per artist_id, even when its songs disagree about the artist.
-- Rule: take the song record that says the most about the artist (the most non-empty of name,
-- location, latitude, longitude); on a tie, the record with the smallest song_id.
-- Text is repaired through staging.text_repairs, then cleaned: trimmed, and NULL when empty.
{{ replace_by(artist_id) }}
INSERT INTO analytics.artists (artist_id, name, location, latitude, longitude)
SELECT ranked.artist_id, {{ clean(COALESCE(n.fixed, ranked.artist_name)) }}, {{ clean(COALESCE(l.fixed, ranked.artist_location)) }},
       ranked.artist_latitude, ranked.artist_longitude
FROM (
    SELECT artist_id, artist_name, artist_latitude, artist_longitude, artist_location,
           row_number() OVER (
               PARTITION BY artist_id
               ORDER BY (CASE WHEN {{ clean(artist_name) }} IS NULL THEN 0 ELSE 1 END
                       + CASE WHEN {{ clean(artist_location) }} IS NULL THEN 0 ELSE 1 END
                       + CASE WHEN artist_latitude IS NULL THEN 0 ELSE 1 END
                       + CASE WHEN artist_longitude IS NULL THEN 0 ELSE 1 END) DESC,
                        song_id
           ) AS pick
    FROM staging.staging_songs
    WHERE artist_id IS NOT NULL AND artist_id <> ''
) AS ranked
LEFT JOIN staging.text_repairs AS n ON n.raw_text = ranked.artist_name
LEFT JOIN staging.text_repairs AS l ON l.raw_text = ranked.artist_location
WHERE ranked.pick = 1;
