-- songs: one row per song_id. When several staged records share a song_id, the most recently
-- loaded one wins. A year of 0 (unknown in the Million Song Dataset) becomes NULL. Mangled text
-- is repaired through staging.text_repairs.
DELETE FROM analytics.songs;

INSERT INTO analytics.songs (song_id, title, artist_id, year, duration)
SELECT latest.song_id, COALESCE(t.fixed, latest.title), latest.artist_id, NULLIF(latest.year, 0), latest.duration
FROM (
    SELECT *, row_number() OVER (
        PARTITION BY song_id ORDER BY load_id DESC, source_file DESC, source_line DESC
    ) AS pick
    FROM staging.staging_songs
    WHERE song_id IS NOT NULL AND song_id <> ''
) AS latest
LEFT JOIN staging.text_repairs AS t ON t.raw_text = latest.title
WHERE latest.pick = 1;
