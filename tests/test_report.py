"""`sparkify report`, `queries` and `query`: the analysts' answers, checked against the real sample."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from sparkify.answers.report import QUERIES
from tests.conftest import run_cli, run_sparkify


def query_json(warehouse: str, name: str, *options: str) -> list[dict]:
    result = run_cli("query", name, "-w", warehouse, "--format", "json", *options)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_queries_lists_every_named_query() -> None:
    result = run_cli("queries")
    assert result.exit_code == 0, result.output
    for name in QUERIES:
        assert name in result.output
    assert len(QUERIES) == 25


def test_song_match_rate_is_1_of_6820(sample_warehouse: str) -> None:
    assert query_json(sample_warehouse, "song_match_rate") == [
        {"plays": 6820, "matched_plays": 1, "unmatched_plays": 6819, "match_rate_pct": 0.015}
    ]


def test_most_played_songs_and_artists_cover_the_matched_plays(sample_warehouse: str) -> None:
    assert query_json(sample_warehouse, "top_songs") == [
        {"title": "Setanta matins", "artist": "Elena", "plays": 1, "listeners": 1}
    ]
    assert query_json(sample_warehouse, "top_artists") == [{"artist": "Elena", "plays": 1, "listeners": 1}]


def test_plays_by_hour_and_the_busiest_hour(sample_warehouse: str) -> None:
    hours = query_json(sample_warehouse, "plays_by_hour")
    assert [h["hour"] for h in hours] == list(range(24))
    assert sum(h["plays"] for h in hours) == 6820
    assert query_json(sample_warehouse, "busiest_hour") == [{"hour": 16, "plays": 542, "share_pct": 7.9}]


def test_plays_by_weekday_and_the_heat_map(sample_warehouse: str) -> None:
    days = query_json(sample_warehouse, "plays_by_weekday")
    assert [(d["weekday_name"], d["plays"]) for d in days] == [
        ("Sun", 396), ("Mon", 1014), ("Tue", 1071), ("Wed", 1364), ("Thu", 1052), ("Fri", 1295), ("Sat", 628)]
    grid = query_json(sample_warehouse, "plays_by_weekday_hour")
    assert len(grid) == 168 and sum(c["plays"] for c in grid) == 6820
    assert max(grid, key=lambda c: c["plays"]) == {"weekday": 5, "hour": 16, "plays": 140}
    terminal = run_cli("query", "plays_by_weekday_hour", "-w", sample_warehouse)
    assert "weekday \\ hour" in terminal.output  # a 7 × 24 grid in the terminal, not 168 lines


def test_plays_and_listening_time_by_level(sample_warehouse: str) -> None:
    """Hours add up the length each play's event logged (songplays.length)."""
    assert query_json(sample_warehouse, "plays_by_level") == [
        {"level": "paid", "plays": 5591, "share_pct": 82.0, "listeners": 22, "timed_plays": 5591,
         "listening_hours": 382.2},
        {"level": "free", "plays": 1229, "share_pct": 18.0, "listeners": 82, "timed_plays": 1229,
         "listening_hours": 85.8},
    ]


def test_songs_and_artists_ranked_by_the_names_in_the_logs(sample_warehouse: str) -> None:
    """1 of 6,820 plays matches the catalogue; the logs' own names rank all of them."""
    songs = query_json(sample_warehouse, "top_songs_in_logs", "--limit", "2")
    assert songs == [{"song_title": "You're The One", "artist_name": "Dwight Yoakam", "plays": 37, "listeners": 22},
                     {"song_title": "Undo", "artist_name": "Björk", "plays": 28, "listeners": 14}]
    artists = query_json(sample_warehouse, "top_artists_in_logs", "--limit", "2")
    assert artists == [{"artist_name": "Coldplay", "plays": 58, "listeners": 22},
                       {"artist_name": "Kings Of Leon", "plays": 55, "listeners": 19}]


def test_upgrade_and_downgrade_funnels(sample_warehouse: str) -> None:
    weeks = {(w["week"], w["path"]): w for w in query_json(sample_warehouse, "upgrade_funnel_by_week")}
    assert weeks[("2018-11-05", "upgrade")] == {"week": "2018-11-05", "path": "upgrade", "home_users": 55,
                                                "page_users": 5, "submitted_users": 4, "conversion_pct": 80.0}
    assert sum(w["submitted_users"] for w in weeks.values() if w["path"] == "upgrade") == 6
    assert sum(w["submitted_users"] for w in weeks.values() if w["path"] == "downgrade") == 1


def test_report_sql_reads_only_the_star_schema() -> None:
    """The analyst role (issue 15) may read analytics only: no report query names staging."""
    for file in (resources.files("sparkify") / "sql" / "report").iterdir():
        if file.name.endswith(".sql"):
            assert "staging" not in file.read_text().lower(), file.name


