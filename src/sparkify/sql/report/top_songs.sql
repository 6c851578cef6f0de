-- title: Most played songs
-- description: The top songs by plays, among plays matched to a known song, with each song's own credited artist.
-- chart: bar label=title value=plays
SELECT s.title, s.artist_name AS artist, count(*) AS plays, count(DISTINCT p.user_id) AS listeners
FROM {songplays} AS p
JOIN analytics.songs AS s ON s.song_id = p.song_id
GROUP BY s.song_id, s.title, s.artist_name
ORDER BY plays DESC, s.title
LIMIT {limit};
