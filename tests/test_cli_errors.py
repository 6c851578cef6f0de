"""Each way a user can trip gets one clear line, the right exit code, and nothing lost or left.

Every case runs the real `sparkify` console script in a subprocess, as a user (or cron) would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from tests.conftest import run_sparkify

EXE = str(Path(sys.executable).with_name("sparkify"))


def one_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


@pytest.fixture(scope="module")
def loaded(sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("loaded") / "w.duckdb"
    proc = run_sparkify("etl", "--songs", str(sample / "song_data"), "--logs", str(sample / "log_data"), "-w", str(path))
    assert proc.returncode == 0, proc.stderr
    return path


def interrupt(args: list[str], cwd: Path, ready: Callable[[], bool], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Start `sparkify ARGS`; send Ctrl-C (SIGINT) as soon as `ready()` says the work is under way."""
    proc = subprocess.Popen([EXE, *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if ready():
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the command finished before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=timeout)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_ctrl_c_during_a_duckdb_etl_is_one_line_and_130(tmp_path: Path) -> None:
    assert run_sparkify("generate", "--out", "data", "--events", "1500000", "--songs", "300", "--seed", "5",
                        "-q", cwd=tmp_path).returncode == 0
    assert run_sparkify("create-tables", "--yes", "-w", "w.duckdb", cwd=tmp_path).returncode == 0
    # DuckDB writes a big load's rows into the file as it goes: once the file grows, the CLI is up
    # and loading when Ctrl-C comes (the WAL, by contrast, may appear only at the commit)
    empty = (tmp_path / "w.duckdb").stat().st_size
    proc = interrupt(["etl", "--logs", "data/log_data", "-w", "w.duckdb", "--quiet"], tmp_path,
                     lambda: (tmp_path / "w.duckdb").stat().st_size > empty + 2**20)
    assert proc.returncode == 130, proc.stderr
    assert one_line(proc) == "Interrupted: nothing of the current load was committed."
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM staging.loads WHERE status = 'committed'").fetchall() == [(0,)]


def test_ctrl_c_during_generate_leaves_no_half_dataset(tmp_path: Path) -> None:
    proc = interrupt(["generate", "--out", "data", "--events", "5000000", "--seed", "5", "-q"], tmp_path,
                     lambda: any((tmp_path / "data").glob(".sparkify-generating-*/log_data/**/*.json")))
    assert proc.returncode == 130
    assert one_line(proc) == "Interrupted: no data was written."
    assert not (tmp_path / "data" / "song_data").exists() and not (tmp_path / "data" / "log_data").exists()
    assert list((tmp_path / "data").iterdir()) == []  # the work folder went too


@pytest.mark.parametrize("args", [
    ["report", "--html", "{blocked}/report.html"],
    ["report", "--format", "csv", "--out", "{blocked}/report"],
    ["errors", "--csv", "{blocked}/errors.csv"],
])
def test_writing_to_an_unusable_place_is_one_line(args: list[str], loaded: Path, tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    proc = run_sparkify(*[a.format(blocked=blocked) for a in args], "-w", str(loaded))
    assert proc.returncode == 2
    line = one_line(proc)
    assert line.startswith("Error: cannot use ") and str(blocked) in line


@pytest.mark.parametrize("query", ["", " ", ";", " ; "])
def test_an_empty_sql_statement_is_refused(query: str, loaded: Path) -> None:
    proc = run_sparkify("sql", query, "-w", str(loaded))
    assert proc.returncode == 2
    assert one_line(proc).startswith("Error: no SQL statement given")


def test_errors_of_a_load_that_does_not_exist(loaded: Path) -> None:
    proc = run_sparkify("errors", "--load", "999", "-w", str(loaded))
    assert proc.returncode == 2
    assert one_line(proc) == "Error: no load 999: `sparkify loads` lists them"
    assert run_sparkify("errors", "--load", "1", "-w", str(loaded)).stdout.strip() == "Load 1 rejected no records."


def test_create_tables_without_a_terminal_asks_for_yes(loaded: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(loaded.read_bytes())
    proc = subprocess.run([EXE, "create-tables", "-w", str(copy)], stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2
    assert "pass --yes" in one_line(proc)
    with duckdb.connect(str(copy), read_only=True) as con:  # nothing was dropped
        assert con.execute("SELECT count(*) FROM analytics.songplays").fetchall() == [(6820,)]


@pytest.mark.parametrize("where", ["nowhere", "empty"])
def test_a_run_that_fails_before_loading_leaves_no_warehouse_file(where: str, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    proc = run_sparkify("etl", "--logs", str(tmp_path / where), "-w", str(tmp_path / "new.duckdb"))
    assert proc.returncode == 2
    one_line(proc)
    assert not (tmp_path / "new.duckdb").exists() and not (tmp_path / "new.duckdb.wal").exists()


def test_a_failed_load_keeps_its_new_warehouse_and_record(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "bad.json").write_text("{not json\n")
    proc = run_sparkify("etl", "--logs", str(logs), "-w", str(tmp_path / "new.duckdb"))
    assert proc.returncode == 1
    assert (tmp_path / "new.duckdb").exists()  # it holds the failed load and its reject
    assert "bad.json" in run_sparkify("errors", "-w", str(tmp_path / "new.duckdb")).stdout


def test_tables_are_plain_when_output_is_not_a_terminal(loaded: Path) -> None:
    proc = run_sparkify("loads", "-w", str(loaded))
    assert proc.returncode == 0
    assert not any(ch in proc.stdout for ch in "┏┃━│┡"), proc.stdout
    assert proc.stdout.splitlines()[1].split()[:2] == ["load_id", "status"]


@pytest.mark.parametrize("command", [["status"], ["errors"], ["loads"], ["check"], ["sql", "SELECT 1 AS one"]])
def test_every_read_command_speaks_json_and_csv(command: list[str], loaded: Path) -> None:
    import csv
    import io
    import json

    as_json = run_sparkify(*command, "--format", "json", "-w", str(loaded))
    assert as_json.returncode == 0, as_json.stderr
    assert isinstance(json.loads(as_json.stdout), list)
    as_csv = run_sparkify(*command, "--format", "csv", "-w", str(loaded))
    assert as_csv.returncode == 0
    assert next(csv.reader(io.StringIO(as_csv.stdout)))  # a header row


def test_shell_completion_works_as_documented() -> None:
    proc = subprocess.run([EXE], env={**os.environ, "_SPARKIFY_COMPLETE": "bash_source"}, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0 and "complete -o nosort -F" in proc.stdout and "sparkify" in proc.stdout


def test_sql_reads_a_file_or_stdin(loaded: Path, tmp_path: Path) -> None:
    script = tmp_path / "q.sql"
    script.write_text("-- one question\nSELECT count(*) AS plays FROM songplays;\n")
    from_file = run_sparkify("sql", "-f", str(script), "-w", str(loaded), "--format", "csv")
    assert from_file.returncode == 0, from_file.stderr
    assert from_file.stdout == "plays\n6820\n"
    piped = subprocess.run([EXE, "sql", "-", "-w", str(loaded), "--format", "csv"], input=script.read_text(),
                           capture_output=True, text=True, timeout=60)
    assert piped.returncode == 0 and piped.stdout == from_file.stdout
    both = run_sparkify("sql", "SELECT 1", "-f", str(script), "-w", str(loaded))
    assert both.returncode == 2 and "not both" in both.stderr


def as_a_plain_user() -> tuple[list[str], int | None]:
    """How to run a child for whom file modes count: as root (where chmod stops nothing) through
    util-linux's setpriv as `nobody`; otherwise as this user. (command prefix, uid to own the folder)"""
    if os.geteuid() != 0:
        return [], None
    import pwd

    nobody = pwd.getpwnam("nobody")
    return ["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups"], nobody.pw_uid


def test_a_warehouse_in_a_read_only_folder_names_the_real_cause(sample: Path) -> None:
    """A real read-only folder (mode 0555, the load run by a user it binds): DuckDB cannot write the
    write-ahead log at COMMIT. The cause is named in one line, never "cannot rollback - no transaction
    is active", and nothing is stored or published: the folder takes no record either."""
    import shutil
    import tempfile

    prefix, owner = as_a_plain_user()
    folder = Path(tempfile.mkdtemp(prefix="sparkify-ro-", dir="/tmp"))  # outside root's 0700 pytest folder
    try:
        warehouse = folder / "w.duckdb"
        first = run_sparkify("etl", "--songs", str(sample / "song_data"), "--no-check", "-w", str(warehouse))
        assert first.returncode == 0, first.stderr
        if owner is not None:
            for path in (folder, warehouse):
                os.chown(path, owner, -1)
        folder.chmod(0o555)

        def sparkify(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([*prefix, EXE, *args], capture_output=True, text=True, timeout=600)

        failed = sparkify("etl", "--logs", str(sample / "log_data"), "-w", str(warehouse))
        assert failed.returncode == 2
        line = one_line(failed)
        assert f'Cannot open file "{warehouse}.wal": Permission denied' in line, line
        assert "for the same reason" in line and "rollback" not in line and "no transaction" not in line
        new = sparkify("etl", "--songs", str(sample / "song_data"), "-w", str(folder / "new.duckdb"))
        assert new.returncode == 2 and "Permission denied" in one_line(new)
        folder.chmod(0o755)
        assert not (folder / "new.duckdb").exists()
        with duckdb.connect(str(warehouse), read_only=True) as con:
            assert con.execute("SELECT load_id, status, coalesce(message, '') FROM staging.loads").fetchall() == [
                (1, "committed", "")]
            assert con.execute("SELECT count(*) FROM analytics.songplays").fetchone() == (0,)
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder)