def test_plays_and_paid_share_over_time(sample_warehouse: str) -> None:
    days = query_json(sample_warehouse, "plays_by_day")
    assert len(days) == 30 and days[0]["day"] == "2018-11-01" and days[-1]["day"] == "2018-11-30"
    assert sum(d["plays"] for d in days) == 6820
    assert sum(d["paid_plays"] for d in days) == 5591
    assert max(days, key=lambda d: d["plays"]) == {"day": "2018-11-15", "plays": 479, "paid_plays": 450,
                                                   "free_plays": 29, "listeners": 21}
    share = {d["day"]: d for d in query_json(sample_warehouse, "paid_share_by_day")}
    assert share["2018-11-01"] == {"day": "2018-11-01", "listeners": 4, "paid_listeners": 0, "paid_share_pct": 0.0}
    assert share["2018-11-26"]["paid_share_pct"] == 45.5


def test_upgrades_and_downgrades_per_week(sample_warehouse: str) -> None:
    assert query_json(sample_warehouse, "level_changes_by_week") == [
        {"week": "2018-11-05", "upgrades": 4, "downgrades": 0},
        {"week": "2018-11-12", "upgrades": 2, "downgrades": 0},
        {"week": "2018-11-19", "upgrades": 2, "downgrades": 1},
    ]


def test_top_and_quiet_locations(sample_warehouse: str) -> None:
    top = query_json(sample_warehouse, "top_locations", "--limit", "3")
    assert [(r["location"], r["plays"]) for r in top] == [
        ("San Francisco-Oakland-Hayward, CA", 691), ("Portland-South Portland, ME", 665),
        ("Lansing-East Lansing, MI", 557)]
    quiet = query_json(sample_warehouse, "quiet_locations", "--limit", "1")
    assert quiet == [{"location": "Myrtle Beach-Conway-North Myrtle Beach, SC-NC", "plays": 1, "listeners": 1}]


def test_user_agents_by_browser_and_os(sample_warehouse: str) -> None:
    rows = query_json(sample_warehouse, "user_agents")
    assert sum(r["plays"] for r in rows) == 6820
    by = {(r["browser"], r["os"]): r["plays"] for r in rows}
    assert by[("Chrome", "Mac OS X")] == 1408
    assert by[("Chrome", "Windows")] == 1338
    assert by[("Safari", "Mac OS X")] == 1068
    assert by[("Firefox", "Windows")] == 1062
    assert by[("Safari", "iPhone")] == 239  # not "Mac OS X", though iPhones say "like Mac OS X"
    assert by[("Internet Explorer", "Windows")] == 28  # MSIE and Trident
    assert ("Other", "Other") not in by


def test_most_active_users(sample_warehouse: str) -> None:
    top = query_json(sample_warehouse, "most_active_users", "--limit", "2")
    assert [(u["user_id"], u["first_name"], u["plays"], u["sessions"], u["current_level"]) for u in top] == [
        (49, "Chloe", 689, 42, "paid"), (80, "Tegan", 665, 33, "paid")]


def test_churn_risk_counts_back_from_the_last_play(sample_warehouse: str) -> None:
    week = query_json(sample_warehouse, "churn_risk", "--limit", "100")
    assert len(week) == 26 and min(u["days_idle"] for u in week) == 7 and week[0]["idle_users"] == 26
    five = query_json(sample_warehouse, "churn_risk", "--limit", "5")  # --limit applies here too
    assert len(five) == 5 and five == week[:5]
    month = query_json(sample_warehouse, "churn_risk", "--churn-days", "20")
    assert [(u["user_id"], u["days_idle"]) for u in month] == [(3, 28), (84, 23), (20, 22), (27, 22)]


