"""The bench's child processes, each run as `python bench/children.py KIND ARGS…` so that its time and
peak RSS are its own. Prints one JSON line.

    phases SONGS LOGS WAREHOUSE   run_etl with timers around Warehouse.stage and build_star, then the checks
    bare SONGS LOGS DUCKDB_FILE   DuckDB's own read_json of the same files into two tables: the ceiling
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections import defaultdict
from typing import Any


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def phases(songs: str, logs: str, warehouse: str) -> dict[str, Any]:
    """sparkify.pipeline.load.run_etl with timers around stage() and build_star(), wall and CPU seconds.

    The library is not instrumented: the warehouse's own methods are wrapped here, then run_etl runs
    exactly as `sparkify etl` calls it; the built-in checks are timed after it, on their own."""
    from sparkify.answers.checks import load_checks, run_checks
    from sparkify.pipeline.load import run_etl
    from sparkify.warehouse import connect

    timings: dict[str, float] = defaultdict(float)
    wh = connect(warehouse)
    stage, build_star = wh.stage, wh.build_star
    batches: list[dict[str, Any]] = []

    def timed_stage(source: Any, files: Any, load_id: int) -> Any:
        t, c = time.perf_counter(), _cpu()
        try:
            return stage(source, files, load_id)
        finally:
            timings[f"stage_{source.name}"] += time.perf_counter() - t
            timings[f"stage_{source.name}_cpu"] += _cpu() - c
            batches.append({"source": source.name, "files": len(files), "mb": sum(f.size for f in files) / 1e6,
                            "s": time.perf_counter() - t, "cpu": _cpu() - c,
                            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})

    def timed_build_star(*args: Any, **kwargs: Any) -> Any:
        t, c = time.perf_counter(), _cpu()
        try:
            return build_star(*args, **kwargs)
        finally:
            timings["star"] += time.perf_counter() - t
            timings["star_cpu"] += _cpu() - c

    wh.stage, wh.build_star = timed_stage, timed_build_star  # type: ignore[method-assign]
    started, c = time.perf_counter(), _cpu()
    summary = run_etl(wh, songs, logs)
    timings["etl"], timings["etl_cpu"] = time.perf_counter() - started, _cpu() - c
    t, c = time.perf_counter(), _cpu()
    run_checks(wh, load_checks(wh.dialect, [], builtin=True))
    timings["checks"], timings["checks_cpu"] = time.perf_counter() - t, _cpu() - c
    songplays, matched = wh.query("SELECT count(*), count(song_id) FROM analytics.songplays").rows[0]
    wh.close()
    return {**timings, "rows": summary.rows, "rejected": summary.rejected, "songplays": songplays,
            "matched": matched, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "batches": batches}


def bare(songs: str, logs: str, db: str) -> dict[str, Any]:
    """What DuckDB alone does with the same files: read_json of songs and events into two tables."""
    import duckdb

    con = duckdb.connect(db)
    con.execute(f"CREATE TABLE songs AS SELECT * FROM read_json('{songs}/**/*.json')")
    con.execute(f"CREATE TABLE events AS SELECT * FROM read_json('{logs}/**/*.json', format='newline_delimited')")
    rows = con.execute("SELECT (SELECT count(*) FROM songs) + (SELECT count(*) FROM events)").fetchone()
    con.close()
    return {"rows": rows[0] if rows else 0}


if __name__ == "__main__":
    kind, *rest = sys.argv[1:]
    print(json.dumps({"phases": phases, "bare": bare}[kind](*rest)))
