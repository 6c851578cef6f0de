"""Loads that never lose or double a record: rejects, reconciliation, incremental, crash-safe."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import orjson
import pytest

from tests.conftest import run_cli, run_sparkify

STAR = ["analytics.songplays", "analytics.users", "analytics.songs", "analytics.artists", 'analytics."time"']


def counts(path: str) -> dict[str, int]:
    with duckdb.connect(path, read_only=True) as con:
        tables = ["staging.staging_events", "staging.staging_songs", *STAR]
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in tables}


def star(path: str) -> dict[str, list]:
    """Star-schema contents, comparable between warehouses (songplay_id depends on load order)."""
    with duckdb.connect(path, read_only=True) as con:
        return {t: sorted(con.execute(
            f"SELECT * EXCLUDE (songplay_id) FROM {t}" if "songplays" in t else f"SELECT * FROM {t}").fetchall(),
            key=repr) for t in STAR}


def etl(path: str, *args: str) -> str:
    result = run_cli("etl", "--no-check", "-w", path, *args)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def clean(sample: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A warehouse loaded from the whole sample in one go: what every other route must equal."""
    path = str(tmp_path_factory.mktemp("clean") / "clean.duckdb")
    etl(path, "--songs", str(sample / "song_data"), "--logs", str(sample / "log_data"))
    return path


@pytest.fixture
def bad_logs(sample: Path, tmp_path: Path) -> Path:
    """Two real days, one with 30 bad lines appended."""
    folder = tmp_path / "logs"
    folder.mkdir()
    for day in ("01", "02"):
        shutil.copy(sample / "log_data" / "2018" / "11" / f"2018-11-{day}-events.json", folder)
    with open(folder / "2018-11-01-events.json", "ab") as handle:
        for i in range(30):
            handle.write(b'\n{"ts": "yesterday %d", "page": "NextSong"}' % i)
    return folder


