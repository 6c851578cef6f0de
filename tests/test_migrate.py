"""A warehouse made before text_repairs.raw / load_errors.raw became raw_text, and before
staging.loads.checked, keeps working: the next `sparkify etl` renames the columns in place (keeping
their rows), adds the new one (and on PostgreSQL indexes songplays by user_id instead of the whole
event key), and then loads as usual, on real DuckDB files and a real PostgreSQL database."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from sparkify.warehouse.migrate import ADDED_COLUMNS, RENAMED_COLUMNS, old_columns_sql
from sparkify.warehouse.sqlfiles import MATCHES_VIEW, model_statements
from tests.conftest import run_cli
from tests.oddities import BASE_TS, event, write_oddities

STAR = ("songs", "artists", "users", "songplays", "time")


def _mangled(text: str) -> str:
    return text.encode().decode("latin-1").encode().decode("latin-1")


@contextlib.contextmanager
def _connection(url: str) -> Iterator[Callable[[str], list[tuple[Any, ...]]]]:
    """run(sql) -> rows, on the warehouse at `url` (autocommit)."""
    if url.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(url, autocommit=True) as con:
            yield lambda sql: _rows(con.execute(sql))
    else:
        con = duckdb.connect(url)
        try:
            yield lambda sql: _rows(con.execute(sql))
        finally:
            con.close()


def _rows(cursor: Any) -> list[tuple[Any, ...]]:
    return cursor.fetchall() if cursor.description else []


def _make_old(url: str, dialect: str) -> None:
    """Turn a warehouse into one an older Sparkify made: the old column names, the old view, no
    staging.loads.checked."""
    with _connection(url) as run:
        for table, column, _ in ADDED_COLUMNS:
            run(f"ALTER TABLE staging.{table} DROP COLUMN {column}")
        run("DROP VIEW staging.song_matches")
        for table, old, new in RENAMED_COLUMNS:
            run(f"ALTER TABLE staging.{table} RENAME COLUMN {new} TO {old}")
        for statement in model_statements(MATCHES_VIEW, dialect):
            run(statement.replace("raw_text", "raw"))
        assert {(t, c) for t, c in run(old_columns_sql())} == {(t, old) for t, old, _ in RENAMED_COLUMNS}
        if dialect == "postgresql":  # and the index older versions kept on songplays' whole event key
            run("DROP INDEX analytics.songplays_user_id")
            run("CREATE INDEX songplays_event ON analytics.songplays (user_id, session_id, item_in_session, start_time)")


def _songplays_indexes(run: Callable[[str], list[tuple[Any, ...]]]) -> set[str]:
    return {r[0] for r in run("SELECT indexname FROM pg_indexes WHERE schemaname = 'analytics' "
                              "AND tablename = 'songplays'")}


def _write_day3(logs: Path) -> None:
    """A later log file: a mangled name (a text repair), and a broken line (a reject)."""
    plays = [event(page="NextSong", userId="44", firstName=_mangled("Zoë"), lastName="Ångström", sessionId=99,
                   itemInSession=0, ts=BASE_TS + 3 * 86_400_000, artist="Casual", song="I Didn't Mean To",
                   length=218.9)]
    (logs / "2018" / "day3.json").write_text("\n".join(json.dumps(p) for p in plays) + "\n{\"broken\": \n",
                                             encoding="utf-8")


def _snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    with _connection(url) as run:
        return {t: sorted(run(f'SELECT * FROM analytics."{t}"'), key=repr) for t in STAR}


@pytest.fixture(params=["duckdb", "postgresql"])
def warehouses(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """(dialect, old warehouse URL, fresh warehouse URL) of one backend."""
    if request.param == "duckdb":
        yield "duckdb", str(tmp_path / "old.duckdb"), str(tmp_path / "fresh.duckdb")
        return
    from tests.pg import fresh_database

    with fresh_database("sparkify_old") as old, fresh_database("sparkify_fresh") as fresh:
        yield "postgresql", old, fresh


def test_an_old_warehouse_is_renamed_at_the_next_load(warehouses: tuple[str, str, str], tmp_path: Path) -> None:
    dialect, old, fresh = warehouses
    songs, logs = write_oddities(tmp_path / "data")
    first = run_cli("etl", "--songs", str(songs), "--logs", str(logs), "--warehouse", old, "--max-errors", "100",
                    "--no-check")
    assert first.exit_code == 0, first.output
    _make_old(old, dialect)
    with _connection(old) as run:
        run("INSERT INTO staging.text_repairs (raw, fixed) VALUES ('Caf\u00c3\u00a9', 'Café')")
        rejects_before = run("SELECT load_id, file, line, raw FROM staging.load_errors ORDER BY file, line")
    assert rejects_before

    _write_day3(logs)
    second = run_cli("etl", "--songs", str(songs), "--logs", str(logs), "--warehouse", old, "--max-errors", "100",
                     "--no-check")
    assert second.exit_code == 0, second.output

    with _connection(old) as run:
        assert run(old_columns_sql()) == []
        if dialect == "postgresql":
            assert _songplays_indexes(run) == {"songplays_pkey", "songplays_user_id", "songplays_start_time",
                                               "songplays_song_id", "songplays_artist_id"}
        # the load before the migration has no word on its checks; this one ran none
        assert run("SELECT load_id, checked FROM staging.loads ORDER BY load_id") == [(1, None), (2, False)]
        assert run("SELECT load_id, file, line, raw_text FROM staging.load_errors WHERE load_id = 1 "
                   "ORDER BY file, line") == rejects_before
        assert run("SELECT count(*) FROM staging.load_errors WHERE load_id = 2")[0][0] == 1
        repairs = dict(run("SELECT raw_text, fixed FROM staging.text_repairs"))
        assert repairs["Caf\u00c3\u00a9"] == "Café" and repairs[_mangled("Zoë")] == "Zoë"
    errors = run_cli("errors", "--warehouse", old, "--all")
    assert errors.exit_code == 0, errors.output
    assert "day3.json" in errors.output and "broken" in errors.output

    # the renamed warehouse holds exactly the star a new one builds from the same files
    both = run_cli("etl", "--songs", str(songs), "--logs", str(logs), "--warehouse", fresh, "--max-errors", "100",
                   "--no-check")
    assert both.exit_code == 0, both.output
    assert _snapshot(old) == _snapshot(fresh)
    again = run_cli("etl", "--songs", str(songs), "--logs", str(logs), "--warehouse", old, "--no-check")
    assert again.exit_code == 0 and "Nothing new" in again.output


def test_a_new_warehouse_needs_no_rename(tmp_path: Path) -> None:
    from sparkify.warehouse.migrate import migration_statements

    assert migration_statements(set(), "duckdb") == []
    path = str(tmp_path / "new.duckdb")
    assert run_cli("create-tables", "--warehouse", path).exit_code == 0
    with _connection(path) as run:
        assert run(old_columns_sql()) == []
