-- title: Most played songs
-- description: The top songs by plays, among plays matched to a known song.
-- chart: bar label=title value=plays
SELECT s.title, a.name AS artist, count(*) AS plays, count(DISTINCT p.user_id) AS listeners
FROM analytics.songplays AS p
JOIN analytics.songs AS s ON s.song_id = p.song_id
LEFT JOIN analytics.artists AS a ON a.artist_id = s.artist_id
GROUP BY s.song_id, s.title, a.name
ORDER BY plays DESC, s.title
LIMIT {limit};