def test_rejects_over_max_errors_commit_nothing(bad_logs: Path, tmp_path: Path) -> None:
    path = str(tmp_path / "w.duckdb")
    result = run_sparkify("etl", "--no-check", "--logs", str(bad_logs), "-w", path)
    assert result.returncode == 1
    assert "rejected 30 record(s), more than --max-errors 0; nothing was committed" in result.stderr
    assert "Traceback" not in result.stderr
    with duckdb.connect(path, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM staging.staging_events").fetchall() == [(0,)]
        assert con.execute("SELECT count(*) FROM analytics.songplays").fetchall() == [(0,)]
        assert con.execute("SELECT count(*) FROM staging.loaded_files").fetchall() == [(0,)]
        assert con.execute("SELECT count(*), min(line), max(line) FROM staging.load_errors").fetchall() == [
            (30, 16, 45)]
        assert con.execute("SELECT status, records, staged, rejected FROM staging.loads").fetchall() == [
            ("failed", 216, 186, 30)]
    # The user can see why, and the next run with a higher limit loads.
    errors = run_cli("errors", "-w", path)
    assert "ts: expected an integer" in errors.output
    ok = run_cli("etl", "--no-check", "--logs", str(bad_logs), "-w", path, "--max-errors", "30")
    assert ok.exit_code == 0, ok.output
    assert "216 records read = 186 staged + 30 rejected" in ok.output
    assert counts(path)["staging.staging_events"] == 186


def test_errors_command_limit_load_and_csv(bad_logs: Path, tmp_path: Path) -> None:
    path = str(tmp_path / "w.duckdb")
    etl(path, "--logs", str(bad_logs), "--max-errors", "100")
    shown = run_cli("errors", "-w", path, "--limit", "25")
    assert shown.exit_code == 0
    exported = tmp_path / "load_errors.csv"
    assert run_cli("errors", "-w", path, "--csv", str(exported)).exit_code == 0
    rows = list(csv.DictReader(exported.open()))
    assert len(rows) == 25  # the newest 25 by default, like the original load_errors.csv
    assert rows[0]["file"].endswith("2018-11-01-events.json") and rows[0]["line"] == "16"
    assert rows[0]["column"] == "ts" and rows[0]["raw_text"] == '{"ts": "yesterday 0", "page": "NextSong"}'
    assert run_cli("errors", "-w", path, "--all", "--csv", str(exported)).exit_code == 0
    assert len(list(csv.DictReader(exported.open()))) == 30
    missing = run_cli("errors", "-w", path, "--load", "99")  # no such load: said so, not "no records"
    assert missing.exit_code == 2 and "no load 99" in missing.output


def test_reconciliation_is_stored_per_load_and_source(clean: str) -> None:
    with duckdb.connect(clean, read_only=True) as con:
        rows = con.execute("SELECT source, files, records, staged, rejected FROM staging.load_sources "
                           "ORDER BY source").fetchall()
    assert rows == [("events", 30, 8056, 8056, 0), ("songs", 71, 71, 71, 0)]
    history = run_cli("loads", "-w", clean, "--format", "csv").output.splitlines()
    assert history[0].startswith("load_id,status,started_at,finished_at,files,records,staged,rejected,reconciled")
    assert ",committed," in history[1] and ",101,8127,8127,0,True," in history[1]


def test_logs_before_songs_late_song_fixes_plays(sample: Path, clean: str, tmp_path: Path) -> None:
    path = str(tmp_path / "w.duckdb")
    etl(path, "--logs", str(sample / "log_data"))
    assert run_cli("sql", "SELECT count(song_id) AS n FROM songplays", "-w", path, "--format", "csv").output == "n\n0\n"
    etl(path, "--songs", str(sample / "song_data"))
    assert star(path) == star(clean)


def test_batches_by_day_equal_one_full_load(sample: Path, clean: str, tmp_path: Path) -> None:
    """Level changes that arrive in a later batch still give the right user versions."""
    path = str(tmp_path / "w.duckdb")
    etl(path, "--songs", str(sample / "song_data"))
    for week in ("0", "1", "2", "3"):
        etl(path, "--logs", str(sample / "log_data" / "2018" / "11" / f"2018-11-{week}*-events.json"))
    assert star(path) == star(clean)
    with duckdb.connect(path, read_only=True) as con:
        ids = [r[0] for r in con.execute("SELECT songplay_id FROM analytics.songplays ORDER BY 1").fetchall()]
    assert ids == list(range(1, 6821))


def test_overlapping_files_never_double_a_row(sample: Path, clean: str, tmp_path: Path) -> None:
    """The same events in two differently named files (a re-delivered feed) count once in the star."""
    logs = tmp_path / "logs"
    shutil.copytree(sample / "log_data", logs)
    redelivered = tmp_path / "redelivered"
    redelivered.mkdir()
    for day in ("10", "11", "12"):
        shutil.copy(logs / "2018" / "11" / f"2018-11-{day}-events.json", redelivered / f"again-{day}.json")
    path = str(tmp_path / "w.duckdb")
    etl(path, "--songs", str(sample / "song_data"), "--logs", str(logs))
    etl(path, "--logs", str(redelivered))
    assert star(path) == star(clean)
    assert counts(path)["staging.staging_events"] > counts(clean)["staging.staging_events"]


def test_full_refresh_rebuilds_from_files(sample: Path, clean: str, tmp_path: Path) -> None:
    path = str(tmp_path / "w.duckdb")
    etl(path, "--songs", str(sample / "song_data"), "--logs", str(sample / "log_data"))
    with duckdb.connect(path) as con:
        con.execute("DELETE FROM analytics.songplays WHERE songplay_id < 100")
    assert "Nothing new" in etl(path, "--songs", str(sample / "song_data"), "--logs", str(sample / "log_data"))
    output = etl(path, "--full-refresh", "--songs", str(sample / "song_data"), "--logs", str(sample / "log_data"))
    assert "30 files loaded" in output
    assert star(path) == star(clean)


def hold_lock(path: str, seconds: float) -> subprocess.Popen:
    """Another process that opens the warehouse (so holds its lock) for `seconds`."""
    holder = subprocess.Popen(
        [sys.executable, "-c",
         f"import duckdb, time; c = duckdb.connect({path!r}); print('locked', flush=True); time.sleep({seconds})"],
        stdout=subprocess.PIPE, text=True,
    )
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_second_writer_waits_for_the_first(sample: Path, tmp_path: Path) -> None:
    path = str(tmp_path / "w.duckdb")
    holder = hold_lock(path, 2)
    result = run_sparkify("etl", "--no-check", "--songs", str(sample / "song_data"), "-w", path)
    holder.wait()
    assert result.returncode == 0, result.stderr
    assert f"waiting for the load of another process (PID {holder.pid}) to finish" in result.stderr
    assert "is in use by another process" in result.stderr
    assert counts(path)["analytics.songs"] == 71


def test_second_writer_gives_up_clearly(sample: Path, tmp_path: Path) -> None:
    path = str(tmp_path / "w.duckdb")
    holder = hold_lock(path, 5)
    try:
        result = run_sparkify("etl", "--songs", str(sample / "song_data"), "-w", path,
                              env={"SPARKIFY_LOCK_TIMEOUT": "0.5"})
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 2
    assert "in use by another process; gave up waiting" in result.stderr
    assert "Traceback" not in result.stderr


def _scaled_logs(sample: Path, folder: Path, copies: int) -> None:
    """`copies` renamed copies of the sample's logs, each a distinct set of events (new sessions)."""
    events = [orjson.loads(line) for f in sorted((sample / "log_data").rglob("*.json"))
              for line in f.read_bytes().splitlines() if line.strip()]
    for copy in range(copies):
        lines = [orjson.dumps({**e, "sessionId": e["sessionId"] + 10_000 * (copy + 1)}) for e in events]
        (folder / f"copy-{copy:03d}.json").write_bytes(b"\n".join(lines))


def test_kill_minus_9_leaves_the_warehouse_whole(sample: Path, tmp_path: Path) -> None:
    """kill -9 at several moments of a real `sparkify etl`: before, or after, never half."""
    logs = tmp_path / "logs"
    logs.mkdir()
    _scaled_logs(sample, logs, copies=24)
    reference = str(tmp_path / "reference.duckdb")
    etl(reference, "--songs", str(sample / "song_data"), "--logs", str(logs))
    expected = counts(reference)
    exe = Path(sys.executable).with_name("sparkify")
    path = str(tmp_path / "w.duckdb")
    seen_partial = []
    for delay in (0.3, 0.6, 0.9, 1.3, 1.8):
        process = subprocess.Popen([str(exe), "etl", "--no-check", "-q", "--songs", str(sample / "song_data"),
                                    "--logs", str(logs), "-w", path],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   env={**os.environ, "TMPDIR": str(tmp_path)})  # what a killed run leaves
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        if os.path.exists(path):
            now = counts(path) if _has_tables(path) else None
            assert now in (None, expected, {k: 0 for k in expected}), f"half a load after kill at {delay}s: {now}"
            seen_partial.append(now)
    etl(path, "--songs", str(sample / "song_data"), "--logs", str(logs))
    assert counts(path) == expected
    assert star(path) == star(reference)


def _has_tables(path: str) -> bool:
    with duckdb.connect(path, read_only=True) as con:
        return con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'songplays'").fetchall()[0][0] > 0


def test_touched_file_with_same_content_is_skipped(sample: Path, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    shutil.copytree(sample / "log_data", logs)
    path = str(tmp_path / "w.duckdb")
    etl(path, "--songs", str(sample / "song_data"), "--logs", str(logs))
    day = logs / "2018" / "11" / "2018-11-05-events.json"
    os.utime(day, (time.time() + 60, time.time() + 60))  # touched, not changed
    assert "Nothing new" in etl(path, "--logs", str(logs))
    with duckdb.connect(path, read_only=True) as con:
        recorded = con.execute("SELECT modified FROM staging.loaded_files WHERE path = ?", [str(day)]).fetchall()
    assert recorded == [(str(day.stat().st_mtime_ns),)]
    # Same size, different content: reloaded, its rows replaced.
    content = day.read_bytes()
    day.write_bytes(content.replace(b'"level":"free"', b'"level":"paid"', 1))
    assert day.stat().st_size == len(content)
    assert "1 files loaded" in etl(path, "--logs", str(logs))
    assert counts(path)["staging.staging_events"] == 8056
