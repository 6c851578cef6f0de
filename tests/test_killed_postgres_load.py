"""Issue 18 item 7: a PostgreSQL load whose client dies, and loads that wait for each other.

Real processes throughout: `sparkify etl` runs as a user runs it, is killed with SIGKILL, and a
second `sparkify etl` waits on the load lock. To catch each run at a known moment, the test holds
a real table lock on analytics."time" (built last), so a load stops inside its star build.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

from sparkify.warehouse import connect
from tests.conftest import run_cli
from tests.pg import fresh_database
from tests.test_contract import TABLES

#: Columns that name the load that wrote a row: a killed run used up a load_id.
LOAD_COLUMNS = {"load_id", "loaded_at"}


def _wait_for(condition: Callable[[], Any], what: str, seconds: float = 180) -> Any:
    """Poll until `condition()` is truthy; a generous deadline only so a bug cannot hang the suite."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what}")


def _etl(url: str, sample: Path, tmp: Path, name: str) -> tuple[subprocess.Popen, Path, Path]:
    out, err = tmp / f"{name}.out", tmp / f"{name}.err"
    exe = Path(sys.executable).with_name("sparkify")
    process = subprocess.Popen(
        [str(exe), "etl", "--no-check", "--songs", str(sample / "song_data"), "--logs", str(sample / "log_data"),
         "-w", url],
        stdout=out.open("w"), stderr=err.open("w"), env={**os.environ, "TMPDIR": str(tmp / "tmp")},
    )
    return process, out, err


def _sessions(admin: psycopg.Connection, database: str, waiting_on: str) -> list[int]:
    """Backends of `sparkify` in `database` waiting for a lock of this type."""
    rows = admin.execute(
        "SELECT DISTINCT a.pid FROM pg_stat_activity AS a JOIN pg_locks AS l ON l.pid = a.pid "
        "WHERE a.datname = %s AND a.application_name = 'sparkify' AND NOT l.granted AND l.locktype = %s",
        [database, waiting_on],
    ).fetchall()
    return [r[0] for r in rows]


@contextmanager
def _time_table_locked(url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(url) as blocker:
        blocker.execute('LOCK TABLE analytics."time" IN ACCESS EXCLUSIVE MODE')
        yield blocker


def _dump(url: str) -> dict[str, Any]:
    """Every compared table, without the columns that name a load."""
    tables: dict[str, Any] = {}
    with connect(url, read_only=True) as wh:
        for table in TABLES:
            if table in ("staging.loads", "staging.load_sources"):
                continue
            result = wh.query(f"SELECT * FROM {table}")
            keep = [i for i, c in enumerate(result.columns) if c not in LOAD_COLUMNS]
            tables[table] = sorted((tuple(r[i] for i in keep) for r in result.rows), key=repr)
    return tables


def test_killed_client_stops_its_server_work_and_the_next_load_redoes_it(sample: Path, tmp_path: Path) -> None:
    (tmp_path / "tmp").mkdir()
    with fresh_database("sparkify_kill") as url, fresh_database("sparkify_fresh") as fresh:
        assert run_cli("create-tables", "-w", url, "--yes").exit_code == 0
        database = url.rsplit("/", 1)[1]
        with psycopg.connect(url, autocommit=True) as admin, _time_table_locked(url):
            first, _, _ = _etl(url, sample, tmp_path, "first")
            [server] = _wait_for(lambda: _sessions(admin, database, "relation"), "the first load to reach the star")
            assert [p.name for p in (tmp_path / "tmp").iterdir() if p.name.startswith("sparkify-parse-")]
            second, out, err = _etl(url, sample, tmp_path, "second")
            _wait_for(lambda: _sessions(admin, database, "advisory"), "the second load to wait for the lock")
            _wait_for(lambda: "waiting for the load of another process" in err.read_text(), "the waiting message")
            assert f"(server process {server}, since " in err.read_text()
            first.send_signal(signal.SIGKILL)
            first.wait()
            # The server notices the dead client and ends its work (and its load lock) while the
            # table it waits for is still locked: it does not run on for the dead client.
            _wait_for(lambda: not admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [server]).fetchall(),
                      "the killed client's server process to end")
        assert second.wait(timeout=600) == 0, err.read_text()
        assert "30 files loaded" in out.read_text()  # nothing of the killed run was committed
        # The killed run's scratch folder (parser spill, CSV) was swept by the second run.
        assert [p.name for p in (tmp_path / "tmp").iterdir()] == []
        assert run_cli("etl", "--no-check", "--songs", str(sample / "song_data"), "--logs",
                       str(sample / "log_data"), "-w", fresh).exit_code == 0
        assert _dump(url) == _dump(fresh)


def test_a_load_that_waited_reads_the_manifest_after_the_lock(sample: Path, tmp_path: Path) -> None:
    (tmp_path / "tmp").mkdir()
    with fresh_database("sparkify_wait") as url:
        assert run_cli("create-tables", "-w", url, "--yes").exit_code == 0
        database = url.rsplit("/", 1)[1]
        with psycopg.connect(url, autocommit=True) as admin, _time_table_locked(url):
            first, first_out, first_err = _etl(url, sample, tmp_path, "first")
            _wait_for(lambda: _sessions(admin, database, "relation"), "the first load to reach the star")
            second, out, err = _etl(url, sample, tmp_path, "second")
            _wait_for(lambda: _sessions(admin, database, "advisory"), "the second load to wait for the lock")
        assert first.wait(timeout=600) == 0, first_err.read_text()
        assert second.wait(timeout=600) == 0, err.read_text()
        assert "30 files loaded" in first_out.read_text()
        assert "waiting for the load of another process" in err.read_text()
        assert "Nothing new: all 101 files were already loaded" in out.read_text()
        with psycopg.connect(url) as con:
            assert con.execute("SELECT load_id, status FROM staging.loads").fetchall() == [(1, "committed")]
