-- title: Most played artists, by the names in the logs
-- description: The top artists by plays, counting every play by the artist name its event logged (after text repair), whether or not a catalogue song matched.
-- chart: bar label=artist_name value=plays ytitle=artist
SELECT artist_name, count(*) AS plays, count(DISTINCT user_id) AS listeners
FROM {songplays} AS p
WHERE artist_name IS NOT NULL
GROUP BY artist_name
ORDER BY plays DESC, artist_name
LIMIT {limit};
