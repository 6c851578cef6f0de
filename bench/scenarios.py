"""The measured scenarios: DuckDB against its bare read_json (and dlt), PostgreSQL against a bare COPY,
and one new day on a loaded history against the same day on an empty warehouse. Each returns one raw
row (a dict) that report.py turns into lines of the table."""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from procs import (HERE, SPARKIFY, Databases, DiskPeak, Failed, Run, dataset, du, duckdb_files, json_bytes, psql,
                   remove_duckdb, run)

CHILDREN = str(HERE / "children.py")
PEER = HERE.parent.parent / "shared" / "peers" / "dlt_etl.py"
DLT_VENV = HERE / ".venv-dlt"


@dataclass
class Options:
    """What every scenario shares: where the data and warehouses live, how the data was made, rounds."""

    data: Path
    work: Path
    songs: int
    seed: int
    rounds: int
    phases: bool


def median(values: list[float]) -> float:
    return statistics.median(values)


def etl(songs: Path | None, logs: Path | None, warehouse: str, summary: Path,
        checks: bool = True) -> tuple[Run, dict[str, Any]]:
    """`sparkify etl` as a user runs it (checks on), a whole process; and its --summary-json document."""
    cmd = [SPARKIFY, "etl", "-w", warehouse, "-q", "--summary-json", str(summary)] + ([] if checks else ["--no-check"])
    cmd += ["--songs", str(songs)] if songs else []
    cmd += ["--logs", str(logs)] if logs else []
    took = run(cmd)
    return took, json.loads(summary.read_text())


def ensure_dlt() -> Path:
    """The dlt peer's own virtualenv (bench/.venv-dlt), made on first use: never the package's dependency."""
    python = DLT_VENV / "bin" / "python"
    if not PEER.is_file():
        raise SystemExit(f"--dlt needs the peer pipeline {PEER}")
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(DLT_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "dlt[duckdb]", "duckdb", "pyarrow"], check=True)
    return python


def dlt_version(python: Path) -> str:
    return subprocess.run([str(python), "-c", "import dlt; print(dlt.__version__)"], capture_output=True,
                          text=True).stdout.strip()


def duckdb_size(opts: Options, events: int, dlt: Path | None, keep: bool) -> dict[str, Any]:
    """`sparkify etl` into a fresh file against the bare read_json (and dlt), alternating, `rounds` times;
    then once the phases child. With `keep` the last etl's warehouse stays, as a full-load reference."""
    ds = dataset(opts.data, events, opts.songs, opts.seed)
    songs, logs = ds / "song_data", ds / "log_data"
    row: dict[str, Any] = {"scenario": "duckdb", "events": events, "log_bytes": json_bytes(logs),
                           "song_bytes": json_bytes(songs), "data_disk_bytes": du(ds)}
    runs: dict[str, list[Run]] = {"etl": [], "bare": [], "dlt": []}
    db = opts.work / f"duckdb-{events}.duckdb"
    for _ in range(opts.rounds):
        remove_duckdb(db)
        with DiskPeak(*duckdb_files(db)) as disk:
            took, done = etl(songs, logs, str(db), opts.work / "summary.json")
        runs["etl"].append(took)
        row["warehouse_peak_bytes"] = max(row.get("warehouse_peak_bytes", 0), disk.peak)
        row["warehouse_bytes"], row["etl_timings"] = du(*duckdb_files(db)), done["timings"]
        bare = opts.work / "bare.duckdb"
        remove_duckdb(bare)
        runs["bare"].append(run([sys.executable, CHILDREN, "bare", str(songs), str(logs), str(bare)]))
        remove_duckdb(bare)
        if dlt:
            peer = opts.work / "dlt.duckdb"
            runs["dlt"].append(run([str(dlt), str(PEER), str(songs), str(logs), str(peer), "--fresh"]))
            remove_duckdb(peer)
            shutil.rmtree(f"{peer}.dlt", ignore_errors=True)
    if keep:
        row["kept"] = str(db)
    else:
        remove_duckdb(db)
    for name, done in runs.items():
        if done:
            row[f"{name}_s"] = median([r.seconds for r in done])
            row[f"{name}_runs"] = [round(r.seconds, 2) for r in done]
            row[f"{name}_rss_mb"] = max(r.rss_mb for r in done)
    if opts.phases:
        child = opts.work / "phases.duckdb"
        remove_duckdb(child)
        took = run([sys.executable, CHILDREN, "phases", str(songs), str(logs), str(child)])
        row["phases"] = json.loads(took.stdout.strip().splitlines()[-1])
        row["phases_rss_mb"] = took.rss_mb
        remove_duckdb(child)
    return row


