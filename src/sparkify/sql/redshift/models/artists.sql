-- artists on Redshift: the same rule as sql/models/artists.sql (the song record that says the
-- most about the artist; ties to the smallest song_id; mangled name and location repaired through
-- staging.text_repairs), applied by MERGE on artist_id.
DROP TABLE IF EXISTS artists_best;

CREATE TEMP TABLE artists_best AS
SELECT ranked.artist_id, COALESCE(n.fixed, ranked.artist_name) AS name,
       NULLIF(BTRIM(COALESCE(l.fixed, ranked.artist_location)), '') AS location,
       ranked.artist_latitude AS latitude, ranked.artist_longitude AS longitude
FROM (
    SELECT artist_id, artist_name, artist_latitude, artist_longitude,
           artist_location, NULLIF(BTRIM(artist_location), '') AS location,
           row_number() OVER (
               PARTITION BY artist_id
               ORDER BY (CASE WHEN artist_name IS NULL THEN 0 ELSE 1 END
                       + CASE WHEN NULLIF(BTRIM(artist_location), '') IS NULL THEN 0 ELSE 1 END
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

DELETE FROM analytics.artists WHERE artist_id NOT IN (SELECT artist_id FROM artists_best);

MERGE INTO analytics.artists USING artists_best AS a ON analytics.artists.artist_id = a.artist_id
WHEN MATCHED THEN UPDATE SET name = a.name, location = a.location, latitude = a.latitude, longitude = a.longitude
WHEN NOT MATCHED THEN INSERT (artist_id, name, location, latitude, longitude)
    VALUES (a.artist_id, a.name, a.location, a.latitude, a.longitude);

DROP TABLE artists_best;
