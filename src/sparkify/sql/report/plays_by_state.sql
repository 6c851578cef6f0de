-- title: Plays by US state
-- description: Plays and listeners by US state, from the state code after the comma in the play's location ("Portland-South Portland, ME"); a metro area spanning states ("…, NY-NJ-PA") counts for its first state. Locations outside the US are left out.
-- chart: bar label=state value=plays
WITH located AS (
    SELECT user_id, SUBSTRING(location, POSITION(', ' IN location) + 2, 2) AS state
    FROM {songplays} AS p
    WHERE POSITION(', ' IN location) > 0
)
SELECT state, count(*) AS plays, count(DISTINCT user_id) AS listeners
FROM located
WHERE state IN ('AL', 'AK', 'AZ', 'AR', 'CA', 'CO', 'CT', 'DE', 'DC', 'FL', 'GA', 'HI', 'ID', 'IL', 'IN',
                'IA', 'KS', 'KY', 'LA', 'ME', 'MD', 'MA', 'MI', 'MN', 'MS', 'MO', 'MT', 'NE', 'NV', 'NH',
                'NJ', 'NM', 'NY', 'NC', 'ND', 'OH', 'OK', 'OR', 'PA', 'RI', 'SC', 'SD', 'TN', 'TX', 'UT',
                'VT', 'VA', 'WA', 'WV', 'WI', 'WY', 'PR')
GROUP BY state
ORDER BY plays DESC, state;
