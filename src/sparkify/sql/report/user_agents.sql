-- title: Browsers and operating systems
-- description: Plays by browser and operating system, parsed from the user agent.
-- chart: bar label=browser,os value=plays
WITH parsed AS (
    SELECT user_id,
           CASE WHEN user_agent IS NULL OR user_agent = '' THEN 'Unknown'
                WHEN user_agent LIKE '%Edge/%' OR user_agent LIKE '%Edg/%' THEN 'Edge'
                WHEN user_agent LIKE '%MSIE %' OR user_agent LIKE '%Trident/%' THEN 'Internet Explorer'
                WHEN user_agent LIKE '%Firefox/%' THEN 'Firefox'
                WHEN user_agent LIKE '%Chromium/%' THEN 'Chromium'
                WHEN user_agent LIKE '%Chrome/%' OR user_agent LIKE '%CriOS/%' THEN 'Chrome'
                WHEN user_agent LIKE '%Safari/%' THEN 'Safari'
                ELSE 'Other' END AS browser,
           CASE WHEN user_agent IS NULL OR user_agent = '' THEN 'Unknown'
                WHEN user_agent LIKE '%iPhone%' THEN 'iPhone'
                WHEN user_agent LIKE '%iPad%' THEN 'iPad'
                WHEN user_agent LIKE '%Android%' THEN 'Android'
                WHEN user_agent LIKE '%Windows%' THEN 'Windows'
                WHEN user_agent LIKE '%Mac OS X%' OR user_agent LIKE '%Macintosh%' THEN 'Mac OS X'
                WHEN user_agent LIKE '%Linux%' OR user_agent LIKE '%X11%' THEN 'Linux'
                ELSE 'Other' END AS os
    FROM {songplays} AS songplays
)
SELECT browser, os, count(*) AS plays, count(DISTINCT user_id) AS listeners
FROM parsed
GROUP BY browser, os
ORDER BY plays DESC, browser, os;
