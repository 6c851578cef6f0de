"""`sparkify check`: every built-in check passes on the real sample and fails on a warehouse
broken in exactly the way it guards against (rows changed with duckdb directly, as a buggy
load or a backend without enforced keys would leave them)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from sparkify.answers.checks import Check, load_checks, parse_checks, parse_expect
from sparkify.errors import SparkifyError
from tests.conftest import run_cli, run_sparkify

BUILTIN_NAMES = {c.name for c in load_checks("duckdb")}


def results(output: str) -> dict[str, dict]:
    return {r["check"]: r for r in json.loads(output)}


def failing(output: str) -> set[str]:
    return {name for name, r in results(output).items() if r["status"] != "pass"}


def without_constraints(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Rebuild a table with no keys, like Redshift (which does not enforce them)."""
    con.execute(f'CREATE TABLE analytics.unkeyed AS SELECT * FROM analytics."{table}"')
    con.execute(f'DROP TABLE analytics."{table}"')
    con.execute(f'ALTER TABLE analytics.unkeyed RENAME TO "{table}"')


@pytest.fixture
def broken(sample_warehouse: str, tmp_path: Path) -> str:
    """A private copy of the loaded sample, to damage."""
    path = tmp_path / "broken.duckdb"
    shutil.copy(sample_warehouse, path)
    return str(path)


# --------------------------------------------------------------------------- the real sample


def test_every_builtin_check_passes_on_the_real_sample(sample_warehouse: str) -> None:
    result = run_cli("check", "-w", sample_warehouse)
    assert result.exit_code == 0, result.output
    # all pass: the terminal shows the count, not a row per passing check
    assert result.output.strip() == f"{len(BUILTIN_NAMES)} of {len(BUILTIN_NAMES)} checks passed"
    every = run_cli("check", "-w", sample_warehouse, "--verbose")
    for name in BUILTIN_NAMES:
        assert name in every.output


def test_json_lists_each_check_with_its_result(sample_warehouse: str) -> None:
    result = run_cli("check", "-w", sample_warehouse, "--format", "json")
    assert result.exit_code == 0, result.output
    rows = results(result.output)
    assert set(rows) == BUILTIN_NAMES
    assert rows["songplays_not_empty"] == {
        "check": "songplays_not_empty", "result": 6820, "expected": "> 0", "severity": "error", "status": "pass",
        "description": "analytics.songplays has rows",
    }
    assert rows["users_not_empty"]["result"] == 106
    assert rows["time_not_empty"]["result"] == 6813
    assert all(r["status"] == "pass" for r in rows.values())


def test_the_issue_asks_for_these_checks() -> None:
    assert {f"{t}_not_empty" for t in ("songplays", "users", "songs", "artists", "time")} <= BUILTIN_NAMES
    assert {
        "songplays_keys_not_null", "songplays_id_unique", "users_version_unique", "songs_id_unique",
        "artists_id_unique", "time_start_time_unique", "songplays_user_in_users", "songplays_song_in_songs",
        "songplays_artist_in_artists", "songplays_start_time_in_time", "users_one_current_version",
        "users_versions_do_not_overlap", "songplays_level_matches_user_version",
        "songplays_match_staged_events", "songplays_within_staged_ts_range",
    } <= BUILTIN_NAMES


# --------------------------------------------------------------------------- broken warehouses

