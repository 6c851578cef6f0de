-- The keys and indexes of the two fact tables (songplays, page_views) and of time, made right
-- after the tables. A load into an empty fact table drops that table's keys and indexes (time's
-- with songplays') and runs its statements of this file again once its rows are in (PostgresWarehouse.build_star): one sort per
-- index and one anti-join per foreign key, instead of an index insertion per index and a deferred
-- key check per key for every row.
--
-- songplays: its primary key, and what the report queries, the models and analysts filter, group
-- and join on (a user's plays: user_id). No index on the whole event key (user_id, session_id,
-- item_in_session, start_time), as older versions had: the models match a load's events to the
-- plays from its earliest event on (songplays_start_time) by a hash join, and keeping that wide
-- index cost an incremental load more than the rest of its inserts (a day on 10 M events: 3.3 of
-- 9 s for 270 k plays).
ALTER TABLE analytics.songplays ADD CONSTRAINT songplays_pkey PRIMARY KEY (songplay_id);
CREATE INDEX songplays_user_id ON analytics.songplays (user_id);
CREATE INDEX songplays_start_time ON analytics.songplays (start_time);
CREATE INDEX songplays_song_id ON analytics.songplays (song_id);
CREATE INDEX songplays_artist_id ON analytics.songplays (artist_id);

-- time: one row per play's start_time, so a first load fills it with the plays: its key is
-- made after its rows too (in sorted order, instead of 700 k insertions at random places in a
-- btree at 1 M events), and before the foreign key of songplays that references it.
ALTER TABLE analytics."time" ADD CONSTRAINT time_pkey PRIMARY KEY (start_time);

-- Foreign keys are checked at commit: a load rebuilds dimensions (delete + insert) inside one
-- transaction, and only the committed state has to be consistent.
ALTER TABLE analytics.songplays ADD CONSTRAINT songplays_start_time_fkey
    FOREIGN KEY (start_time) REFERENCES analytics."time" (start_time) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE analytics.songplays ADD CONSTRAINT songplays_song_id_fkey
    FOREIGN KEY (song_id) REFERENCES analytics.songs (song_id) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE analytics.songplays ADD CONSTRAINT songplays_artist_id_fkey
    FOREIGN KEY (artist_id) REFERENCES analytics.artists (artist_id) DEFERRABLE INITIALLY DEFERRED;

-- page_views: one view per event, and the time range the funnels read.
ALTER TABLE analytics.page_views ADD CONSTRAINT page_views_pkey
    PRIMARY KEY (user_id, session_id, item_in_session, start_time);
CREATE INDEX page_views_start_time ON analytics.page_views (start_time);
