-- title: Plays and listening time by level
-- description: Plays, listeners and hours listened by level (free or paid) at the time of the play. The star keeps no play length, so hours add up the catalogue duration of the plays matched to a song (see the song-match rate): plays of unknown songs count no time.
-- chart: bar label=level value=plays
SELECT p.level, count(*) AS plays,
       ROUND(100.0 * count(*) / (SELECT count(*) FROM {songplays} AS songplays), 1) AS share_pct,
       count(DISTINCT p.user_id) AS listeners,
       count(s.duration) AS timed_plays,
       ROUND(CAST(COALESCE(sum(s.duration), 0) / 3600.0 AS DECIMAL(18, 3)), 1) AS listening_hours
FROM {songplays} AS p
LEFT JOIN analytics.songs AS s ON s.song_id = p.song_id
GROUP BY p.level
ORDER BY plays DESC;
