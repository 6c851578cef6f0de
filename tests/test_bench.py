"""bench/run.py runs end to end at a tiny size on both backends: every line of its table is there, and
the incremental scenario's tables equal a full load's. No timing is asserted: only that it measures."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT
from tests.pg import require_postgres

EVENTS = 2_000


def test_bench_tiny_run_prints_every_line_and_checks_incremental_equality(tmp_path: Path) -> None:
    admin = require_postgres()
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--sizes", str(EVENTS), "--songs", "200",
         "--backends", "duckdb,postgresql", "--postgres", admin, "--incremental", "--rounds", "1", "--no-write",
         "--data", str(tmp_path)],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| ")]
    assert rows[0] == "| measure | value | ratio | target | met |"
    measures = {row.split(" | ")[0][2:]: row for row in rows[2:]}
    duck, pg = f"DuckDB {EVENTS:,} events", f"PostgreSQL {EVENTS:,} events"
    for name in (f"{duck}: `sparkify etl`, whole process", f"{duck}: bare `read_json` into tables, whole process",
                 f"{duck}: peak RSS of `sparkify etl`", f"{duck}: peak RSS of the phases child",
                 f"{duck}: disk needed: data + peak warehouse (file, WAL, spill)",
                 f"{pg}: `sparkify etl`, whole process", f"{pg}: staging (songs + events, the etl's own timing)",
                 f"{pg}: peak RSS of the `sparkify etl` client", f"{pg}: database size after the load"):
        assert name in measures, f"{name!r} missing from\n{proc.stdout}"
    assert any(m.startswith(f"{duck}: phases") for m in measures)
    assert any(m.startswith(f"{pg}: bare COPY FROM STDIN") for m in measures)
    for backend in ("DuckDB", "PostgreSQL"):
        at = f"Incremental {backend}, {EVENTS:,}-event set"
        assert any(m.startswith(f"{at}: history load") for m in measures)
        assert any(m.startswith(f"{at}: one new day") for m in measures)
        for name in ("the same day into an empty warehouse (songs loaded)",
                     "the same two, checks' time (audit) left out", "peak RSS (history, day on history)"):
            assert f"{at}: {name}" in measures
        equal = measures[f"{at}: history + day = a full load of all days, every star table row for row"]
        assert re.search(r"\| (\d+) of \1 tables equal \|  \| all equal \| yes \|$", equal), equal
    assert all(row.count(" | ") == 4 for row in rows)
    assert measures[f"{duck}: peak RSS of `sparkify etl`"].endswith(("| yes |", "| no |"))


def test_big_rounds_apply_only_over_ten_million(tmp_path: Path) -> None:
    """`--big-rounds` is parsed and checked like `--rounds` (the sizes it governs are too big to run here)."""
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--big-rounds", "0", "--no-write"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "--big-rounds must be at least 1" in proc.stderr
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import run  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(ROOT / "bench"))
    assert run.parse(["--sizes", "1000000,50000000", "--big-rounds", "1"]).big_rounds == 1
    assert run.parse(["--sizes", "1000000"]).big_rounds is None
    assert run.BIG == 10_000_000
