"""The benchmark (issues 3 and 14): Sparkify on DuckDB and PostgreSQL against bare DuckDB read_json, a bare
COPY FROM STDIN and the dlt peer; one new day on a loaded history; one table of measures against targets.

Usage (from the repository root; see bench/README.md for every flag):
    .venv/bin/python bench/run.py --sizes 100000 --no-write          # a quick look
    .venv/bin/python bench/run.py --sizes 1000000,10000000,50000000 --postgres-sizes 1000000 \\
        --incremental --incremental-size 10000000 --dlt               # every target; rewrites RESULTS.md

Every figure is a whole process (`sparkify etl`, the bare read_json, psql \\copy, dlt), so interpreter
start-up counts on every side; peak RSS is each child's own (wait4). Generated data is kept in --data
and reused by later runs; warehouses are deleted once measured.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from procs import ADMIN, Databases, Failed, generate_data, machine
from report import lines, machine_text, table, write_results
from scenarios import Options, dlt_version, duckdb_size, ensure_dlt, incremental, postgres_size

HERE = Path(__file__).resolve().parent
BACKENDS = ("duckdb", "postgresql")
DLT_MAX = 1_000_000  # dlt runs beside the DuckDB etl at sizes up to this (its target is at 1 M)
BIG = 10_000_000  # sizes over this are the scale target's (--big-rounds)


def sizes(text: str) -> list[int]:
    return sorted({int(n.replace("_", "")) for n in text.split(",") if n.strip()})


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=sizes, default=sizes("100000,1000000,10000000"),
                        help="event counts for DuckDB, comma-separated (default 100000,1000000,10000000)")
    parser.add_argument("--backends", default="duckdb,postgresql",
                        help="comma-separated, of duckdb and postgresql (default both)")
    parser.add_argument("--postgres-sizes", type=sizes, default=None,
                        help="event counts for PostgreSQL (default: the --sizes up to 1 M)")
    parser.add_argument("--postgres", default=ADMIN, metavar="URL",
                        help="server for the throw-away bench databases (default $SPARKIFY_TEST_POSTGRES, else "
                             "postgresql://postgres@127.0.0.1:5432/postgres)")
    parser.add_argument("--incremental", action="store_true",
                        help="one new day on the history of all other days vs that day on empty, per backend")
    parser.add_argument("--incremental-size", type=int, default=None,
                        help="the data set the incremental scenario splits (default: the largest --sizes)")
    parser.add_argument("--dlt", action="store_true", help="also time the dlt peer beside DuckDB, sizes up to 1 M")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per measure; medians (default 3)")
    parser.add_argument("--big-rounds", type=int, default=None,
                        help=f"rounds for DuckDB sizes over {BIG:,}, without the phases child (default --rounds, "
                             "with it): a 50 M round takes about 10 minutes")
    parser.add_argument("--no-phases", action="store_true", help="skip the DuckDB per-phase child")
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "sparkify-bench",
                        help="generated data (kept, reused) and scratch warehouses (default $TMPDIR/sparkify-bench)")
    parser.add_argument("--songs", type=int, default=15_000, help="song files in the catalogue (default 15000)")
    parser.add_argument("--seed", type=int, default=42, help="generator seed (default 42)")
    parser.add_argument("--no-write", action="store_true", help="print the table only; leave RESULTS.md alone")
    args = parser.parse_args(argv)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not set(args.backends) <= set(BACKENDS) or not args.backends:
        parser.error(f"--backends takes {', '.join(BACKENDS)}")
    if args.postgres_sizes is None:
        args.postgres_sizes = [n for n in args.sizes if n <= 1_000_000]
    if args.incremental_size is None:
        args.incremental_size = max(args.sizes)
    if args.rounds < 1 or (args.big_rounds is not None and args.big_rounds < 1):
        parser.error("--rounds and --big-rounds must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    args.data.mkdir(parents=True, exist_ok=True)
    work = args.data / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    opts = Options(args.data, work, args.songs, args.seed, args.rounds, not args.no_phases)
    info = machine(args.data, args.postgres if "postgresql" in args.backends else None)
    duck = args.sizes if "duckdb" in args.backends else []
    pg = args.postgres_sizes if "postgresql" in args.backends else []
    inc = args.incremental_size if args.incremental else None
    dlt = ensure_dlt() if args.dlt and "duckdb" in args.backends else None
    if dlt:
        info["dlt"] = dlt_version(dlt)
    print(f"Machine: {machine_text(info)}", flush=True)
    for n in sorted(set(duck) | set(pg) | ({inc} if inc else set())):
        info.setdefault("generated", {})[n] = generate_data(args.data, n, args.songs, args.seed)
    rows: list[dict[str, Any]] = []
    dbs = Databases(args.postgres)
    full: dict[str, str] = {}
    try:
        for n in duck:
            print(f"DuckDB, {n:,} events …", flush=True)
            sized = opts if n <= BIG or args.big_rounds is None else replace(opts, rounds=args.big_rounds, phases=False)
            rows.append(measured("duckdb", n, lambda: duckdb_size(sized, n, dlt if n <= DLT_MAX else None,
                                                                  keep=n == inc)))
            if "kept" in rows[-1]:
                full["duckdb"] = rows[-1].pop("kept")
        for n in pg:
            print(f"PostgreSQL, {n:,} events …", flush=True)
            rows.append(measured("postgresql", n, lambda: postgres_size(opts, n, dbs, keep=n == inc)))
            if "kept" in rows[-1]:
                full["postgresql"] = rows[-1].pop("kept")
        if inc:
            for backend in args.backends:
                print(f"Incremental, {backend}, {inc:,}-event set …", flush=True)
                rows.append(measured(f"incremental-{backend}", inc,
                                     lambda: incremental(opts, inc, backend, dbs, full.pop(backend, None))))
    finally:
        dbs.drop_all()
        shutil.rmtree(work, ignore_errors=True)
    info["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    found = lines(rows)
    print(table(found), flush=True)
    if not args.no_write:
        command = shlex.join([".venv/bin/python", "bench/run.py", *(sys.argv[1:] if argv is None else argv)])
        write_results(HERE / "RESULTS.md", info, command, found, rows)
        print(f"wrote {HERE / 'RESULTS.md'}")
    failed = [r for r in rows if "error" in r or r.get("equal", {}).get("differ")]
    return 1 if failed else 0


def measured(scenario: str, events: int, measure: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The scenario's row, or a row saying why it failed: an hour-long run keeps the other figures."""
    try:
        return measure()
    except Failed as exc:
        print(exc, file=sys.stderr, flush=True)
        return {"scenario": scenario, "events": events, "error": str(exc)}


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Failed as exc:  # outside every scenario: the machine facts, the data, the clean-up
        sys.exit(f"bench: {exc}")
