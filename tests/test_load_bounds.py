"""What a PostgreSQL load tells its planner: the earliest event it staged (`{{ this_load_since() }}`)
and, right before each statement that reads staged events for a table, whether that table has
rows (`{{ loads_to_read(table) }}`). With them a day on a long history reads the day's range of
songplays, page_views and time through their time indexes, not every row (bench/ measures that);
here, on a real database, that the values are the right ones at the right moment (a prune empties
users and page_views mid-build) and that the star still equals a full load."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from sparkify.warehouse.postgres import PostgresWarehouse
from tests.conftest import run_cli
from tests.pg import fresh_database

STAR = ("songs", "artists", "users", "songplays", "time", "page_views")


class _Recording:
    """The warehouse's connection, keeping every statement and what each set_config set."""

    def __init__(self, con: psycopg.Connection[Any], log: list[tuple[str, str | None]]) -> None:
        self._con, self._log = con, log

    def execute(self, sql: str, params: Any = None) -> Any:
        cursor = self._con.execute(sql, params)
        value = None
        if sql.lstrip().startswith("SELECT set_config("):
            row = cursor.fetchall()
            value = str(row[0][0]) if row else None
        self._log.append((sql, value))
        return cursor

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[list[tuple[str, str | None]]]:
    """One list of (statement, value set) per build_star, in order."""
    done: list[list[tuple[str, str | None]]] = []
    original = PostgresWarehouse.build_star

    def recorded(self: PostgresWarehouse, songs_changed: bool) -> None:
        log: list[tuple[str, str | None]] = []
        done.append(log)
        con = self.con
        self.con = _Recording(con, log)  # type: ignore[assignment]
        try:
            original(self, songs_changed)
        finally:
            self.con = con

    monkeypatch.setattr(PostgresWarehouse, "build_star", recorded)
    return done


@pytest.fixture
def data(tmp_path: Path) -> Iterator[tuple[Path, Path, list[Path]]]:
    """Generated songs and 4 days of logs: (song_data, an empty log folder, the day files)."""
    made = run_cli("generate", "--out", str(tmp_path / "gen"), "--events", "2400", "--songs", "60", "--seed", "5",
                   "--users", "30", "-q")
    assert made.exit_code == 0, made.output
    days = sorted((tmp_path / "gen" / "log_data").rglob("*.json"))
    assert len(days) >= 3
    logs = tmp_path / "logs"
    logs.mkdir()
    yield tmp_path / "gen" / "song_data", logs, days


def _set(log: list[tuple[str, str | None]], setting: str) -> list[tuple[int, str | None]]:
    """(position, value) of every set_config of `setting` in a build's log."""
    return [(i, value) for i, (sql, value) in enumerate(log) if f"set_config('{setting}'" in sql]


def _first_use(log: list[tuple[str, str | None]], setting: str) -> int:
    return next(i for i, (sql, _) in enumerate(log)
                if f"current_setting('{setting}')" in sql and "set_config" not in sql)


def _star(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every star table's rows; songplays without songplay_id (a replaced file's plays keep theirs)."""
    with psycopg.connect(url) as con:
        tables = {t: con.execute(f'SELECT * FROM analytics."{t}"').fetchall() for t in STAR}
        columns = [r[0] for r in con.execute("SELECT column_name FROM information_schema.columns WHERE "
                                             "table_schema = 'analytics' AND table_name = 'songplays' "
                                             "ORDER BY ordinal_position").fetchall()]
    at = columns.index("songplay_id")
    tables["songplays"] = [r[:at] + r[at + 1:] for r in tables["songplays"]]
    return {t: sorted(rows, key=repr) for t, rows in tables.items()}


def test_a_load_tells_the_planner_its_range_and_what_each_table_holds(
        builds: list[list[tuple[str, str | None]]], data: tuple[Path, Path, list[Path]]) -> None:
    songs, logs, days = data
    with fresh_database("sparkify_bounds") as url, fresh_database("sparkify_bounds_full") as full:
        since: dict[int, int] = {}  # each load's earliest staged event, read right after it

        def load() -> None:
            result = run_cli("etl", "--songs", str(songs), "--logs", str(logs), "--warehouse", url)
            assert result.exit_code == 0, result.output
            with psycopg.connect(url) as con:
                since.update(con.execute("SELECT load_id, MIN(ts) FROM staging.staging_events WHERE load_id = "
                                         "(SELECT MAX(load_id) FROM staging.loads) GROUP BY load_id").fetchall())

        for day in days[:-1]:
            shutil.copy(day, logs / day.name)
        load()  # load 1: every table empty, every staged event read
        shutil.copy(days[-1], logs / days[-1].name)
        load()  # load 2: one new day on that history
        (logs / days[0].name).write_text(days[0].read_text().splitlines()[0] + "\n")  # replaced: a prune
        load()  # load 3

        first, day, pruned = builds
        # the earliest event of each load, set once before the models run
        for load_id, log in enumerate((first, day, pruned), 1):
            assert [v for _, v in _set(log, "sparkify.load_since")] == [str(since[load_id])]
        # every table empty at first: every load's events (0); on the history, this load's (2)
        for table in ("users", "page_views"):
            setting = f"sparkify.loads_from_{table}"
            for log, expected in ((first, "0"), (day, "2")):
                (position, value), = _set(log, setting)
                assert value == expected and position < _first_use(log, setting), (table, log is day)
            # the replaced file emptied users and page_views first (their prunes): all of staging again
            (position, value), = _set(pruned, setting)
            assert value == "0"
            prune = next(i for i, (sql, _) in enumerate(pruned) if sql.strip() == f"DELETE FROM analytics.{table}")
            assert prune < position < _first_use(pruned, setting)

        # and the star is what a full load of the same files builds
        result = run_cli("etl", "--songs", str(songs), "--logs", str(logs), "--warehouse", full)
        assert result.exit_code == 0, result.output
        assert _star(url) == _star(full)
