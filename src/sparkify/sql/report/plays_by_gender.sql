-- title: Plays by gender
-- description: Plays and listeners by the gender users gave (their current version).
-- chart: bar label=gender value=plays
SELECT CASE u.gender WHEN 'F' THEN 'female' WHEN 'M' THEN 'male' ELSE 'unknown' END AS gender,
       count(*) AS plays, count(DISTINCT p.user_id) AS listeners,
       ROUND(100.0 * count(*) / (SELECT count(*) FROM {songplays} AS a), 1) AS share_pct
FROM {songplays} AS p
LEFT JOIN analytics.users AS u ON u.user_id = p.user_id AND u.is_current
GROUP BY CASE u.gender WHEN 'F' THEN 'female' WHEN 'M' THEN 'male' ELSE 'unknown' END
ORDER BY plays DESC, gender;