def bare_copy(url: str, csv: dict[str, Path]) -> Run:
    """psql `\\copy … FROM` (COPY FROM STDIN) of the staged rows' CSV into bare tables LIKE staging's."""
    psql("; ".join(f"CREATE TABLE public.bare_{t} (LIKE staging.{t})" for t in csv), url)
    try:
        cmd = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", url]
        for table, path in csv.items():
            cmd += ["-c", f"\\copy public.bare_{table} FROM '{path}' (FORMAT csv)"]
        return run(cmd)
    finally:
        psql("; ".join(f"DROP TABLE public.bare_{t}" for t in csv), url)


def postgres_size(opts: Options, events: int, dbs: Databases, keep: bool) -> dict[str, Any]:
    """`sparkify etl` into a fresh database against a bare COPY FROM STDIN of the rows it staged."""
    ds = dataset(opts.data, events, opts.songs, opts.seed)
    songs, logs = ds / "song_data", ds / "log_data"
    row: dict[str, Any] = {"scenario": "postgresql", "events": events, "log_bytes": json_bytes(logs)}
    etls: list[Run] = []
    copies: list[Run] = []
    stages: list[float] = []
    csv = {t: opts.work / f"{t}.csv" for t in ("staging_songs", "staging_events")}
    url = ""
    try:
        for r in range(opts.rounds):
            url = dbs.fresh()
            took, done = etl(songs, logs, url, opts.work / "summary.json")
            etls.append(took)
            stages.append(done["timings"]["stage"])
            row["etl_timings"] = done["timings"]
            if r == 0:  # the same rows every round: written once, outside the clock
                for table, path in csv.items():
                    psql(f"\\copy (SELECT * FROM staging.{table}) TO '{path}' (FORMAT csv)", url)
                row["copy_rows"] = int(psql("SELECT (SELECT count(*) FROM staging.staging_songs) + "
                                            "(SELECT count(*) FROM staging.staging_events)", url))
            copies.append(bare_copy(url, csv))
            row["database_bytes"] = size("postgresql", url)
            if not (keep and r == opts.rounds - 1):
                dbs.drop(url)
    finally:
        for path in csv.values():
            path.unlink(missing_ok=True)
    if keep:
        row["kept"] = url
    row.update(etl_s=median([r.seconds for r in etls]), etl_runs=[round(r.seconds, 2) for r in etls],
               etl_rss_mb=max(r.rss_mb for r in etls), stage_s=median(stages), stage_runs=stages,
               copy_s=median([r.seconds for r in copies]), copy_runs=[round(r.seconds, 2) for r in copies])
    return row


def _links(folder: Path, root: Path, files: list[Path]) -> None:
    """`folder` holds symlinks to `files` (paths kept relative to `root`): a log folder without copies."""
    for f in files:
        link = folder / f.relative_to(root)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(f)


