"""What a load's progress shows: real bytes and records within one big staging batch (DuckDB's own
query progress), which model of the star schema and which check runs, and how the CLI's bars
render it. Real warehouses throughout; only the display is a recorder."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

import sparkify
from sparkify.answers.checks import load_checks
from sparkify.cli.progress import RichProgress
from sparkify.pipeline.load import run_etl
from sparkify.warehouse import connect
from sparkify.warehouse.sqlfiles import star_statements
from tests.conftest import run_cli


class Recorder:
    """A Progress display that keeps every call, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[object, ...]] = []

    def start(self, description: str, total_bytes: int) -> None:
        self.calls.append(("start", description, total_bytes))

    def advance(self, nbytes: int, records: int = 0) -> None:
        self.calls.append(("advance", nbytes, records))

    def finish(self) -> None:
        self.calls.append(("finish",))

    def step(self, item: str, number: int, of: int) -> None:
        self.calls.append(("step", item, number, of))

    def phase(self, description: str) -> list[tuple[object, ...]]:
        """The calls between the start of `description` and the next finish."""
        begin = next(i for i, c in enumerate(self.calls) if c[:2] == ("start", description))
        return self.calls[begin + 1:self.calls.index(("finish",), begin)]


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """100 k generated events (45 MB in 29 files): one staging batch, long enough to be polled."""
    out = tmp_path_factory.mktemp("progress") / "data"
    sparkify.generate(out, events=100_000, songs=500, seed=1)
    return out / "log_data"


def test_a_batch_reports_bytes_and_records_while_it_stages(events: Path, tmp_path: Path) -> None:
    recorder = Recorder()
    with connect(str(tmp_path / "w.duckdb")) as wh:
        wh.poll_seconds = 0.001  # many readings of the INSERT's progress, whatever the machine's speed
        assert wh.batch_bytes > sum(f.stat().st_size for f in events.rglob("*.json"))  # one batch
        run_etl(wh, None, str(events), progress=recorder)
    size = sum(f.stat().st_size for f in events.rglob("*.json"))
    staged = recorder.phase("staging events")
    assert ("start", "staging events", size) in recorder.calls
    assert all(c[0] == "advance" for c in staged)
    assert len(staged) > 1, staged  # the bar moves within the one batch, not once at its end
    assert all(int(c[1]) >= 0 and int(c[2]) >= 0 for c in staged)  # bytes and records only grow
    assert sum(int(c[1]) for c in staged) == size
    assert sum(int(c[2]) for c in staged) == 100_000
    assert [c for c in staged[:-1] if int(c[1]) > 0], "bytes reported before the batch ended"


@contextlib.contextmanager
def warehouse_url(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "duckdb":
        yield str(tmp_path / "w.duckdb")
    else:
        from tests.pg import fresh_database

        with fresh_database("sparkify_progress") as url:
            yield url


@pytest.mark.parametrize("backend", ["duckdb", "postgresql"])
def test_the_star_phase_names_each_model_and_the_checks_count(sample: Path, tmp_path: Path,
                                                               backend: str) -> None:
    recorder = Recorder()
    with warehouse_url(backend, tmp_path) as url, sparkify.connect(url) as wh:
        sparkify.load(wh, songs=sample / "song_data", logs=sample / "log_data", progress=recorder)
        dialect = wh.dialect
    models = list(dict.fromkeys(model for model, _ in star_statements("duckdb", songs_changed=True)))
    assert [c[1:] for c in recorder.phase("building the star schema")] \
        == [(model, number, len(models)) for number, model in enumerate(models, 1)]
    checks = load_checks(dialect)
    assert [c[1:] for c in recorder.phase("checking it before the commit")] \
        == [(check.name, number, len(checks)) for number, check in enumerate(checks, 1)]


def plain(console: Console) -> str:
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", console.file.getvalue())  # type: ignore[attr-defined]


def test_rich_progress_shows_mb_per_second_records_per_second_and_the_step() -> None:
    console = Console(file=StringIO(), force_terminal=True, width=200)
    progress = RichProgress(console)
    progress.start("staging events", 466_000_000)
    progress.advance(233_000_000, 500_000)
    progress.bar.refresh()
    progress.finish()
    assert re.search(r"staging events .*233/466 MB, [\d,.]+ MB/s, [\d,]+ records/s", plain(console))
    progress.start("building the star schema", 0)
    progress.step("songplays", 4, 6)
    progress.bar.refresh()
    progress.finish()
    assert "building the star schema: songplays (4/6)" in plain(console)


def test_the_etl_summary_gives_mb_and_records_per_second(sample: Path, tmp_path: Path) -> None:
    result = run_cli("etl", "--songs", str(sample / "song_data"), "--logs", str(sample / "log_data"),
                     "--warehouse", str(tmp_path / "w.duckdb"))
    assert result.exit_code == 0, result.output
    assert re.search(r"Load 1: 101 files, 8127 rows staged, 0 rejected, in [\d.]+ s \([\d,.]+ MB/s, [\d,]+ records/s\)",
                     result.output), result.output
