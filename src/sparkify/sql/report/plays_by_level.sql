-- title: Plays and listening time by level
-- description: Plays, listeners and hours listened by level (free or paid) at the time of the play. Hours add up the length each play's event logged (timed_plays counts the plays that logged one).
-- chart: bar label=level value=plays
SELECT p.level, count(*) AS plays,
       ROUND(100.0 * count(*) / (SELECT count(*) FROM {songplays} AS songplays), 1) AS share_pct,
       count(DISTINCT p.user_id) AS listeners,
       count(p.length) AS timed_plays,
       ROUND(CAST(COALESCE(sum(p.length), 0) / 3600.0 AS DECIMAL(18, 3)), 1) AS listening_hours
FROM {songplays} AS p
GROUP BY p.level
ORDER BY plays DESC;