def incremental(opts: Options, events: int, backend: str, dbs: Databases, full: str | None) -> dict[str, Any]:
    """All days but the last loaded as history, then the last day into a copy of it, against that day
    into a copy of a warehouse that holds only the songs; `rounds` times. Then the history + day
    warehouse is compared, table by table, with a full load of all the days (`full`, or made here)."""
    ds = dataset(opts.data, events, opts.songs, opts.seed)
    songs, logs = ds / "song_data", ds / "log_data"
    files = sorted(logs.rglob("*.json"))
    folder, day = opts.work / f"inc-{backend}-logs", opts.work / f"inc-{backend}-day"
    for f in (folder, day):
        shutil.rmtree(f, ignore_errors=True)
        f.mkdir(parents=True)
    _links(folder, logs, files[:-1])
    _links(day, logs, files[-1:])
    row: dict[str, Any] = {"scenario": f"incremental-{backend}", "events": events, "days": len(files),
                           "day_file": str(files[-1].relative_to(logs)), "day_bytes": files[-1].stat().st_size}
    summary = opts.work / "summary.json"
    made: list[str] = []

    def fresh(template: str | None = None, name: str = "") -> str:
        """An empty warehouse, or a copy of `template` (copied outside every clock)."""
        if backend == "postgresql":
            return dbs.fresh(template)
        path = opts.work / f"inc-{name}.duckdb"
        remove_duckdb(path)
        if template:
            for src, dst in zip(duckdb_files(Path(template)), duckdb_files(path)):
                if src.is_file():
                    shutil.copyfile(src, dst)
        made.append(str(path))
        return str(path)

    history, empty = fresh(name="history"), fresh(name="empty")
    took, _ = etl(songs, folder, history, summary)
    row.update(history_s=took.seconds, history_rss_mb=took.rss_mb, history_bytes=size(backend, history))
    if backend == "postgresql" and psql("SHOW autovacuum", history).strip() == "off":
        # This server never vacuums by itself. One with autovacuum on (the default) vacuums and
        # analyzes the history after its load, long before the next day's; here the day's first
        # reads would set the hint bits of every history page instead, and write them all again.
        started = time.perf_counter()
        psql("VACUUM (ANALYZE)", history)
        row["history_vacuum_s"] = time.perf_counter() - started
    _links(folder, logs, files[-1:])  # the new day arrives in the folder the history was loaded from
    etl(songs, None, empty, summary, checks=False)  # the empty side holds the songs too: only the day differs
    on_runs, empty_runs = [], []
    on = ""
    for _ in range(opts.rounds):
        if on:
            drop(backend, dbs, on)
        on = fresh(history, "on-history")
        took, done = etl(songs, folder, on, summary)
        on_runs.append((took, _one_new_file(done)))
        target = fresh(empty, "on-empty")
        took, done = etl(songs, day, target, summary)
        empty_runs.append((took, _one_new_file(done)))
        drop(backend, dbs, target)
    for side, done in (("on_history", on_runs), ("on_empty", empty_runs)):
        row[f"{side}_s"] = median([t.seconds for t, _ in done])
        row[f"{side}_runs"] = [round(t.seconds, 2) for t, _ in done]
        row[f"{side}_no_checks_s"] = median([t.seconds - timings.get("audit", 0.0) for t, timings in done])
        row[f"{side}_rss_mb"] = max(t.rss_mb for t, _ in done)
        row[f"{side}_timings"] = done[-1][1]
    for url in (history, empty):  # before the full load: at 10 M a PostgreSQL warehouse takes gigabytes
        drop(backend, dbs, url)
    if full is None:
        full = fresh(name="full")
        took, _ = etl(songs, folder, full, summary)
        row.update(full_s=took.seconds, full_rss_mb=took.rss_mb)
    row["equal"] = compare(backend, on, full)
    for url in (on, full, *made):
        drop(backend, dbs, url)
    return row


def _one_new_file(summary: dict[str, Any]) -> dict[str, float]:
    """The run's timings, once its summary shows it loaded the one new day file and nothing else."""
    loaded = {s["source"]: s["files_loaded"] for s in summary["sources"]}
    if loaded != {"songs": 0, "events": 1}:
        raise Failed(f"the incremental day load loaded {loaded} files, not one new event file")
    return summary["timings"]


def size(backend: str, url: str) -> int:
    """Bytes a warehouse takes on disk."""
    if backend == "postgresql":
        return int(psql("SELECT pg_database_size(current_database())", url))
    return du(*duckdb_files(Path(url)))


def drop(backend: str, dbs: Databases, url: str) -> None:
    if backend == "postgresql":
        dbs.drop(url)
    else:
        remove_duckdb(Path(url))


FINGERPRINT = {  # rows, and the sum of a 64-bit hash of each whole row: equal multisets give equal sums
    "duckdb": "SELECT count(*), sum(hash(t)::HUGEINT)::VARCHAR FROM analytics.{table} t",
    "postgresql": "SELECT count(*), sum(('x' || substr(md5(t::text), 1, 16))::bit(64)::bigint::numeric)::text "
                  "FROM analytics.{table} t",
}


def fingerprints(backend: str, url: str) -> dict[str, list[Any]]:
    """Each star table's row count and row-hash sum, read through the library's read-only sparkify.sql."""
    import sparkify

    tables = sparkify.sql(url, "SELECT table_name FROM information_schema.tables WHERE table_schema = "
                               "'analytics' AND table_type = 'BASE TABLE' ORDER BY table_name")[0].rows
    script = "; ".join(FINGERPRINT[backend].format(table=name) for (name,) in tables)
    return {name: list(result.rows[0]) for (name,), result in zip(tables, sparkify.sql(url, script))}


def compare(backend: str, incremental_url: str, full_url: str) -> dict[str, Any]:
    """Every star table, row for row (songplay_id included): history + day against the full load."""
    got, want = fingerprints(backend, incremental_url), fingerprints(backend, full_url)
    differ = sorted(t for t in set(got) | set(want) if got.get(t) != want.get(t))
    return {"tables": sorted(want), "rows": {t: want[t][0] for t in want}, "differ": differ,
            "incremental_rows": {t: got.get(t, [None])[0] for t in differ}}
