-- songs: one row per song_id. When several staged records share a song_id, the most recently
-- loaded one wins. A year of 0 (unknown in the Million Song Dataset) becomes NULL.
DELETE FROM analytics.songs;

INSERT INTO analytics.songs (song_id, title, artist_id, year, duration)
SELECT song_id, title, artist_id, NULLIF(year, 0), duration
FROM (
    SELECT *, row_number() OVER (
        PARTITION BY song_id ORDER BY load_id DESC, source_file DESC, source_line DESC
    ) AS pick
    FROM staging.staging_songs
    WHERE song_id IS NOT NULL AND song_id <> ''
) AS latest
WHERE pick = 1;