BREAKAGES = [
    # every table non-empty
    ("songplays_empty", ["DELETE FROM analytics.songplays"],
     {"songplays_not_empty", "songplays_match_staged_events"}),
    ("users_empty", ["DELETE FROM analytics.users"],
     {"users_not_empty", "songplays_user_in_users", "songplays_level_matches_user_version"}),
    ("songs_empty", ["DELETE FROM analytics.songs"], {"songs_not_empty", "songplays_song_in_songs"}),
    ("artists_empty", ["DELETE FROM analytics.artists"],
     {"artists_not_empty", "songplays_artist_in_artists", "songs_artist_in_artists"}),
    ("time_empty", ['DELETE FROM analytics."time"'], {"time_not_empty", "songplays_start_time_in_time"}),
    # no NULL keys (the keys are NOT NULL in DuckDB; not every backend enforces that)
    ("songplay_null_session", [("unkeyed", "songplays"),
                               "UPDATE analytics.songplays SET session_id = NULL WHERE songplay_id = 5"],
     {"songplays_keys_not_null"}),
    ("user_null_valid_from", [("unkeyed", "users"),
                              "UPDATE analytics.users SET valid_from = NULL WHERE user_id = 2"],
     {"users_keys_not_null", "songplays_level_matches_user_version"}),
    ("song_null_id", [("unkeyed", "songs"), "INSERT INTO analytics.songs (song_id, title) VALUES (NULL, 'x')"],
     {"songs_keys_not_null"}),
    ("artist_null_id", [("unkeyed", "artists"), "INSERT INTO analytics.artists VALUES (NULL, 'x', NULL, NULL, NULL)"],
     {"artists_keys_not_null"}),
    ("time_null_start", [("unkeyed", "time"), 'INSERT INTO analytics."time" VALUES (NULL, 1, 1, 1, 1, 2018, 1)'],
     {"time_keys_not_null"}),
    # unique primary keys (what Redshift leaves to us)
    ("songplay_id_reused", [("unkeyed", "songplays"),
                            "UPDATE analytics.songplays SET songplay_id = 1 WHERE songplay_id = 2"],
     {"songplays_id_unique"}),
    ("songplay_loaded_twice", [("unkeyed", "songplays"),
                               ("INSERT INTO analytics.songplays SELECT songplay_id + 100000, start_time, user_id, "
                               "level, song_id, artist_id, session_id, location, user_agent, item_in_session, "
                               "song_title, artist_name, length FROM analytics.songplays WHERE songplay_id <= 3")],
     {"songplays_event_unique", "songplays_match_staged_events"}),
    ("user_version_twice", [("unkeyed", "users"),
                            "INSERT INTO analytics.users SELECT * FROM analytics.users WHERE user_id = 2"],
     {"users_version_unique", "users_one_current_version"}),
    ("song_twice", [("unkeyed", "songs"), "INSERT INTO analytics.songs SELECT * FROM analytics.songs LIMIT 1"],
     {"songs_id_unique"}),
    ("artist_twice", [("unkeyed", "artists"),
                      "INSERT INTO analytics.artists SELECT * FROM analytics.artists LIMIT 1"],
     {"artists_id_unique"}),
    ("time_twice", [("unkeyed", "time"), 'INSERT INTO analytics."time" SELECT * FROM analytics."time" LIMIT 1'],
     {"time_start_time_unique"}),
    # every songplay's keys are in their dimension
    ("unknown_user", ["UPDATE analytics.songplays SET user_id = 999999 WHERE songplay_id = 7"],
     {"songplays_user_in_users", "songplays_level_matches_user_version"}),
    ("unknown_song", ["UPDATE analytics.songplays SET song_id = 'SONOSUCH' WHERE songplay_id = 7"],
     {"songplays_song_in_songs"}),
    ("unknown_artist", ["UPDATE analytics.songplays SET artist_id = 'ARNOSUCH' WHERE songplay_id = 7"],
     {"songplays_artist_in_artists"}),
    ("unknown_time", [('DELETE FROM analytics."time" WHERE start_time = '
                      "(SELECT start_time FROM analytics.songplays WHERE songplay_id = 7)")],
     {"songplays_start_time_in_time"}),
    ("song_of_unknown_artist", [("UPDATE analytics.songs SET artist_id = 'ARNOSUCH' WHERE song_id = "
                                "(SELECT min(song_id) FROM analytics.songs)")],
     {"songs_artist_in_artists"}),
    # user versions
    ("two_current_versions", ["UPDATE analytics.users SET is_current = TRUE, valid_to = NULL WHERE user_id = 15"],
     {"users_one_current_version", "users_versions_do_not_overlap"}),
    ("no_current_version", ["UPDATE analytics.users SET is_current = FALSE WHERE user_id = 16 AND is_current"],
     {"users_one_current_version", "users_current_is_open"}),
    ("overlapping_versions", [("UPDATE analytics.users SET valid_to = valid_to + INTERVAL 1 DAY "
                              "WHERE user_id = 16 AND NOT is_current")],
     {"users_versions_do_not_overlap"}),
    ("level_differs_from_version", [("UPDATE analytics.songplays SET level = 'free' WHERE songplay_id = "
                                    "(SELECT min(songplay_id) FROM analytics.songplays WHERE level = 'paid')")],
     {"songplays_level_matches_user_version"}),
    # the star agrees with staging
    ("songplay_lost", ["DELETE FROM analytics.songplays WHERE songplay_id = 100"],
     {"songplays_match_staged_events"}),
    ("staged_event_lost", [("DELETE FROM staging.staging_events WHERE page = 'NextSong' AND ts = "
                           "(SELECT max(ts) FROM staging.staging_events WHERE page = 'NextSong')")],
     {"songplays_match_staged_events", "songplays_within_staged_ts_range", "page_views_match_staged_events"}),
    ("page_views_lost", ["DELETE FROM analytics.page_views"],
     {"page_views_not_empty", "page_views_match_staged_events"}),
    ("page_view_twice", ["INSERT INTO analytics.page_views SELECT * FROM analytics.page_views LIMIT 1"],
     {"page_views_event_unique", "page_views_match_staged_events"}),
    ("songplay_from_the_future", [("UPDATE analytics.songplays SET start_time = TIMESTAMP '2030-01-01 00:00:00' "
                                  "WHERE songplay_id = 9"),
                                  ("INSERT INTO analytics.\"time\" VALUES (TIMESTAMP '2030-01-01 00:00:00', "
                                  "0, 1, 1, 1, 2030, 2)")],
     {"songplays_within_staged_ts_range"}),
]


