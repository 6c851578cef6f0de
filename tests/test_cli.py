"""The CLI as users meet it: exit codes, one-line errors, options and environment."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import run_cli, run_sparkify


def test_bad_path_is_one_line_exit_2(tmp_path: Path) -> None:
    result = run_sparkify("etl", "--logs", str(tmp_path / "nowhere"), "-w", str(tmp_path / "w.duckdb"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [f"Error: --logs: path not found: '{tmp_path / 'nowhere'}'"]


def test_folder_without_json_is_an_error(tmp_path: Path) -> None:
    result = run_cli("etl", "--songs", str(tmp_path), "-w", str(tmp_path / "w.duckdb"))
    assert result.exit_code == 2
    assert "no .json files under folder" in result.output


def test_etl_needs_an_input(tmp_path: Path) -> None:
    result = run_cli("etl", "-w", str(tmp_path / "w.duckdb"))
    assert result.exit_code == 2
    assert "give --songs PATH, --logs PATH, or both" in result.output


def test_unreadable_warehouse(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.duckdb"
    garbage.write_bytes(b"this is not a database" * 100)
    result = run_sparkify("status", "-w", str(garbage))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert str(garbage) in result.stderr


def test_missing_warehouse_and_missing_tables(tmp_path: Path) -> None:
    missing = run_sparkify("status", "-w", str(tmp_path / "none.duckdb"))
    assert missing.returncode == 2
    assert "no warehouse at" in missing.stderr and "Traceback" not in missing.stderr
    assert not (tmp_path / "none.duckdb").exists()
    empty = tmp_path / "empty.duckdb"
    run_sparkify("sql", "SELECT 1", "-w", str(tmp_path / "x.duckdb"))  # read-only: must not create it
    import duckdb

    duckdb.connect(str(empty)).close()
    result = run_sparkify("status", "-w", str(empty))
    assert result.returncode == 2
    assert "has no Sparkify tables" in result.stderr


def test_sql_error_is_the_databases_whole_message(sample_warehouse: str) -> None:
    result = run_sparkify("sql", "SELECT nope FROM songplays", "-w", sample_warehouse)
    assert result.returncode == 2
    assert result.stderr.startswith('Error: SQL error: Binder Error: Referenced column "nope" not found')
    assert "LINE 1: SELECT nope FROM songplays" in result.stderr
    assert "Traceback" not in result.stderr


def test_sql_formats_and_env_var(sample_warehouse: str) -> None:
    env = {"SPARKIFY_WAREHOUSE": sample_warehouse}
    query = "SELECT level, count(*) AS plays FROM songplays GROUP BY 1 ORDER BY 1"
    table = run_cli("sql", query, env=env)
    assert table.exit_code == 0
    assert "paid" in table.output and "5591" in table.output
    csv = run_cli("sql", query, "--format", "csv", env=env)
    assert csv.output.splitlines() == ["level,plays", "free,1229", "paid,5591"]
    rows = json.loads(run_cli("sql", query, "--format", "json", env=env).output)
    assert rows == [{"level": "free", "plays": 1229}, {"level": "paid", "plays": 5591}]


def test_status_shows_counts_and_last_load(sample_warehouse: str) -> None:
    result = run_cli("status", "-w", sample_warehouse)
    assert result.exit_code == 0
    assert "analytics.songplays" in result.output and "6820" in result.output
    assert "committed" in result.output


def answer_on_a_terminal(args: list[str], answer: str) -> subprocess.CompletedProcess[str]:
    """The real CLI with a pseudo-terminal as stdin and stderr (where click asks), typing `answer`."""
    import os
    import pty

    main, terminal = pty.openpty()
    exe = str(Path(sys.executable).with_name("sparkify"))
    proc = subprocess.Popen([exe, *args], stdin=terminal, stdout=subprocess.PIPE, stderr=terminal, text=True)
    os.close(terminal)
    os.write(main, answer.encode())
    out, _ = proc.communicate(timeout=60)
    seen = b""
    try:
        while chunk := os.read(main, 4096):
            seen += chunk
    except OSError:
        pass
    os.close(main)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out + seen.decode(errors="replace"), "")


def test_create_tables_asks_before_dropping(sample: Path, tmp_path: Path) -> None:
    path = str(tmp_path / "w.duckdb")
    assert run_cli("create-tables", "-w", path).exit_code == 0  # nothing to drop: no question
    assert run_cli("etl", "--no-check", "--songs", str(sample / "song_data"), "-w", path).exit_code == 0
    refused = answer_on_a_terminal(["create-tables", "-w", path], "n\n")
    assert refused.returncode == 1
    assert "Drop them and all their data?" in refused.stdout
    assert "71" in run_cli("sql", "SELECT count(*) FROM songs", "-w", path).output
    assert run_cli("create-tables", "-w", path, "--yes").exit_code == 0
    assert run_cli("sql", "SELECT count(*) AS n FROM songs", "-w", path, "--format", "csv").output == "n\n0\n"


def test_console_script_end_to_end(sample: Path, tmp_path: Path) -> None:
    """The installed `sparkify` command, as a user types it, from the folder the warehouse lives in."""
    result = run_sparkify("etl", "--songs", str(sample / "song_data"), "--logs",
                          str(sample / "log_data" / "2018" / "11" / "*.json"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "events: 30 files loaded" in result.stdout
    assert (tmp_path / "sparkify.duckdb").exists()  # the default warehouse, in the current folder
    counted = run_sparkify("sql", "SELECT count(*) AS n FROM songplays", "--format", "csv", cwd=tmp_path)
    assert counted.stdout == "n\n6820\n"


def test_etl_format_json_is_one_document_for_schedulers(sample: Path, tmp_path: Path) -> None:
    warehouse = str(tmp_path / "w.duckdb")
    proc = run_sparkify("etl", "--songs", str(sample / "song_data"), "--logs", str(sample / "log_data"),
                        "-w", warehouse, "--format", "json", "--summary-json", str(tmp_path / "run.json"))
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)  # stdout is the document and nothing else
    assert document == json.loads((tmp_path / "run.json").read_text())
    assert document["status"] == "committed" and document["load_id"] == 1 and document["exit_code"] == 0
    events = next(s for s in document["sources"] if s["source"] == "events")
    assert (events["files_loaded"], events["records"], events["staged"], events["rejected"]) == (30, 8056, 8056, 0)
    assert set(document["timings"]) == {"discover", "stage", "star", "audit", "commit"}
    assert document["checks"]["passed"] == 30 and document["checks"]["failed"] == []
    again = json.loads(run_sparkify("etl", "--songs", str(sample / "song_data"), "--logs", str(sample / "log_data"),
                                    "-w", warehouse, "--format", "json").stdout)
    assert again["status"] == "nothing new" and again["load_id"] is None


def test_etl_format_json_reports_a_failed_load(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "bad.json").write_text("{not json\n")
    proc = run_sparkify("etl", "--logs", str(logs), "-w", str(tmp_path / "w.duckdb"), "--format", "json")
    assert proc.returncode == 1
    document = json.loads(proc.stdout)
    assert document["status"] == "failed" and document["exit_code"] == 1 and "--max-errors" in document["message"]
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
