-- title: Song-match rate
-- description: Share of plays whose song was found in the song catalogue (song_id known). Every song or artist answer below covers only the matched plays.
-- chart: none
SELECT count(*) AS plays,
       count(song_id) AS matched_plays,
       count(*) - count(song_id) AS unmatched_plays,
       ROUND(100.0 * count(song_id) / NULLIF(count(*), 0), 3) AS match_rate_pct
FROM {songplays} AS songplays;
