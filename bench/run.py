"""Scale benchmark: generate Sparkify data of several sizes, load each into a fresh DuckDB warehouse, time it.

Usage (from the repository root):
    .venv/bin/python bench/run.py                      # 100k, 1M and 10M events; writes bench/RESULTS.md
    .venv/bin/python bench/run.py --sizes 100000       # one size only
    .venv/bin/python bench/run.py --data /big/disk/tmp --keep

Each etl runs in its own process (bench/run.py --etl-child …) so its peak RSS is its own. Timings are
taken around the library's own calls (`Warehouse.stage` per source and `Warehouse.build_star`), wrapped
here, so nothing in the library is instrumented. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
NOTES_HEADING = "## Findings"
SONGS = 15_000  # the Udacity copy of the Million Song subset: ~15 k one-object files


def etl_child(songs: str, logs: str, warehouse: str, checks: bool, memory_limit: str) -> dict[str, Any]:
    """Run sparkify.pipeline.load.run_etl with timers around stage() and build_star(); return the timings.

    `memory_limit` (e.g. "3GB"; "" for DuckDB's default of 80 % of RAM) is an experiment knob:
    it is set on the warehouse connection before the load, as a library fix would.
    """
    import duckdb

    from sparkify.pipeline.load import run_etl
    from sparkify.warehouse import connect

    timings: dict[str, float] = defaultdict(float)

    def cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    wh = connect(warehouse)
    if memory_limit:
        wh.con.execute(f"SET memory_limit = '{memory_limit}'")
    stage, build_star = wh.stage, wh.build_star
    trace: list[dict[str, Any]] = []

    def timed_stage(source: Any, files: Any, load_id: int) -> Any:
        t, c = time.perf_counter(), cpu()
        try:
            return stage(source, files, load_id)
        finally:
            timings[f"stage_{source.name}"] += time.perf_counter() - t
            timings[f"stage_{source.name}_cpu"] += cpu() - c
            trace.append({"source": source.name, "files": len(files), "mb": sum(f.size for f in files) / 1e6,
                          "s": time.perf_counter() - t, "cpu": cpu() - c,
                          "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})
            print(json.dumps(trace[-1]), file=sys.stderr, flush=True)

    def timed_build_star(*args: Any, **kwargs: Any) -> Any:
        t, c = time.perf_counter(), cpu()
        try:
            return build_star(*args, **kwargs)
        finally:
            timings["star"] += time.perf_counter() - t
            timings["star_cpu"] += cpu() - c

    wh.stage, wh.build_star = timed_stage, timed_build_star  # type: ignore[method-assign]
    started, c = time.perf_counter(), cpu()
    summary = run_etl(wh, songs, logs)
    timings["etl"] = time.perf_counter() - started
    timings["etl_cpu"] = cpu() - c
    if checks:
        try:
            from sparkify.answers.checks import load_checks, run_checks

            t = time.perf_counter()
            run_checks(wh, load_checks(wh.dialect, [], builtin=True))
            timings["checks"] = time.perf_counter() - t
        except ImportError:
            pass
    counts = {t: wh.query(f"SELECT count(*) FROM analytics.{t}").rows[0][0] for t in ("songplays", "users", "songs")}
    matched = wh.query("SELECT count(song_id) FROM analytics.songplays").rows[0][0]
    wh.close()
    return {
        **timings, "rows": summary.rows, "rejected": summary.rejected, **counts, "matched": matched,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "duckdb": duckdb.__version__,
        "memory_limit": memory_limit or "default", "batches": trace,
    }


def ceiling_child(logs: str) -> dict[str, Any]:
    """DuckDB's own read_json over the same logs, every column parsed: the speed staging can approach."""
    import duckdb

    con = duckdb.connect()
    t, usage = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
    con.execute(f"SELECT count(*), max(COLUMNS(*)) FROM read_json('{logs}/**/*.json', format='newline_delimited')")
    after = resource.getrusage(resource.RUSAGE_SELF)
    return {"read_json": time.perf_counter() - t,
            "read_json_cpu": after.ru_utime + after.ru_stime - usage.ru_utime - usage.ru_stime,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _child(*args: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True)
    if out.returncode:
        sys.exit(f"bench child {args[0]} failed (exit {out.returncode}); its stderr is above")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*.json"))


def run_size(events: int, data: Path, seed: int, keep: bool, checks: bool, memory_limit: str) -> dict[str, Any]:
    from sparkify.generate import generate

    root = data / f"events-{events}"
    shutil.rmtree(root, ignore_errors=True)
    print(f"[{events:,} events] generating into {root} …", flush=True)
    g = generate(root / "input", songs=SONGS, events=events, seed=seed)
    row: dict[str, Any] = {
        "events": events, "songs": g.songs, "users": g.users, "days": g.days,
        "gen_seconds": g.seconds, "gen_log_seconds": g.log_seconds, "gen_events_per_s": g.events_per_second,
        "song_bytes": _bytes(root / "input" / "song_data"), "log_bytes": _bytes(root / "input" / "log_data"),
        "nextsong": g.next_song_events, "catalogue_plays": g.catalogue_plays,
    }
    print(f"[{events:,} events] generated {row['log_bytes'] / 1e6:,.0f} MB of logs in {g.seconds:.1f} s; etl …",
          flush=True)
    row.update(_child("--etl-child", str(root / "input" / "song_data"), str(root / "input" / "log_data"),
                      str(root / "bench.duckdb"), "1" if checks else "0", memory_limit))
    row["warehouse_mb"] = (root / "bench.duckdb").stat().st_size / 1e6
    print(f"[{events:,} events] DuckDB read_json ceiling …", flush=True)
    ceiling = _child("--ceiling-child", str(root / "input" / "log_data"))
    row["read_json"], row["read_json_cpu"] = ceiling["read_json"], ceiling["read_json_cpu"]
    row["read_json_rss_mb"] = ceiling["peak_rss_mb"]
    if not keep:
        shutil.rmtree(root, ignore_errors=True)
    print(json.dumps(row), flush=True)
    return row


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import duckdb

    return (f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM; {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}, DuckDB {duckdb.__version__}; "
            f"load average at start {os.getloadavg()[0]:.1f}")


def _mb_s(nbytes: float, seconds: float) -> str:
    return f"{nbytes / 1e6 / seconds:,.0f}" if seconds else "–"


def table(rows: list[dict[str, Any]]) -> str:
    head = ("| events | input (logs + songs) | generate s: all (logs only, events/s) | stage songs s "
            "| stage events s (MB/s, "
            "events/s) | star s | etl total s (MB/s, events/s) | checks s | peak RSS etl | read_json ceiling s "
            "(MB/s) | songplays (matched) |\n|" + "---|" * 11)
    lines = [head]
    for r in rows:
        size = r["log_bytes"] + r["song_bytes"]
        lines.append(
            f"| {r['events']:,} | {r['log_bytes'] / 1e6:,.0f} MB + {r['song_bytes'] / 1e6:,.1f} MB "
            f"| {r['gen_seconds']:.1f} ({r['gen_log_seconds']:.1f}, {r['gen_events_per_s']:,.0f}) "
            f"| {r.get('stage_songs', 0):.2f} "
            f"| {r.get('stage_events', 0):.1f} ({_mb_s(r['log_bytes'], r.get('stage_events', 0))}, "
            f"{r['events'] / r['stage_events']:,.0f}) "
            f"| {r.get('star', 0):.1f} "
            f"| {r['etl']:.1f} ({_mb_s(size, r['etl'])}, {r['events'] / r['etl']:,.0f}) "
            f"| {r.get('checks', float('nan')):.1f} "
            f"| {r['peak_rss_mb']:,.0f} MB "
            f"| {r['read_json']:.1f} ({_mb_s(r['log_bytes'], r['read_json'])}) "
            f"| {r['songplays']:,} ({r['matched']:,}) |"
        )
    lines.append("\nCPU seconds (user + sys, all threads) — the fairer measure on a shared machine:\n")
    lines.append("| events | stage songs | stage events (MB per CPU-s) | star | etl total | read_json ceiling "
                 "(MB per CPU-s) | stage events ÷ ceiling |\n|" + "---|" * 7)
    for r in rows:
        lines.append(
            f"| {r['events']:,} | {r.get('stage_songs_cpu', 0):.1f} "
            f"| {r.get('stage_events_cpu', 0):.1f} ({_mb_s(r['log_bytes'], r.get('stage_events_cpu', 0))}) "
            f"| {r.get('star_cpu', 0):.1f} | {r.get('etl_cpu', 0):.1f} "
            f"| {r['read_json_cpu']:.1f} ({_mb_s(r['log_bytes'], r['read_json_cpu'])}) "
            f"| {r.get('stage_events_cpu', 0) / r['read_json_cpu']:.2f} |"
        )
    return "\n".join(lines)


def write_results(rows: list[dict[str, Any]], info: str) -> None:
    """Rewrite the measured part of RESULTS.md; keep the hand-written findings below NOTES_HEADING."""
    notes = ""
    if RESULTS.exists():
        text = RESULTS.read_text()
        if NOTES_HEADING in text:
            notes = text[text.index(NOTES_HEADING):]
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    RESULTS.write_text(
        f"# Scale benchmark results\n\nMeasured {stamp} with `python bench/run.py` (see README.md).\n\n"
        f"Machine: {info}\n\n{table(rows)}\n\n"
        "Stage = `Warehouse.stage` (split + parse + insert into staging); star = `Warehouse.build_star`; "
        "etl total = `run_etl` (discover, stage, star, commit). MB/s of stage events counts log bytes only; "
        "of etl total, logs and song files. Checks (`sparkify etl` runs them after the load) are timed "
        "separately and not part of etl total.\n\nRaw rows:\n\n```json\n"
        + "\n".join(json.dumps(r) for r in rows) + "\n```\n\n" + (notes or f"{NOTES_HEADING}\n\n(none yet)\n")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,1000000,10000000", help="event counts, comma-separated")
    parser.add_argument("--data", default=os.environ.get("TMPDIR", "/tmp") + "/sparkify-bench",
                        help="scratch folder for generated data and warehouses (needs ~5 GB at 10M)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", action="store_true", help="keep generated data and warehouses")
    parser.add_argument("--no-checks", action="store_true", help="do not time the data-quality checks")
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    parser.add_argument("--memory-limit", default="", help="experiment: SET memory_limit on the etl connection")
    args = parser.parse_args()
    data = Path(args.data)
    data.mkdir(parents=True, exist_ok=True)
    info = machine()
    print(info, flush=True)
    rows = [run_size(int(n), data, args.seed, args.keep, not args.no_checks, args.memory_limit)
            for n in args.sizes.split(",")]
    print(table(rows))
    if not args.no_write:
        write_results(rows, info)
        print(f"wrote {RESULTS}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--etl-child":
        print(json.dumps(etl_child(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] == "1", sys.argv[6])))
    elif len(sys.argv) > 1 and sys.argv[1] == "--ceiling-child":
        print(json.dumps(ceiling_child(sys.argv[2])))
    else:
        main()
