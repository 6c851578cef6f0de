-- songs on Redshift: the same rule as sql/models/songs.sql (most recently loaded record per
-- song_id wins; year 0 becomes NULL; mangled titles repaired through staging.text_repairs),
-- applied by MERGE on the natural key so a re-run never duplicates (Redshift does not enforce the
-- primary key). Songs no longer staged are removed.
DROP TABLE IF EXISTS songs_latest;

CREATE TEMP TABLE songs_latest AS
SELECT latest.song_id, COALESCE(t.fixed, latest.title) AS title, latest.artist_id,
       NULLIF(latest.year, 0) AS year, latest.duration
FROM (
    SELECT song_id, title, artist_id, year, duration,
           row_number() OVER (
               PARTITION BY song_id ORDER BY load_id DESC, source_file DESC, source_line DESC
           ) AS pick
    FROM staging.staging_songs
    WHERE song_id IS NOT NULL AND song_id <> ''
) AS latest
LEFT JOIN staging.text_repairs AS t ON t.raw_text = latest.title
WHERE latest.pick = 1;

DELETE FROM analytics.songs WHERE song_id NOT IN (SELECT song_id FROM songs_latest);

MERGE INTO analytics.songs USING songs_latest AS s ON analytics.songs.song_id = s.song_id
WHEN MATCHED THEN UPDATE SET title = s.title, artist_id = s.artist_id, year = s.year, duration = s.duration
WHEN NOT MATCHED THEN INSERT (song_id, title, artist_id, year, duration)
    VALUES (s.song_id, s.title, s.artist_id, s.year, s.duration);

DROP TABLE songs_latest;
