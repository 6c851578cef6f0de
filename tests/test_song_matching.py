"""Plays match a song on the song's own artist name, and the star's text follows one trim rule, on
every backend (DuckDB, PostgreSQL, and the Redshift models on PostgreSQL: see test_contract.py),
in the first load and in the rematch after late songs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import run_cli
from tests.oddities import BASE_TS, event, song
from tests.test_contract import assert_same, run_both, warehouses  # noqa: F401 (the fixture)

CUDI = "ARCUDI0000000001"
#: One artist_id, several credited names, as in the real catalogue (426 artist_ids there).
SONGS = [
    # the record that says the most about the artist: artists.name becomes "Kid Cudi"
    song(song_id="SOCUDI0000000001", title="Day 'N' Nite", artist_id=CUDI, artist_name="Kid Cudi",
         artist_location="Cleveland, OH", artist_latitude=41.5, artist_longitude=-81.7, duration=221.0),
    song(song_id="SOCUDI0000000002", title="Make Her Say", artist_id=CUDI,
         artist_name="Kid Cudi / Kanye West / Common", artist_location=None, duration=238.0),
    # text with stray spaces around it, and a blank location
    song(song_id="SOPADDED00000001", title="  Padded Title ", artist_id="ARPADDED00000001",
         artist_name=" Padded Artist  ", artist_location="   ", duration=200.0),
]
WHO = {"userId": "77", "firstName": " Ann ", "lastName": "Lee  ", "sessionId": 5, "level": "paid",
       "location": " Town, ST ", "userAgent": '" Mozilla/5.0 "'}
PLAYS = [
    event(**WHO, page="NextSong", song="Day 'N' Nite", artist="Kid Cudi", length=221.0, itemInSession=0,
          ts=BASE_TS),
    event(**WHO, page="NextSong", song="Make Her Say", artist="Kid Cudi / Kanye West / Common", length=238.0,
          itemInSession=1, ts=BASE_TS + 240_000),
    # the artists dimension's chosen name, but not this song's own: no match
    event(**WHO, page="NextSong", song="Make Her Say", artist="Kid Cudi", length=238.0, itemInSession=2,
          ts=BASE_TS + 480_000),
    event(**WHO, page="NextSong", song="Padded Title", artist="Padded Artist ", length=200.0, itemInSession=3,
          ts=BASE_TS + 720_000),
]
#: item_in_session → the song it must match (None: no match).
EXPECTED = {0: ("SOCUDI0000000001", CUDI), 1: ("SOCUDI0000000002", CUDI), 2: (None, None),
            3: ("SOPADDED00000001", "ARPADDED00000001")}


def _write(root: Path, with_songs: bool = True, with_plays: bool = True) -> tuple[Path, Path]:
    songs, logs = root / "song_data", root / "log_data"
    songs.mkdir(parents=True, exist_ok=True)
    logs.mkdir(parents=True, exist_ok=True)
    if with_songs:
        for record in SONGS:
            (songs / f"{record['song_id']}.json").write_text(json.dumps(record), encoding="utf-8")
    if with_plays:
        (logs / "2018-11-01-events.json").write_text("\n".join(json.dumps(p) for p in PLAYS) + "\n")
    return songs, logs


def _plays(tables: dict[str, Any]) -> dict[int, tuple[str | None, str | None]]:
    columns, rows = tables["analytics.songplays"]
    at = {name: i for i, name in enumerate(columns)}
    return {row[at["item_in_session"]]: (row[at["song_id"]], row[at["artist_id"]]) for row in rows}


def _check_star(tables: dict[str, Any]) -> None:
    assert _plays(tables) == EXPECTED
    songs = {r[0]: r for r in tables["analytics.songs"][1]}
    names = {sid: r[tables["analytics.songs"][0].index("artist_name")] for sid, r in songs.items()}
    assert names == {"SOCUDI0000000001": "Kid Cudi", "SOCUDI0000000002": "Kid Cudi / Kanye West / Common",
                     "SOPADDED00000001": "Padded Artist"}
    assert [r[1] for r in songs.values() if r[0] == "SOPADDED00000001"] == ["Padded Title"]
    artists = {r[0]: r for r in tables["analytics.artists"][1]}
    assert artists[CUDI][1] == "Kid Cudi"  # one chosen name per artist
    assert artists["ARPADDED00000001"][1:3] == ("Padded Artist", None)  # trimmed; blank → NULL
    columns, rows = tables["analytics.songplays"]
    assert {(r[columns.index("location")], r[columns.index("user_agent")]) for r in rows} == {("Town, ST", "Mozilla/5.0")}
    columns, rows = tables["analytics.users"]
    assert [(r[columns.index("first_name")], r[columns.index("last_name")]) for r in rows] == [("Ann", "Lee")]


def test_plays_match_the_songs_own_artist_name_in_the_first_load(tmp_path: Path, warehouses: dict[str, str]) -> None:
    songs, logs = _write(tmp_path / "data")
    result = run_both(warehouses, "etl", "--songs", str(songs), "--logs", str(logs))
    assert result["duckdb"].exit_code == 0, result["duckdb"].output
    _check_star(assert_same(warehouses))


def test_late_songs_are_matched_by_their_own_artist_name(tmp_path: Path, warehouses: dict[str, str]) -> None:
    songs, logs = _write(tmp_path / "data", with_songs=False)
    first = run_both(warehouses, "etl", "--logs", str(logs), "--no-check")  # no songs yet: checks fail
    assert first["duckdb"].exit_code == 0, first["duckdb"].output
    assert set(_plays(assert_same(warehouses)).values()) == {(None, None)}
    _write(tmp_path / "data", with_plays=False)
    late = run_both(warehouses, "etl", "--songs", str(songs))
    assert late["duckdb"].exit_code == 0, late["duckdb"].output
    _check_star(assert_same(warehouses))


def test_top_songs_are_labelled_with_the_songs_own_artist(tmp_path: Path, warehouses: dict[str, str]) -> None:
    songs, logs = _write(tmp_path / "data")
    run_both(warehouses, "etl", "--songs", str(songs), "--logs", str(logs))
    for url in warehouses.values():
        out = run_cli("query", "top_songs", "--format", "csv", "--warehouse", url)
        assert out.exit_code == 0, out.output
        assert "Make Her Say,Kid Cudi / Kanye West / Common,1" in out.output
        assert "Day 'N' Nite,Kid Cudi,1" in out.output


#: Two catalogue songs with one title and one artist name (the generated catalogue has such pairs).
SHARED = [song(song_id="SOSHARE000000001", title="Twin Peaks", artist_id="ARSHARE000000001",
               artist_name="Shared Name", duration=100.0),
          song(song_id="SOSHARE000000002", title="Twin Peaks", artist_id="ARSHARE000000001",
               artist_name="Shared Name", duration=300.0)]


def _shared_play(item: int, length: float, location: str) -> dict[str, Any]:
    return event(**{**WHO, "location": location}, page="NextSong", song="Twin Peaks", artist="Shared Name",
                 length=length, itemInSession=item, ts=BASE_TS + item * 1000)


def _cudi_play(item: int, location: str) -> dict[str, Any]:
    return event(**{**WHO, "location": location}, page="NextSong", song="Day 'N' Nite", artist="Kid Cudi",
                 length=221.0, itemInSession=item, ts=BASE_TS + item * 1000)


def _write_lines(path: Path, records: list[dict[str, Any]]) -> None:
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")


def _by_item(tables: dict[str, Any]) -> dict[int, tuple[Any, ...]]:
    columns, rows = tables["analytics.songplays"]
    at = {name: i for i, name in enumerate(columns)}
    return {r[at["item_in_session"]]: (r[at["songplay_id"]], r[at["song_id"]], r[at["location"]]) for r in rows}


def test_shared_titles_and_copied_events_are_ranked_alike_everywhere(tmp_path: Path, warehouses: dict[str, str]) -> None:
    """The plays that need ranking (songplays.sql step 4) are found from their own few rows: a play
    whose title and artist name two songs share gets the one closest in duration, a play staged in
    two files of a load takes the first file's copy, and a play staged again by a later load takes
    that load's copy, keeping its songplay_id and its song; on every backend alike."""
    root = tmp_path / "data"
    songs, logs = root / "song_data", root / "log_data"
    songs.mkdir(parents=True)
    logs.mkdir()
    for record in [SONGS[0], *SHARED]:
        (songs / f"{record['song_id']}.json").write_text(json.dumps(record), encoding="utf-8")
    # one load, two files: items 3 and 4 are in both (3 with a shared title, 4 without)
    _write_lines(logs / "2018-11-01-a-events.json", [
        _shared_play(0, 290.0, "First, ST"), _shared_play(1, 110.0, "First, ST"), _cudi_play(2, "First, ST"),
        _shared_play(3, 295.0, "First, ST"), _cudi_play(4, "First, ST"),
    ])
    _write_lines(logs / "2018-11-01-b-events.json", [_shared_play(3, 295.0, "Copy, ST"), _cudi_play(4, "Copy, ST")])
    first = run_both(warehouses, "etl", "--songs", str(songs), "--logs", str(logs))
    assert first["duckdb"].exit_code == 0, first["duckdb"].output
    share1, share2, cudi = "SOSHARE000000001", "SOSHARE000000002", "SOCUDI0000000001"
    plays = _by_item(assert_same(warehouses))
    assert {item: play[1:] for item, play in plays.items()} == {
        0: (share2, "First, ST"), 1: (share1, "First, ST"), 2: (cudi, "First, ST"),
        3: (share2, "First, ST"), 4: (cudi, "First, ST"),
    }
    # a later load delivers items 1 and 2 again, from another place: its copies win
    _write_lines(logs / "2018-11-02-again-events.json", [_shared_play(1, 110.0, "Second, ST"), _cudi_play(2, "Second, ST")])
    again = run_both(warehouses, "etl", "--songs", str(songs), "--logs", str(logs))
    assert again["duckdb"].exit_code == 0, again["duckdb"].output
    replayed = _by_item(assert_same(warehouses))
    assert replayed == {**plays, 1: (plays[1][0], share1, "Second, ST"), 2: (plays[2][0], cudi, "Second, ST")}