@pytest.mark.parametrize(("statements", "expected"), [b[1:] for b in BREAKAGES], ids=[b[0] for b in BREAKAGES])
def test_each_check_fails_on_the_breakage_it_guards_against(broken: str, statements: list, expected: set[str]) -> None:
    with duckdb.connect(broken) as con:
        for statement in statements:
            if isinstance(statement, tuple):
                without_constraints(con, statement[1])
            else:
                con.execute(statement)
    result = run_cli("check", "-w", broken, "--format", "json")
    assert result.exit_code == 1, result.output
    assert failing(result.output) == expected


def test_every_builtin_check_is_shown_failing_by_some_breakage() -> None:
    shown = set().union(*(expected for _, _, expected in BREAKAGES))
    assert shown == BUILTIN_NAMES


def test_duplicate_staged_events_do_not_fail_the_count(broken: str) -> None:
    """Overlapping files stage an event twice; songplays holds it once, and that is right."""
    with duckdb.connect(broken) as con:
        con.execute("INSERT INTO staging.staging_events SELECT * FROM staging.staging_events "
                    "WHERE page = 'NextSong' AND ts < 1541500000000")
    result = run_cli("check", "-w", broken, "--format", "json")
    assert result.exit_code == 0, result.output


def test_a_failure_prints_the_table_and_exits_1(broken: str) -> None:
    with duckdb.connect(broken) as con:
        con.execute("DELETE FROM analytics.songplays WHERE songplay_id = 100")
    proc = run_sparkify("check", "-w", broken)
    assert proc.returncode == 1, proc.stderr
    assert "songplays_match_staged_events" in proc.stdout and "FAIL" in proc.stdout
    assert "29 of 30 checks passed" in proc.stderr


# --------------------------------------------------------------------------- users' own checks

MY_CHECKS = """\
-- My team's checks.

-- check: at_least_100_users
-- description: the sample has 97 users
-- expect: >= 100
SELECT count(DISTINCT user_id) FROM analytics.users;

-- check: plays_in_november_2018
-- expect: 6820
SELECT count(*) FROM analytics.songplays AS p
JOIN analytics."time" AS t ON t.start_time = p.start_time
WHERE t.year = 2018 AND t.month = 11;
"""


def test_users_checks_file_runs_after_the_builtin_ones(sample_warehouse: str, tmp_path: Path) -> None:
    path = tmp_path / "my_checks.sql"
    path.write_text(MY_CHECKS)
    result = run_cli("check", "-w", sample_warehouse, "--checks-file", str(path), "--format", "json")
    assert result.exit_code == 1, result.output
    rows = results(result.output)
    assert set(rows) == BUILTIN_NAMES | {"at_least_100_users", "plays_in_november_2018"}
    assert rows["at_least_100_users"] == {"check": "at_least_100_users", "result": 97, "expected": ">= 100",
                                          "severity": "error", "status": "FAIL",
                                          "description": "the sample has 97 users"}
    assert rows["plays_in_november_2018"]["status"] == "pass"
    only = run_cli("check", "-w", sample_warehouse, "--checks-file", str(path), "--no-builtin", "--format", "csv")
    assert only.exit_code == 1
    assert only.output.splitlines()[0] == "check,result,expected,severity,status,description"
    assert len(only.output.splitlines()) == 3


