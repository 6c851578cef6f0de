"""Acceptance on the real sample: the numbers the issue (and the sample's README) promise."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb
import pytest

from tests.conftest import run_cli


def scalar(path: str, sql: str):
    with duckdb.connect(path, read_only=True) as con:
        return con.execute(sql).fetchall()[0][0]


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT count(*) FROM staging.staging_events", 8056),
        ("SELECT count(*) FROM staging.staging_songs", 71),
        ("SELECT count(*) FROM staging.load_errors", 0),
        ("SELECT count(*) FROM analytics.songplays", 6820),
        ("SELECT count(*) FROM analytics.songplays WHERE song_id IS NOT NULL", 1),
        ("SELECT count(DISTINCT user_id) FROM analytics.users", 97),
        ("SELECT count(*) FROM analytics.users", 106),
        ("SELECT count(*) FROM analytics.users_current", 97),
        ("SELECT count(*) FROM analytics.users_current WHERE level = 'paid'", 22),
        ("SELECT count(*) FROM analytics.users_current WHERE level = 'free'", 75),
        ("SELECT count(*) FROM analytics.songs", 71),
        ("SELECT count(*) FROM analytics.artists", 69),
        ('SELECT count(*) FROM analytics."time"', 6813),
        # The star schema is reachable unqualified from any DuckDB client.
        ("SELECT count(*) FROM songplays", 6820),
        ("SELECT count(*) FROM users_current", 97),
        ('SELECT count(*) FROM "time"', 6813),
    ],
)
def test_counts(sample_warehouse: str, sql: str, expected: int) -> None:
    assert scalar(sample_warehouse, sql) == expected


def test_the_one_matched_play(sample_warehouse: str) -> None:
    with duckdb.connect(sample_warehouse, read_only=True) as con:
        rows = con.execute(
            "SELECT p.user_id, p.start_time, p.song_id, p.artist_id, s.title, a.name "
            "FROM analytics.songplays p JOIN analytics.songs s USING (song_id) "
            "JOIN analytics.artists a ON a.artist_id = p.artist_id"
        ).fetchall()
    assert rows == [
        (15, dt.datetime(2018, 11, 21, 21, 56, 47, 796000), "SOZCTXZ12AB0182364", "AR5KOSW1187FB35FF4",
         "Setanta matins", "Elena")
    ]


def test_start_time_is_utc_timestamp_with_milliseconds(sample_warehouse: str) -> None:
    with duckdb.connect(sample_warehouse, read_only=True) as con:
        kind = con.execute(
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_schema = 'analytics' AND table_name = 'songplays' AND column_name = 'start_time'"
        ).fetchall()[0][0]
        first, last = con.execute("SELECT min(start_time), max(start_time) FROM analytics.songplays").fetchall()[0]
    assert kind == "TIMESTAMP"
    assert first.microsecond % 1000 == 0 and first.microsecond != 0
    assert dt.datetime(2018, 11, 1, 20, 57, 10, 796000) <= first
    assert last <= dt.datetime(2018, 11, 30, 19, 54, 24, 796000)


def test_user_15_versions(sample_warehouse: str) -> None:
    """User 15 went paid → free → paid in session 764 on 2018-11-21 (the sample's README)."""
    with duckdb.connect(sample_warehouse, read_only=True) as con:
        versions = con.execute(
            "SELECT level, valid_from, valid_to, is_current FROM analytics.users WHERE user_id = 15 ORDER BY valid_from"
        ).fetchall()
    levels = [v[0] for v in versions]
    assert levels[-3:] == ["paid", "free", "paid"]
    for earlier, later in zip(versions, versions[1:]):
        assert earlier[2] == later[1], "each version ends where the next begins"
        assert earlier[3] is False
    assert versions[-1][2] is None and versions[-1][3] is True
    assert versions[-1][1].date() == dt.date(2018, 11, 21)


def test_level_changes_match_the_readme(sample_warehouse: str) -> None:
    with duckdb.connect(sample_warehouse, read_only=True) as con:
        changed = [r[0] for r in con.execute(
            "SELECT user_id FROM analytics.users GROUP BY 1 HAVING count(*) > 1 ORDER BY 1").fetchall()]
    assert changed == [15, 16, 29, 36, 49, 80, 85, 88]


def test_songplay_level_is_the_version_level(sample_warehouse: str) -> None:
    assert scalar(sample_warehouse, """
        SELECT count(*) FROM analytics.songplays p
        LEFT JOIN analytics.users u ON u.user_id = p.user_id AND p.start_time >= u.valid_from
             AND (u.valid_to IS NULL OR p.start_time < u.valid_to)
        WHERE u.level IS DISTINCT FROM p.level""") == 0


def test_time_dimension_units(sample_warehouse: str) -> None:
    with duckdb.connect(sample_warehouse, read_only=True) as con:
        row = con.execute(
            'SELECT hour, day, week, month, year, weekday FROM analytics."time" '
            "WHERE start_time = TIMESTAMP '2018-11-21 21:56:47.796'"
        ).fetchall()
    assert row == [(21, 21, 47, 11, 2018, 3)]  # a Wednesday in ISO week 47


def test_dimensions_clean_values(sample_warehouse: str) -> None:
    assert scalar(sample_warehouse, "SELECT count(*) FROM analytics.artists WHERE location = ''") == 0
    assert scalar(sample_warehouse, "SELECT count(*) FROM analytics.artists WHERE location IS NULL") > 0
    assert scalar(sample_warehouse, "SELECT count(*) FROM analytics.songs WHERE year = 0") == 0
    assert scalar(sample_warehouse, "SELECT count(*) FROM analytics.songplays WHERE user_agent LIKE '\"%'") == 0
    assert scalar(sample_warehouse, "SELECT count(DISTINCT songplay_id) FROM analytics.songplays") == 6820


def test_staging_keeps_file_and_line(sample_warehouse: str, sample: Path) -> None:
    path = str(sample / "log_data" / "2018" / "11" / "2018-11-21-events.json")
    with duckdb.connect(sample_warehouse, read_only=True) as con:
        lines = con.execute(
            "SELECT min(source_line), max(source_line), count(*) FROM staging.staging_events WHERE source_file = ?",
            [path],
        ).fetchall()[0]
    physical = Path(path).read_bytes().count(b"\n") + 1  # no trailing newline in the sample
    assert lines == (1, physical, physical)


def test_second_etl_changes_nothing(sample: Path, warehouse_path: str) -> None:
    args = ["etl", "--songs", str(sample / "song_data"), "--logs", str(sample / "log_data"),
            "--warehouse", warehouse_path]
    tables = ["staging.staging_events", "staging.staging_songs", "analytics.songplays", "analytics.users",
              "analytics.songs", "analytics.artists", 'analytics."time"']

    def snapshot() -> dict[str, list]:
        with duckdb.connect(warehouse_path, read_only=True) as con:
            return {t: sorted(con.execute(f"SELECT * EXCLUDE (load_id) FROM {t}" if t.startswith("staging")
                                          else f"SELECT * FROM {t}").fetchall(), key=repr) for t in tables}

    assert run_cli(*args).exit_code == 0
    before = snapshot()
    second = run_cli(*args)
    assert second.exit_code == 0
    assert "Nothing new" in second.output
    assert snapshot() == before


def test_touched_file_reloads_without_duplicates(sample: Path, warehouse_path: str, tmp_path: Path) -> None:
    """A file whose content changed replaces its old rows instead of adding to them."""
    import shutil

    logs = tmp_path / "log_data"
    shutil.copytree(sample / "log_data", logs)
    assert run_cli("etl", "--songs", str(sample / "song_data"), "--logs", str(logs),
                   "-w", warehouse_path).exit_code == 0
    day = logs / "2018" / "11" / "2018-11-30-events.json"
    lines = day.read_bytes().split(b"\n")
    day.write_bytes(b"\n".join(lines[:-10]))  # the last 10 events disappear from the feed
    result = run_cli("etl", "--logs", str(logs), "-w", warehouse_path)
    assert result.exit_code == 0, result.output
    assert "1 files loaded" in result.output
    assert scalar(warehouse_path, "SELECT count(*) FROM staging.staging_events") == 8046
    with duckdb.connect(warehouse_path, read_only=True) as con:
        expected = con.execute(
            "SELECT count(*) FROM staging.staging_events WHERE page = 'NextSong' AND user_id <> ''").fetchall()[0][0]
    assert scalar(warehouse_path, "SELECT count(*) FROM analytics.songplays") == expected


def test_mangled_text_is_repaired_in_the_star_schema_only(sample_warehouse: str) -> None:
    """326 events carry doubly-encoded UTF-8 (BjÃ\\x83Â¶rk for Björk); staging keeps the raw value."""
    with duckdb.connect(sample_warehouse, read_only=True) as con:
        raw_events = con.execute(
            "SELECT count(*) FROM staging.staging_events WHERE artist LIKE '%Ã%' OR song LIKE '%Ã%'").fetchall()[0][0]
        fixed = dict(con.execute("SELECT raw_text, fixed FROM staging.text_repairs").fetchall())
        apostrophes = con.execute(
            "SELECT count(*) FROM staging.staging_events WHERE song LIKE '%' || chr(25) || '%'").fetchall()[0][0]
    assert raw_events == 326
    assert fixed["BjÃ\x83Â¶rk"] == "Björk"
    assert fixed["De SÃ\x83Â£o Paulo Ã\x83Â\x80 BelÃ\x83Â©m"] == "De São Paulo À Belém"
    assert apostrophes > 0
    assert len(fixed) == 205  # every suspect value of the sample is repaired
    # punctuation whose high byte was lost comes back as itself: U+2019 ’, U+2018 ‘, U+2026 …
    assert fixed["The Kids Don\x19t Stand A Chance (Album)"] == "The Kids Don’t Stand A Chance (Album)"
    assert fixed["Tapes \x18n Tapes"] == "Tapes ‘n Tapes"
    assert fixed["It\x19s Fun To Be A Vampire&"] == "It’s Fun To Be A Vampire…"
    assert all(not re.search("[\x10-\x1f]", value) and "Ã" not in value for value in fixed.values())


def test_repairs_reach_dimensions(tmp_path: Path) -> None:
    """A song whose title arrives mangled in both feeds is stored repaired and still matches."""
    songs = tmp_path / "song_data"
    logs = tmp_path / "log_data"
    songs.mkdir()
    logs.mkdir()
    mangled = "BjÃ\x83Â¶rk"
    (songs / "TRX.json").write_text(
        '{"num_songs": 1, "artist_id": "ARX", "artist_latitude": null, "artist_longitude": null, '
        '"artist_location": "", "artist_name": "Björk", "song_id": "SOX", "title": "J\\u00f3ga", '
        '"duration": 305.0, "year": 1997}', encoding="utf-8")
    event = ('{"artist": "%s", "auth": "Logged In", "firstName": "Ann", "gender": "F", "itemInSession": 0, '
             '"lastName": "Lee", "length": 305.0, "level": "free", "location": "Reykjav\\u00edk", "method": "PUT", '
             '"page": "NextSong", "registration": 1540919166796.0, "sessionId": 1, "song": "JÃ\\u0083Â³ga", '
             '"status": 200, "ts": 1542837407796, "userAgent": "x", "userId": "7"}') % mangled
    (logs / "2018-11-21-events.json").write_text(event, encoding="utf-8")
    path = str(tmp_path / "w.duckdb")
    result = run_cli("etl", "--no-check", "--songs", str(songs), "--logs", str(logs), "-w", path)
    assert result.exit_code == 0, result.output
    assert "Repaired 2 mangled text values" in result.output
    assert scalar(path, "SELECT song_id FROM analytics.songplays") == "SOX"
