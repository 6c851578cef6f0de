-- title: Top locations
-- description: Where the plays come from: the locations with the most plays.
-- chart: bar label=location value=plays
SELECT location, count(*) AS plays, count(DISTINCT user_id) AS listeners
FROM {songplays} AS songplays
WHERE location IS NOT NULL
GROUP BY location
ORDER BY plays DESC, location
LIMIT {limit};
