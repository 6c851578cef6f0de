-- songs: one row per song_id. When several staged records share a song_id, the most recently
-- loaded one wins. A year of 0 (unknown in the Million Song Dataset) becomes NULL. Mangled text
-- is repaired through staging.text_repairs.
-- replace_by(song_id): the table's rows become exactly those of the query, matched by song_id
-- (each backend's way of doing that, and every other {{ macro }}: sparkify/warehouse/dialects.py).
{{ replace_by(song_id) }}
INSERT INTO analytics.songs (song_id, title, artist_id, year, duration)
SELECT latest.song_id, COALESCE(t.fixed, latest.title), latest.artist_id, NULLIF(latest.year, 0), latest.duration
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
