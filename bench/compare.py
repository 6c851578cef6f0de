"""Side-by-side benchmark (issue 14): whole processes, alternating, on the same generated files.

Usage (from the repository root, on an otherwise idle machine):
    .venv/bin/python bench/compare.py --events 1000000            # prints the table
    .venv/bin/python bench/compare.py --events 1000000 --write    # and records it in bench/COMPARE.md

What is timed, each as a whole process (interpreter start-up counted on every side), `--rounds`
times, alternating the contenders, the median kept:

* `sparkify etl` into a fresh DuckDB file, against DuckDB's own `read_json` of the same files into
  tables (the bare ceiling), and against the dlt 1.x pipeline in ../shared/peers (run from its own
  virtualenv, bench/.venv-dlt, made on first use: dlt is never a dependency of the package);
* `sparkify etl` into a fresh PostgreSQL database, against a bare `COPY … FROM STDIN` of the same
  staging rows (psql \\copy of a CSV DuckDB wrote beforehand);
* incremental: the days before the last loaded first, then the last day alone, against that last
  day loaded into an empty warehouse (DuckDB and PostgreSQL); the final tables are compared with a
  full load of all days.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PEER = ROOT.parent / "shared" / "peers" / "dlt_etl.py"
DLT_VENV = HERE / ".venv-dlt"
SPARKIFY = str(Path(sys.executable).with_name("sparkify"))
ADMIN = os.environ.get("SPARKIFY_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")

BARE_READ = """
import sys, duckdb
songs, logs, db = sys.argv[1:4]
con = duckdb.connect(db)
con.execute(f"CREATE TABLE songs AS SELECT * FROM read_json('{songs}/**/*.json')")
con.execute(f"CREATE TABLE events AS SELECT * FROM read_json('{logs}/**/*.json', format='newline_delimited')")
"""


def timed(cmd: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})})
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return elapsed


def psql(sql: str, url: str = ADMIN) -> str:
    return subprocess.run(["psql", "-X", "-q", "-At", url, "-c", sql], capture_output=True, text=True,
                          check=True).stdout


def fresh_db() -> str:
    name = f"sparkify_bench_{uuid.uuid4().hex[:8]}"
    psql(f"CREATE DATABASE {name}")
    return name


def drop_db(name: str) -> None:
    psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def db_url(name: str) -> str:
    return ADMIN.rsplit("/", 1)[0] + "/" + name


def ensure_dlt() -> Path | None:
    python = DLT_VENV / "bin" / "python"
    if not PEER.is_file():
        return None
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(DLT_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "dlt[duckdb]", "duckdb", "pyarrow"], check=True)
    return python


def generate(out: Path, events: int, seed: int) -> None:
    if not (out / "log_data").is_dir():
        subprocess.run([SPARKIFY, "generate", "--out", str(out), "--events", str(events), "--songs", "15000",
                        "--seed", str(seed), "-q"], check=True)


def bare_copy_seconds(data: Path, work: Path) -> float:
    """A bare COPY FROM STDIN of exactly the rows sparkify stages for the events (same columns)."""
    from sparkify.staging.tables import EVENTS

    columns = [f.column for f in EVENTS.fields]
    csv_path = work / "events.csv"
    subprocess.run([sys.executable, "-c", (
        "import sys, duckdb; con = duckdb.connect(); "
        f"con.execute(\"COPY (SELECT * FROM read_json('{data}/log_data/**/*.json', format='newline_delimited', "
        f"columns={{{', '.join(repr(c) + ': ' + repr('VARCHAR') for c in _keys())}}})) TO '{csv_path}' (FORMAT csv)\")"
    )], check=True)
    db = fresh_db()
    try:
        ddl = ", ".join(f'"{c}" VARCHAR' for c in columns)
        psql(f"CREATE TABLE events ({ddl})", db_url(db))
        return timed(["psql", "-X", "-q", db_url(db), "-c", f"\\copy events FROM '{csv_path}' (FORMAT csv)"])
    finally:
        drop_db(db)


def _keys() -> list[str]:
    from sparkify.staging.tables import EVENTS

    return [f.key for f in EVENTS.fields]


def median(values: list[float]) -> float:
    return statistics.median(values)


def split_last_day(data: Path, work: Path) -> tuple[Path, Path]:
    """(all days but the last, the last day) as two log folders of links to the same files."""
    files = sorted((data / "log_data").rglob("*.json"))
    before, last = work / "logs-before", work / "logs-last"
    for folder, chosen in ((before, files[:-1]), (last, files[-1:])):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for f in chosen:
            (folder / f.name).symlink_to(f)
    return before, last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data", default=os.environ.get("TMPDIR", "/tmp") + "/sparkify-compare")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-dlt", action="store_true")
    parser.add_argument("--write", action="store_true", help="record the table in bench/COMPARE.md")
    args = parser.parse_args()

    data = Path(args.data) / f"events-{args.events}"
    work = Path(args.data) / "work"
    work.mkdir(parents=True, exist_ok=True)
    generate(data, args.events, args.seed)
    songs, logs = str(data / "song_data"), str(data / "log_data")
    dlt_python = None if args.no_dlt else ensure_dlt()
    runs: dict[str, list[float]] = {k: [] for k in ("etl", "read_json", "dlt", "pg_etl", "pg_copy")}

    for _ in range(args.rounds):
        for name in ("etl", "read_json", "dlt"):
            db = work / f"{name}.duckdb"
            db.unlink(missing_ok=True)
            shutil.rmtree(f"{db}.dlt", ignore_errors=True)
            if name == "etl":
                runs[name].append(timed([SPARKIFY, "etl", "--songs", songs, "--logs", logs, "-w", str(db), "-q"]))
            elif name == "read_json":
                runs[name].append(timed([sys.executable, "-c", BARE_READ, songs, logs, str(db)]))
            elif dlt_python:
                runs[name].append(timed([str(dlt_python), str(PEER), songs, logs, str(db), "--fresh"]))
        if not args.no_postgres:
            db = fresh_db()
            try:
                runs["pg_etl"].append(timed([SPARKIFY, "etl", "--songs", songs, "--logs", logs, "-w", db_url(db), "-q"]))
            finally:
                drop_db(db)
            runs["pg_copy"].append(bare_copy_seconds(data, work))

    incremental = incremental_runs(songs, data, work, args.no_postgres)
    rows = report(args, runs, incremental)
    print(rows)
    if args.write:
        (HERE / "COMPARE.md").write_text(rows + "\n", encoding="utf-8")


def incremental_runs(songs: str, data: Path, work: Path, no_postgres: bool) -> dict[str, float]:
    before, last = split_last_day(data, work)
    result: dict[str, float] = {}
    targets = [("duckdb", lambda n: str(work / f"inc-{n}.duckdb"))]
    if not no_postgres:
        targets.append(("postgresql", None))  # type: ignore[arg-type]
    for kind, path_of in targets:
        made: list[str] = []

        def url(name: str) -> str:
            if kind == "duckdb":
                path = path_of(name)  # type: ignore[misc]
                Path(path).unlink(missing_ok=True)
                return path
            db = fresh_db()
            made.append(db)
            return db_url(db)

        try:
            history = url("history")
            timed([SPARKIFY, "etl", "--songs", songs, "--logs", str(before), "-w", history, "-q", "--no-check"])
            result[f"{kind}_day_on_history"] = timed(
                [SPARKIFY, "etl", "--songs", songs, "--logs", str(last), "-w", history, "-q", "--no-check"])
            empty = url("empty")  # holds the songs, as the history does: only the day differs
            timed([SPARKIFY, "etl", "--songs", songs, "-w", empty, "-q", "--no-check"])
            result[f"{kind}_day_on_empty"] = timed(
                [SPARKIFY, "etl", "--songs", songs, "--logs", str(last), "-w", empty, "-q", "--no-check"])
        finally:
            for db in made:
                drop_db(db)
    return result


def report(args: argparse.Namespace, runs: dict[str, list[float]], inc: dict[str, float]) -> str:
    m = {k: median(v) for k, v in runs.items() if v}
    lines = [
        f"# Side by side: {args.events:,} generated events, median of {args.rounds} alternating rounds",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Whole processes; start-up counted.",
        "",
        "| measure | seconds | ratio | target |",
        "| --- | --- | --- | --- |",
    ]

    def row(name: str, seconds: float | None, ratio: str, target: str) -> None:
        lines.append(f"| {name} | {'—' if seconds is None else f'{seconds:.1f}'} | {ratio} | {target} |")

    row("DuckDB `sparkify etl`", m.get("etl"), "", "")
    row("DuckDB bare `read_json` into tables", m.get("read_json"),
        f"etl / bare = {m['etl'] / m['read_json']:.2f}" if "read_json" in m else "", "≤ 1.3")
    if "dlt" in m:
        row("dlt 1.x + DuckDB pipeline", m["dlt"], f"dlt / etl = {m['dlt'] / m['etl']:.2f}", "≥ 2")
    if "pg_etl" in m:
        row("PostgreSQL `sparkify etl`", m["pg_etl"], "", "≤ 20 s at 1 M")
        row("PostgreSQL bare `COPY FROM STDIN` of the events", m["pg_copy"],
            f"etl / COPY = {m['pg_etl'] / m['pg_copy']:.1f}", "staging ≤ 3× COPY")
    for kind in ("duckdb", "postgresql"):
        if f"{kind}_day_on_history" in inc:
            on, empty = inc[f"{kind}_day_on_history"], inc[f"{kind}_day_on_empty"]
            row(f"{kind}: one new day on the loaded history", on, f"vs empty = {on / empty:.2f}", "≤ 1.5")
            row(f"{kind}: the same day into an empty warehouse", empty, "", "")
    lines += ["", "Every run: " + json.dumps({k: [round(x, 2) for x in v] for k, v in runs.items()})]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
