-- artists: exactly one row per artist_id, even when its songs disagree about the artist.
-- Rule: take the song record that says the most about the artist (the most non-empty of name,
-- location, latitude, longitude); on a tie, the record with the smallest song_id.
-- An empty or blank location becomes NULL.
DELETE FROM analytics.artists;

INSERT INTO analytics.artists (artist_id, name, location, latitude, longitude)
SELECT artist_id, artist_name, location, artist_latitude, artist_longitude
FROM (
    SELECT artist_id, artist_name, artist_latitude, artist_longitude,
           NULLIF(TRIM(artist_location), '') AS location,
           row_number() OVER (
               PARTITION BY artist_id
               ORDER BY (CASE WHEN artist_name IS NULL THEN 0 ELSE 1 END
                       + CASE WHEN NULLIF(TRIM(artist_location), '') IS NULL THEN 0 ELSE 1 END
                       + CASE WHEN artist_latitude IS NULL THEN 0 ELSE 1 END
                       + CASE WHEN artist_longitude IS NULL THEN 0 ELSE 1 END) DESC,
                        song_id
           ) AS pick
    FROM staging.staging_songs
    WHERE artist_id IS NOT NULL AND artist_id <> ''
) AS ranked
WHERE pick = 1;
