-- songs: one row per song_id. When several staged records share a song_id, the most recently
-- loaded one wins. A year of 0 (unknown in the Million Song Dataset) becomes NULL.
-- artist_name is the song's own credited artist ("Kid Cudi / Kanye West / Common"), which plays
-- are matched on; artists.name keeps one chosen name per artist_id.
-- Text is repaired through staging.text_repairs, then cleaned: trimmed, and NULL when empty.
-- replace_by(song_id): the table's rows become exactly those of the query, matched by song_id
-- (each backend's way of doing that, and every other macro: sparkify/warehouse/dialects.py).
{{ replace_by(song_id) }}
INSERT INTO analytics.songs (song_id, title, artist_id, year, duration, artist_name)
SELECT latest.song_id, {{ clean(COALESCE(t.fixed, latest.title)) }}, NULLIF(latest.artist_id, ''), NULLIF(latest.year, 0),
       latest.duration, {{ clean(COALESCE(n.fixed, latest.artist_name)) }}
FROM (
    SELECT song_id, title, artist_id, artist_name, year, duration,
           row_number() OVER (
               PARTITION BY song_id ORDER BY load_id DESC, source_file DESC, source_line DESC
           ) AS pick
    FROM staging.staging_songs
    WHERE song_id IS NOT NULL AND song_id <> ''
) AS latest
LEFT JOIN staging.text_repairs AS t ON t.raw_text = latest.title
LEFT JOIN staging.text_repairs AS n ON n.raw_text = latest.artist_name
WHERE latest.pick = 1;
