"""Where the etl time goes: the staging statement's parts, and each star-schema statement, in CPU-s.

Usage (from the repository root; generates ~1 M events into --data unless it is already there):
    .venv/bin/python bench/profile.py --events 1000000 --data /tmp/sparkify-profile

Prints wall and CPU seconds (user + sys, all threads) per step; CPU ÷ wall ≈ cores used. This is
the evidence behind bench/RESULTS.md's findings; it only reads the library's SQL builders and model
files, and changes nothing in the library.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import time
from pathlib import Path

import duckdb

from sparkify.generate import generate
from sparkify.inputs.sources import batches
from sparkify.inputs.sources import discover
from sparkify.warehouse.sqlfiles import MODELS, model_statements
from sparkify.staging.tables import EVENTS, SONGS, line_records_sql, parse_sql, texts_cte
from sparkify.warehouse import connect


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(label: str, con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> None:
    wall, cpu = time.perf_counter(), _cpu()
    con.execute(sql, params or []).fetchall()
    wall, cpu = time.perf_counter() - wall, _cpu() - cpu
    print(f"  {label:<58} wall {wall:6.2f} s  cpu {cpu:6.2f} s  ({cpu / wall if wall else 0:.1f} cores)", flush=True)


def profile_staging(logs: list[str]) -> None:
    """The fast path's statement as parse.py runs it, then its parts, against DuckDB's read_json."""
    print(f"staging: {len(logs)} log files, {sum(Path(f).stat().st_size for f in logs) / 1e6:,.0f} MB")
    con = duckdb.connect()
    timed("read_json, every column (the ceiling)", con,
          "SELECT count(*), max(COLUMNS(*)) FROM read_json(?, format='newline_delimited')", [logs])
    timed("current: split + parse in one statement", con,
          f"CREATE OR REPLACE TEMP TABLE p AS {parse_sql(EVENTS, line_records_sql(), texts_cte('?'))}", [logs])
    timed("  part: split into records only", con,
          f"CREATE OR REPLACE TEMP TABLE recs AS WITH {texts_cte('?')} {line_records_sql()}", [logs])
    timed("  part: parse the materialised records", con,
          f"CREATE OR REPLACE TEMP TABLE p AS {parse_sql(EVENTS, 'SELECT * FROM recs')}")
    as_text = "{" + ",".join(f'"{f.key}":"VARCHAR"' for f in EVENTS.fields) + "}"
    timed("  one json_transform over the records (of the three)", con,
          f"CREATE OR REPLACE TEMP TABLE j AS SELECT json_transform(raw, '{as_text}') FROM recs")
    columns = ", ".join(f.column for f in EVENTS.fields)
    timed("  copy typed rows ORDER BY file, line", con,
          f"CREATE OR REPLACE TEMP TABLE s1 AS SELECT file, line, {columns} FROM p WHERE reason IS NULL "
          "ORDER BY file, line")
    timed("  copy typed rows unordered", con,
          f"CREATE OR REPLACE TEMP TABLE s2 AS SELECT file, line, {columns} FROM p WHERE reason IS NULL")
    con.close()


def profile_star(root: Path) -> None:
    """Stage everything once (kept in root/staged.duckdb), then time each model statement of a first load."""
    staged = root / "staged.duckdb"
    if not staged.exists():
        wh = connect(str(staged))
        wh.create_tables()
        load_id = wh.begin_load()
        for source, folder in ((SONGS, "song_data"), (EVENTS, "log_data")):
            for batch in batches(discover(str(root / "input" / folder)), 512 * 2**20):
                wh.stage(source, batch, load_id)
        wh.con.execute("COMMIT")
        wh.close()
    work = root / "star.duckdb"
    shutil.copy(staged, work)
    con = duckdb.connect(str(work))
    print("star schema, first load:")
    for model in (*MODELS, "songplays_rematch"):
        for i, statement in enumerate(model_statements(model, "duckdb")):
            first = next(line for line in statement.strip().splitlines() if not line.startswith("--"))
            timed(f"{model}[{i}] {first[:40]}", con, statement)
    con.close()
    work.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--data", default="/tmp/sparkify-profile")
    parser.add_argument("--files", type=int, default=4, help="log files to profile staging on")
    args = parser.parse_args()
    root = Path(args.data)
    if not (root / "input").exists():
        generate(root / "input", songs=15_000, events=args.events, seed=42)
    logs = sorted(str(p) for p in (root / "input" / "log_data").rglob("*.json"))
    profile_staging(logs[: args.files])
    profile_star(root)
    print(f"(data kept in {root}; delete it when done)")


if __name__ == "__main__":
    main()
