"""Issue 14: a load that only adds events checks only the rows it can have changed.

The built-in checks say where with `{{ since_load(x) }}` (answers/checks.py, builtin.sql). These
tests hold the scope to two promises, on real DuckDB files and real PostgreSQL databases:
- `sparkify etl` narrows the checks exactly when that is sound: after a load whose checks all
  passed, for a load that replaced, removed and re-matched nothing; every row otherwise.
- within the window, the narrowed checks fail exactly as the checks of every row do: each
  defect a load could bring is put into a loaded warehouse by hand, and both must name it alike.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sparkify.answers.checks import check_sql, load_checks, run_checks
from sparkify.pipeline.load import window_text
from sparkify.warehouse.duckdb import DuckDBWarehouse
from sparkify.warehouse.postgres import PostgresWarehouse
from tests.conftest import run_cli
from tests.pg import fresh_database

#: Defects in the rows of the last load, one per case; each makes at least one check fail.
LATEST_PLAY = "(SELECT max(songplay_id) FROM analytics.songplays)"
DEFECTS = {
    "a play stored twice": "INSERT INTO analytics.songplays SELECT * FROM analytics.songplays "
                           f"WHERE songplay_id = {LATEST_PLAY}",
    "a new play given an old play's id": f"UPDATE analytics.songplays SET songplay_id = 1 WHERE songplay_id = {LATEST_PLAY}",
    "a play of no user": f"UPDATE analytics.songplays SET user_id = 987654321 WHERE songplay_id = {LATEST_PLAY}",
    "a play of no song": f"UPDATE analytics.songplays SET song_id = 'SONOSUCHSONG' WHERE songplay_id = {LATEST_PLAY}",
    "a play of no artist": f"UPDATE analytics.songplays SET artist_id = 'ARNOSUCH' WHERE songplay_id = {LATEST_PLAY}",
    "a play at no time": 'DELETE FROM analytics."time" WHERE start_time = '
                         "(SELECT max(start_time) FROM analytics.songplays)",
    "a time twice": 'INSERT INTO analytics."time" SELECT * FROM analytics."time" '
                    'WHERE start_time = (SELECT max(start_time) FROM analytics."time")',
    "a play at another level": "UPDATE analytics.songplays SET level = CASE WHEN level = 'paid' THEN 'free' "
                               f"ELSE 'paid' END WHERE songplay_id = {LATEST_PLAY}",
    "a play after the last event": "UPDATE analytics.songplays SET start_time = start_time + INTERVAL '1 day' "
                                   f"WHERE songplay_id = {LATEST_PLAY}",
    "a page view twice": "INSERT INTO analytics.page_views SELECT * FROM analytics.page_views "
                         "WHERE start_time = (SELECT max(start_time) FROM analytics.page_views)",
    "a play without its staged event": "DELETE FROM staging.staging_events WHERE page = 'NextSong' AND "
                                       "ts = (SELECT max(ts) FROM staging.staging_events WHERE page = 'NextSong')",
}


def _generate(root: Path) -> tuple[Path, list[Path]]:
    """Generated songs and 4 days of events; the day files, in order."""
    result = run_cli("generate", "--out", str(root), "--songs", "60", "--users", "40",
                     "--days", "4", "--seed", "7", "-q")
    assert result.exit_code == 0, result.output
    days = sorted((root / "log_data").rglob("*.json"))
    assert len(days) >= 3
    return root / "song_data", days


def _etl(songs: Path, logs: Path, url: str, tmp_path: Path, *extra: str) -> dict[str, Any]:
    summary = tmp_path / "summary.json"
    result = run_cli("etl", "--songs", str(songs), "--logs", str(logs), "--warehouse", url,
                     "--summary-json", str(summary), *extra)
    assert result.exit_code == 0, result.output
    return json.loads(summary.read_text())


@pytest.fixture(params=["duckdb", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "duckdb":
        yield str(tmp_path / "scoped.duckdb")
        return
    with fresh_database("sparkify_scoped") as pg:
        yield pg


@contextlib.contextmanager
def _open(url: str) -> Iterator[Any]:
    wh = PostgresWarehouse(url) if url.startswith("postgresql://") else DuckDBWarehouse(url)
    try:
        yield wh
    finally:
        wh.close()


def _first_ts(day: Path) -> int:
    return min(json.loads(line)["ts"] for line in day.read_text().splitlines() if line.strip())


def test_etl_checks_what_a_load_changed_only_when_that_is_sound(url: str, tmp_path: Path) -> None:
    songs, days = _generate(tmp_path / "data")
    logs = tmp_path / "logs" / "2018" / "11"
    logs.mkdir(parents=True)
    arrive = lambda day: shutil.copy(day, logs / day.name)  # noqa: E731 -- a file lands in the folder
    for day in days[:-3]:
        arrive(day)

    first = _etl(songs, tmp_path / "logs", url, tmp_path)
    assert first["checks"]["rows_since"] is None  # a first load: every row

    arrive(days[-3])
    added = _etl(songs, tmp_path / "logs", url, tmp_path)
    assert added["checks"]["rows_since"] == window_text(_first_ts(days[-3]))
    assert added["checks"]["failed"] == []

    arrive(days[-2])
    _etl(songs, tmp_path / "logs", url, tmp_path, "--no-check")
    arrive(days[-1])
    after_unchecked = _etl(songs, tmp_path / "logs", url, tmp_path)
    assert after_unchecked["checks"]["rows_since"] is None  # the load before was never checked

    (logs / days[-3].name).write_text(days[-3].read_text().splitlines()[0] + "\n")  # a file replaced
    replaced = _etl(songs, tmp_path / "logs", url, tmp_path)
    assert replaced["checks"]["rows_since"] is None  # plays were taken away: every row

    with _open(url) as wh:
        assert wh.query("SELECT load_id, checked FROM staging.loads ORDER BY load_id").rows == [
            (1, True), (2, True), (3, False), (4, True), (5, True)]

    shown = run_cli("etl", "--songs", str(songs), "--logs", str(tmp_path / "logs"), "--warehouse", url)
    assert shown.exit_code == 0 and "Nothing new" in shown.output


def test_within_the_window_the_scoped_checks_fail_as_the_full_ones(url: str, tmp_path: Path) -> None:
    songs, days = _generate(tmp_path / "data")
    logs = tmp_path / "logs"
    logs.mkdir()
    for day in days[:-1]:
        shutil.copy(day, logs / day.name)
    _etl(songs, logs, url, tmp_path)
    shutil.copy(days[-1], logs / days[-1].name)
    since = _first_ts(days[-1])
    assert _etl(songs, logs, url, tmp_path)["checks"]["rows_since"] == window_text(since)

    with _open(url) as wh:
        checks = load_checks(wh.dialect)

        def failing(window: int | None) -> set[str]:
            return {r.check.name for r in run_checks(wh, checks, window) if not r.passed}

        assert failing(since) == failing(None) == set()
        refused = []  # defects the database's own keys refuse (PostgreSQL's primary and foreign keys)
        for defect, sql in DEFECTS.items():
            with _transaction(wh):
                try:
                    wh.con.execute(sql)
                except Exception as exc:  # noqa: BLE001 -- only a key's refusal is expected here
                    assert "constraint" in str(exc), (defect, exc)
                    refused.append(defect)
                    continue
                full, scoped = failing(None), failing(since)
            assert full, f"{defect}: no check noticed it"
            assert scoped == full, defect
        assert refused == ([] if wh.dialect == "duckdb" else
                           ["a play stored twice", "a new play given an old play's id", "a time twice",
                            "a page view twice"])

        # What no load that only adds events can change is not looked at again: the oldest play
        # stored twice is a defect of the first load, which its own checks would have caught.
        # (PostgreSQL's primary key refuses it: there only DuckDB's copy can be made.)
        if wh.dialect == "duckdb":
            with _transaction(wh):
                wh.con.execute("INSERT INTO analytics.songplays SELECT * FROM analytics.songplays "
                               "WHERE songplay_id = (SELECT min(songplay_id) FROM analytics.songplays)")
                assert "songplays_id_unique" in failing(None)
                assert "songplays_id_unique" not in failing(since)


@contextlib.contextmanager
def _transaction(wh: Any) -> Iterator[None]:
    """A transaction on the warehouse's own connection, always rolled back."""
    wh.con.execute("BEGIN")
    try:
        yield
    finally:
        wh.con.execute("ROLLBACK")


@pytest.mark.parametrize("dialect", ["duckdb", "postgresql", "redshift"])
def test_check_sql_writes_the_window_in_each_dialect(dialect: str) -> None:
    sql = "SELECT count(*) FROM t WHERE {{ since_load(p.start_time) }} AND {{ since_load_ms(e.ts) }}"
    assert check_sql(sql, dialect) == "SELECT count(*) FROM t WHERE 1 = 1 AND 1 = 1"
    scoped = check_sql(sql, dialect, 1543622400123)
    assert "(e.ts IS NULL OR e.ts >= 1543622400123)" in scoped
    assert "(p.start_time IS NULL OR p.start_time >= " in scoped and "{{" not in scoped
    assert window_text(1543622400123) == "2018-12-01T00:00:00.123Z"
