"""Data strings never drive the terminal (issue 17 item 6): printed as text, never as Rich markup,
control characters shown as escapes in tables and left as they are in CSV/JSON. Through the real CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from tests.conftest import run_sparkify

#: What a hostile value holds: a closing tag Rich cannot match, a bracketed title, an emoji code,
#: a colour sequence, a screen clear, a window-title sequence ended by BEL, a bare CSI and a bidi override.
HOSTILE = "[/x] Song [feat. X] :smile: \x1b[31mred \x1b[2J \x1b]0;pwned\x07 \x9b1m \u202eevil"


def assert_shown_as_text(stdout: str, stderr: str = "") -> None:
    assert "Traceback" not in stderr and "MarkupError" not in stderr, stderr
    for control in ("\x1b", "\x07", "\x9b", "\u202e"):
        assert control not in stdout + stderr
    assert "[/x] Song [feat. X] :smile:" in stdout  # whole: no tag eaten, no emoji made
    assert "\\x1b[31mred" in stdout and "\\x1b]0;pwned\\x07" in stdout and "\\u202eevil" in stdout


@pytest.fixture(scope="module")
def hostile(sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse loaded from the real sample plus a log line that is rejected, with HOSTILE in the
    star schema's song titles and locations and in the rejected line."""
    root = tmp_path_factory.mktemp("hostile")
    logs = root / "log_data"
    shutil.copytree(sample / "log_data", logs)
    (logs / "bad.json").write_text('{"artist": "' + HOSTILE + '", broken\n', encoding="utf-8")
    path = root / "w.duckdb"
    loaded = run_sparkify("etl", "--songs", str(sample / "song_data"), "--logs", str(logs), "-w", str(path),
                          "--max-errors", "5")
    assert loaded.returncode == 0, loaded.stderr
    with duckdb.connect(str(path)) as con:
        con.execute("UPDATE analytics.songs SET title = ?", [HOSTILE])
        con.execute("UPDATE analytics.songplays SET location = ?", [HOSTILE])
    return path


def test_sql_prints_data_as_text(hostile: Path) -> None:
    result = run_sparkify("sql", "SELECT title FROM songs LIMIT 1", "-w", str(hostile))
    assert result.returncode == 0, result.stderr
    assert_shown_as_text(result.stdout, result.stderr)


def test_csv_and_json_keep_the_values_as_they_are(hostile: Path) -> None:
    csv = run_sparkify("sql", "SELECT title FROM songs LIMIT 1", "--format", "csv", "-w", str(hostile))
    assert csv.returncode == 0 and HOSTILE in csv.stdout
    rows = json.loads(run_sparkify("sql", "SELECT title FROM songs LIMIT 1", "--format", "json",
                                   "-w", str(hostile)).stdout)
    assert rows == [{"title": HOSTILE}]


def test_errors_shows_a_hostile_rejected_line_as_text(hostile: Path) -> None:
    result = run_sparkify("errors", "-w", str(hostile))
    assert result.returncode == 0, result.stderr
    assert_shown_as_text(result.stdout, result.stderr)


@pytest.mark.parametrize("args", [["report"], ["query", "top_songs"], ["query", "top_locations"]])
def test_report_and_query_print_data_as_text(hostile: Path, args: list[str]) -> None:
    result = run_sparkify(*args, "-w", str(hostile))
    assert result.returncode == 0, result.stderr
    assert_shown_as_text(result.stdout, result.stderr)


def test_check_names_and_sql_errors_are_text(hostile: Path, tmp_path: Path) -> None:
    checks = tmp_path / "checks.sql"
    checks.write_text("-- check: [/x] [bold]named\n-- description: Song [feat. X]\nSELECT 0;\n"
                      "-- check: quoting\nSELECT '[/x]\x1b[2J'::INTEGER;\n", encoding="utf-8")
    result = run_sparkify("check", "--no-builtin", "--checks-file", str(checks), "-w", str(hostile), "--verbose")
    assert result.returncode == 1  # the second check errors
    assert "Traceback" not in result.stderr and "\x1b" not in result.stdout + result.stderr
    assert "[/x] [bold]named" in result.stdout and "Song [feat. X]" in result.stdout
    assert "\\x1b[2J" in result.stdout


def test_an_error_quoting_data_is_plain_text(hostile: Path) -> None:
    """The database's whole message (its LINE and caret lines quote the data too), escaped."""
    result = run_sparkify("sql", "SELECT '[/x]\x1b[2J'::INTEGER", "-w", str(hostile))
    assert result.returncode == 2
    assert "\x1b" not in result.stderr and "Traceback" not in result.stderr
    first, *rest = result.stderr.strip().splitlines()
    assert "[/x]\\x1b[2J" in first and first.startswith("Error: SQL error: Conversion Error:")
    assert [line for line in rest if line.strip()][0] == "LINE 1: SELECT '[/x]\\x1b[2J'::INTEGER"


def test_sparkify_config_shows_a_hostile_setting_as_text(tmp_path: Path) -> None:
    (tmp_path / "sparkify.toml").write_text(f"[s3]\nlog_data = {json.dumps('s3://b/' + HOSTILE)}\n", encoding="utf-8")
    result = run_sparkify("config", cwd=tmp_path, env={"SPARKIFY_CONFIG": ""})
    assert result.returncode == 0, result.stderr
    assert_shown_as_text(result.stdout, result.stderr)
