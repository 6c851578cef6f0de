-- title: Most played artists
-- description: The top artists by plays, among plays matched to a known song.
-- chart: bar label=artist value=plays
SELECT a.name AS artist, count(*) AS plays, count(DISTINCT p.user_id) AS listeners
FROM {songplays} AS p
JOIN analytics.artists AS a ON a.artist_id = p.artist_id
GROUP BY a.artist_id, a.name
ORDER BY plays DESC, a.name
LIMIT {limit};
