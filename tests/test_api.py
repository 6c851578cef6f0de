"""The Python API: the README's example runs as written, and the API is what the CLI uses."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

import sparkify
from tests.conftest import ROOT


def readme_example() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Python API"):]
    return re.search(r"```python\n(.*?)```", section, flags=re.S).group(1)


def test_the_readme_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(readme_example(), "README.md (Python API)", "exec"), {})
    lines = printed.getvalue().splitlines()
    assert re.fullmatch(r"load 1: \d+ rows staged, 0 rejected", lines[0]), lines
    assert lines[1].startswith("[") and lines[1].endswith(" 3 []")  # three top songs, no failed check
    assert (tmp_path / "api-demo-lake" / "_sparkify_export.json").is_file()


def test_load_returns_the_summary_and_refuses_without_inputs(sample: Path, tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    summary = sparkify.load(path, songs=sample / "song_data", logs=sample / "log_data")
    assert summary.load_id == 1 and summary.rows == 71 + 8056 and summary.rejected == 0
    assert all(r.passed for r in summary.audit)
    assert sparkify.load(path, songs=sample / "song_data").load_id is None  # nothing new
    with pytest.raises(sparkify.SparkifyError, match="give songs, logs, or both"):
        sparkify.load(path)
    assert sparkify.query(path, "top_songs", limit=2).columns[0]
    assert len(sparkify.check(path)) == 30


def test_library_messages_name_no_cli_flags(tmp_path: Path) -> None:
    with pytest.raises(sparkify.SparkifyError) as raised:
        sparkify.load(tmp_path / "w.duckdb", logs=tmp_path / "nowhere")
    assert "--" not in str(raised.value) and str(raised.value).startswith("logs: path not found")


def test_the_api_is_typed_and_documented() -> None:
    for name in sparkify.__all__:
        if name.startswith("__"):
            continue
        obj = getattr(sparkify, name)
        assert obj.__doc__, f"sparkify.{name} has a docstring"
        if callable(obj) and not isinstance(obj, type):
            assert obj.__annotations__.get("return") is not None, f"sparkify.{name} has a return type"


class RecordingProgress:
    """A Progress that keeps what the load reported."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def start(self, description: str, total_bytes: int) -> None:
        self.calls.append(("start", description, str(total_bytes)))

    def advance(self, nbytes: int, records: int = 0) -> None:
        self.calls.append(("advance", str(nbytes), str(records)))

    def finish(self) -> None:
        self.calls.append(("finish",))


def test_progress_reports_bytes_records_and_every_phase(sample: Path, tmp_path: Path) -> None:
    progress = RecordingProgress()
    sparkify.load(tmp_path / "w.duckdb", songs=sample / "song_data", logs=sample / "log_data", progress=progress)
    phases = [c[1] for c in progress.calls if c[0] == "start"]
    assert phases == ["staging songs", "staging events", "building the star schema", "checking it before the commit"]
    advanced = [c for c in progress.calls if c[0] == "advance"]
    assert sum(int(c[2]) for c in advanced) == 71 + 8056  # records, batch by batch, for records/s
    inputs = [*(sample / "song_data").rglob("*.json"), *(sample / "log_data").rglob("*.json")]
    assert sum(int(c[1]) for c in advanced) == sum(f.stat().st_size for f in inputs)  # bytes, for MB/s


def test_sql_returns_each_statements_result_and_keeps_the_mode_asked_for(sample_warehouse: str) -> None:
    first, second = sparkify.sql(sample_warehouse, "SELECT count(*) AS n FROM users; SELECT 2 AS two")
    assert first.columns == ["n"] and first.rows[0][0] > 0 and second.rows == [(2,)]
    with pytest.raises(sparkify.SparkifyError, match="not allowed"):
        sparkify.sql(sample_warehouse, "SELECT 1; DELETE FROM analytics.users")
    with pytest.raises(sparkify.SparkifyError, match='Did you mean "users"'):
        sparkify.sql(sample_warehouse, "SELECT * FROM userz")
    with sparkify.connect(sample_warehouse, read_only=True) as wh:
        with pytest.raises(sparkify.SparkifyError, match="write=True needs a warehouse opened for writing"):
            sparkify.sql(wh, "DELETE FROM analytics.users", write=True)
        assert sparkify.sql(wh, "SELECT 1 AS one")[0].rows == [(1,)]
    assert sparkify.sql(sample_warehouse, "SELECT count(*) AS n FROM users")[0].rows == [(first.rows[0][0],)]