def test_report_in_the_terminal_leads_with_the_match_rate(sample_warehouse: str) -> None:
    proc = run_sparkify("report", "-w", sample_warehouse)
    assert proc.returncode == 0, proc.stderr
    first = proc.stdout.splitlines()[0]
    assert first.startswith("Only 1 of 6,820 plays (0.0147%) matched a song")
    for name in QUERIES:
        assert f"({name})" in proc.stdout


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_report_writes_one_file_per_question(sample_warehouse: str, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / "out"
    result = run_cli("report", "-w", sample_warehouse, "--format", fmt, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{n}.{fmt}" for n in QUERIES)
    text = (out / f"plays_by_level.{fmt}").read_text()
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        assert rows[0] == {"level": "paid", "plays": "5591", "share_pct": "82.0", "listeners": "22",
                           "timed_plays": "5591", "listening_hours": "382.2"}
        assert len(list(csv.reader(io.StringIO((out / "plays_by_weekday_hour.csv").read_text())))) == 169
    else:
        assert json.loads(text)[1]["plays"] == 1229


def test_report_options_are_checked(sample_warehouse: str) -> None:
    proc = run_sparkify("report", "-w", sample_warehouse, "--format", "csv")
    assert proc.returncode == 2 and "--out" in proc.stderr
    proc = run_sparkify("query", "no_such_question", "-w", sample_warehouse)
    assert proc.returncode == 2 and "sparkify queries" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_sparkify("query", "top_songs", "-w", sample_warehouse, "--limit", "0")
    assert proc.returncode == 2


def test_report_of_an_empty_warehouse_says_so(tmp_path: Path) -> None:
    warehouse = str(tmp_path / "empty.duckdb")
    assert run_cli("create-tables", "-w", warehouse).exit_code == 0
    result = run_cli("report", "-w", warehouse, "--html", str(tmp_path / "empty.html"))
    assert result.exit_code == 0, result.output
    assert "No plays yet." in (tmp_path / "empty.html").read_text()
    assert run_cli("report", "-w", warehouse).output.startswith("No plays yet.")


# SQL that one of DuckDB, PostgreSQL 15 or Redshift does not run; the report and checks must avoid it.
NOT_PORTABLE = [r"epoch_ms", r"::", r"IS (NOT )?DISTINCT FROM", r"\bQUALIFY\b", r"strftime", r"date_diff",
                r"\blist_", r"\bunnest\b", r"\?", r"\bILIKE\b", r"\bEXCLUDE\b", r"\bREGEXP", r"\bFILTER\s*\(",
                r"GROUP BY ALL", r"\bINTERVAL \d", r"\bdayname\b", r"generate_series", r"\bstring_agg\b"]


@pytest.mark.parametrize("folder", ["report", "checks"])
def test_report_and_check_sql_keeps_to_portable_sql(folder: str) -> None:
    for file in (resources.files("sparkify") / "sql" / folder).iterdir():
        if not file.name.endswith(".sql"):
            continue
        code = "\n".join(line.split("--")[0] for line in file.read_text().splitlines())
        for pattern in NOT_PORTABLE:
            assert not re.search(pattern, code, re.IGNORECASE), f"{file.name}: {pattern!r} is not portable"


def _all_queries() -> list[tuple[str, str]]:
    from sparkify.answers.checks import load_checks
    from sparkify.answers.report import questions

    return ([(f"report/{q.name}", q.sql) for q in questions("redshift")]
            + [(f"check {c.name}", c.sql) for c in load_checks("redshift")])


@pytest.mark.parametrize("dialect", ["redshift", "postgres"])
def test_report_and_check_sql_parses_as_redshift_and_postgresql(dialect: str) -> None:
    """No Redshift cluster here: sqlglot's parser stands in for it (PostgreSQL also runs them for real)."""
    sqlglot = pytest.importorskip("sqlglot")
    for name, sql in _all_queries():
        parsed = sqlglot.parse(sql, read=dialect, error_level=sqlglot.ErrorLevel.RAISE)
        assert len(parsed) == 1 and not isinstance(parsed[0], sqlglot.exp.Command), name


@pytest.fixture
def analyst_role() -> Iterator[str]:
    """A throw-away role name for `sparkify grant --analyst`, dropped afterwards."""
    pg = pytest.importorskip("tests.pg")
    import psycopg

    role = f"sparkify_report_analyst_{uuid.uuid4().hex[:8]}"
    yield role
    with psycopg.connect(pg.require_postgres(), autocommit=True) as con:
        con.execute(f'DROP ROLE IF EXISTS "{role}"')


def test_postgresql_gives_the_same_answers_and_passes_the_checks(sample: Path, sample_warehouse: str,
                                                                  tmp_path: Path, analyst_role: str) -> None:
    """The same SQL on PostgreSQL 15, run as the analyst role (no staging access): every answer
    identical to DuckDB's, every check passing."""
    pg = pytest.importorskip("tests.pg")
    with pg.fresh_database("sparkify_report") as url:
        loaded = run_cli("etl", "--songs", str(sample / "song_data"), "--logs", str(sample / "log_data"), "-w", url)
        assert loaded.exit_code == 0, loaded.output
        assert "30 of 30 checks passed" in loaded.output
        assert run_cli("grant", "--analyst", analyst_role, "-w", url).exit_code == 0
        parts = urlsplit(url)
        as_analyst = urlunsplit(parts._replace(netloc=f"{analyst_role}@{parts.hostname}:{parts.port or 5432}"))
        for name, out in (("pg", tmp_path / "pg"), ("duckdb", tmp_path / "duckdb")):
            result = run_cli("report", "-w", as_analyst if name == "pg" else sample_warehouse, "--format", "json",
                             "--out", str(out))
            assert result.exit_code == 0, result.output
        for name in QUERIES:
            assert (tmp_path / "pg" / f"{name}.json").read_text() == (tmp_path / "duckdb" / f"{name}.json").read_text()
