-- title: Locations with the least traction
-- description: Locations with the fewest plays: where the app lacks traction.
-- chart: bar label=location value=plays
SELECT location, count(*) AS plays, count(DISTINCT user_id) AS listeners
FROM {songplays} AS songplays
WHERE location IS NOT NULL
GROUP BY location
ORDER BY plays, location
LIMIT {limit};
