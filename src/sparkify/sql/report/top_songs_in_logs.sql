-- title: Most played songs, by the names in the logs
-- description: The top songs by plays, counting every play by the song title and artist name its event logged (after text repair), whether or not a catalogue song matched.
-- chart: bar label=song_title,artist_name value=plays ytitle=song_·_artist
SELECT song_title, artist_name, count(*) AS plays, count(DISTINCT user_id) AS listeners
FROM {songplays} AS p
WHERE song_title IS NOT NULL
GROUP BY song_title, artist_name
ORDER BY plays DESC, song_title, artist_name
LIMIT {limit};