def test_a_check_whose_sql_fails_is_an_error_not_a_crash(sample_warehouse: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.sql"
    path.write_text("-- check: typo\nSELECT count(*) FROM analytics.no_such_table;\n")
    result = run_cli("check", "-w", sample_warehouse, "--checks-file", str(path), "--format", "json")
    assert result.exit_code == 1
    row = results(result.output)["typo"]
    assert row["status"] == "error" and "no_such_table" in row["result"]


def test_checks_file_format_errors_are_one_line(sample_warehouse: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.sql"
    path.write_text("-- check: x\n-- expect: about 3\nSELECT 3;\n")
    proc = run_sparkify("check", "-w", sample_warehouse, "--checks-file", str(path))
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("Error:") and "about 3" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_parse_checks_reads_the_header_convention() -> None:
    checks = parse_checks(MY_CHECKS, "mine.sql")
    assert [c.name for c in checks] == ["at_least_100_users", "plays_in_november_2018"]
    assert checks[0].expect == ">= 100" and checks[0].description == "the sample has 97 users"
    assert checks[0].sql == "SELECT count(DISTINCT user_id) FROM analytics.users"
    assert checks[1].expect == "6820" and checks[1].passes(6820) and not checks[1].passes(6819)
    assert Check("x", "SELECT 0").passes(0) and not Check("x", "SELECT 1").passes(1)
    assert not Check("x", "SELECT NULL").passes(None)
    with pytest.raises(SparkifyError, match="used twice"):
        parse_checks("-- check: a\nSELECT 1;\n-- check: a\nSELECT 2;\n", "dup.sql")
    with pytest.raises(SparkifyError, match="no query"):
        parse_checks("-- check: empty\n-- expect: 0\n", "empty.sql")


@pytest.mark.parametrize(("text", "parsed"), [("0", ("=", 0.0)), ("> 0", (">", 0.0)), (">=10", (">=", 10.0)),
                                              ("<> 3", ("<>", 3.0)), ("!= -1", ("!=", -1.0)), ("<= 2.5", ("<=", 2.5))])
def test_parse_expect(text: str, parsed: tuple[str, float]) -> None:
    assert parse_expect(text) == parsed


# --------------------------------------------------------------------------- after every etl

SONG = ('{"num_songs": 1, "artist_id": "AR1", "artist_latitude": null, "artist_longitude": null, '
        '"artist_location": "", "artist_name": "Band", "song_id": "SO1", "title": "Tune", "duration": 200.0, '
        '"year": 2000}')


def _event(page: str, user: str, ts: int, item: int) -> str:
    return json.dumps({
        "artist": "Band", "auth": "Logged In" if user else "Logged Out", "firstName": "A" if user else None,
        "gender": "F" if user else None, "itemInSession": item, "lastName": "B" if user else None,
        "length": 200.0, "level": "free", "location": "Town, ST", "method": "PUT", "page": page,
        "registration": 1540000000000.0 if user else None, "sessionId": 1, "song": "Tune", "status": 200,
        "ts": ts, "userAgent": "\"Mozilla/5.0 (X11; Linux x86_64) Firefox/31.0\"", "userId": user,
    })


def _tiny_data(root: Path, events: list[str]) -> tuple[str, str]:
    (root / "songs").mkdir()
    (root / "logs").mkdir()
    (root / "songs" / "SO1.json").write_text(SONG)
    (root / "logs" / "events.json").write_text("\n".join(events))
    return str(root / "songs"), str(root / "logs")


def test_etl_runs_the_checks_after_the_load(tmp_path: Path) -> None:
    songs, logs = _tiny_data(tmp_path, [_event("NextSong", "7", 1541105830796, 0),
                                        _event("Home", "7", 1541105830797, 1)])
    result = run_cli("etl", "--songs", songs, "--logs", logs, "-w", str(tmp_path / "w.duckdb"))
    assert result.exit_code == 0, result.output
    assert "30 of 30 checks passed" in result.output


def test_a_failed_check_blocks_the_load_write_audit_publish(tmp_path: Path) -> None:
    """The checks run inside the load's transaction: a failure publishes nothing, and the load is
    kept as failed with its reason."""
    # Only logged-out events: the load stages them, but songplays, users and time stay empty.
    songs, logs = _tiny_data(tmp_path, [_event("NextSong", "", 1541105830796, 0)])
    warehouse = str(tmp_path / "w.duckdb")
    proc = run_sparkify("etl", "--songs", songs, "--logs", logs, "-w", warehouse)
    assert proc.returncode == 1, proc.stderr
    assert "songplays_not_empty" in proc.stdout and "FAIL" in proc.stdout
    assert "songs_not_empty" not in proc.stdout  # passing checks are counted, not listed
    assert "load 1 blocked by 4 failed check(s): songplays_not_empty, users_not_empty, time_not_empty, page_views_not_empty" in proc.stderr
    assert "Traceback" not in proc.stderr
    with duckdb.connect(warehouse, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM analytics.songs").fetchall() == [(0,)]  # nothing published
        status, message = con.execute("SELECT status, message FROM staging.loads WHERE load_id = 1").fetchall()[0]
        assert status == "failed" and "blocked" in message
    warned = run_sparkify("etl", "--songs", songs, "--logs", logs, "-w", warehouse, "--check-warn-only")
    assert warned.returncode == 0, warned.stderr
    assert "songplays_not_empty" in warned.stdout and "Load 2:" in warned.stdout  # published, failures shown
    skipped = run_cli("etl", "--songs", songs, "--logs", logs, "-w", str(tmp_path / "w2.duckdb"), "--no-check")
    assert skipped.exit_code == 0, skipped.output
    assert "checks" not in skipped.output


def test_severity_warn_reports_without_blocking(tmp_path: Path) -> None:
    songs, logs = _tiny_data(tmp_path, [_event("NextSong", "7", 1541105830796, 0)])
    mine = tmp_path / "mine.sql"
    mine.write_text("-- check: many_plays\n-- severity: warn\n-- expect: >= 1000\nSELECT count(*) FROM analytics.songplays;\n")
    result = run_cli("etl", "--songs", songs, "--logs", logs, "-w", str(tmp_path / "w.duckdb"), "--checks-file", str(mine))
    assert result.exit_code == 0, result.output
    assert "many_plays" in result.output and "warn" in result.output and "1 warnings" in result.output
    assert run_cli("check", "-w", str(tmp_path / "w.duckdb"), "--checks-file", str(mine)).exit_code == 0
    blocking = tmp_path / "block.sql"
    blocking.write_text("-- check: many_plays\n-- expect: >= 1000\nSELECT count(*) FROM analytics.songplays;\n")
    blocked = run_cli("etl", "--songs", songs, "--logs", logs, "-w", str(tmp_path / "w2.duckdb"),
                      "--checks-file", str(blocking))
    assert blocked.exit_code == 1 and "blocked by 1 failed check(s): many_plays" in blocked.output


def test_a_check_cannot_write_inside_the_load(tmp_path: Path) -> None:
    songs, logs = _tiny_data(tmp_path, [_event("NextSong", "7", 1541105830796, 0)])
    evil = tmp_path / "evil.sql"
    evil.write_text("-- check: sneaky\nDELETE FROM analytics.users;\n")
    warehouse = str(tmp_path / "w.duckdb")
    result = run_cli("etl", "--songs", songs, "--logs", logs, "-w", warehouse, "--checks-file", str(evil))
    assert result.exit_code == 1 and "sneaky" in result.output
    assert "exactly one SELECT" in result.output


def test_postgresql_checks_run_in_the_load_and_undo_what_they_do(tmp_path: Path) -> None:
    """On PostgreSQL each check runs in a savepoint that is rolled back: a broken check does not
    abort the load's transaction, and a writing one changes nothing."""
    from tests.pg import fresh_database

    songs, logs = _tiny_data(tmp_path, [_event("NextSong", "7", 1541105830796, 0)])
    mine = tmp_path / "mine.sql"
    mine.write_text("-- check: broken\n-- severity: warn\nSELECT count(*) FROM analytics.no_such_table;\n"
                    "-- check: writes\n-- severity: warn\n-- expect: >= 0\n"
                    "WITH gone AS (DELETE FROM analytics.users RETURNING 1) SELECT count(*) FROM gone;\n")
    with fresh_database() as url:
        result = run_cli("etl", "--songs", songs, "--logs", logs, "-w", url, "--checks-file", str(mine))
        assert result.exit_code == 0, result.output
        assert "broken" in result.output
        users = run_cli("sql", "SELECT count(*) AS n FROM analytics.users", "-w", url, "--format", "csv")
        assert users.output.splitlines()[1] == "1"
