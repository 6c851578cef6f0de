"""The library: everything the `sparkify` command does, as functions a Python program can call.

    import sparkify

    with sparkify.connect("sparkify.duckdb") as wh:
        summary = sparkify.load(wh, songs="data/song_data", logs="data/log_data")
        top = sparkify.query(wh, "top_songs", limit=5)

A warehouse argument is an open Warehouse or its URL/path (opened and closed for the call).
Errors are SparkifyError, with messages phrased for callers; the CLI adds its flag names.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sparkify.answers.checks import CheckResult, ChecksGate, load_checks, run_checks
from sparkify.config import DEFAULT_WAREHOUSE, resolve_warehouse, warehouse_scheme
from sparkify.errors import SparkifyError
from sparkify.generate import GenerateSummary
from sparkify.generate import generate as _generate
from sparkify.inputs.s3 import S3Options
from sparkify.pipeline.export import ExportSummary, export_star
from sparkify.pipeline.load import LoadSummary, Progress, run_etl
from sparkify.warehouse import Warehouse
from sparkify.warehouse import connect as _connect
from sparkify.warehouse.base import QueryResult

__all__ = [
    "CheckResult", "ExportSummary", "GenerateSummary", "LoadSummary", "QueryResult", "S3Options", "SparkifyError",
    "Warehouse", "check", "connect", "export", "generate", "load", "query", "report", "sql", "write_report",
]

WarehouseLike = Warehouse | str | os.PathLike[str]


def connect(warehouse: str | os.PathLike[str] | None = None, *, read_only: bool = False) -> Warehouse:
    """The warehouse at a DuckDB path, postgresql://… or redshift://… URL; by default
    $SPARKIFY_WAREHOUSE, else sparkify.duckdb. Use it as a context manager to close it."""
    return _connect(resolve_warehouse(str(warehouse) if warehouse is not None else None), read_only=read_only)


@contextmanager
def _opened(warehouse: WarehouseLike | None, *, read_only: bool, need_tables: bool = True) -> Iterator[Warehouse]:
    if isinstance(warehouse, Warehouse):
        yield warehouse
        return
    with connect(warehouse, read_only=read_only) as wh:
        if need_tables and not wh.tables_exist():
            raise SparkifyError(f"warehouse {str(warehouse or DEFAULT_WAREHOUSE)!r} has no Sparkify tables: "
                                "load it first")
        yield wh


def load(
    warehouse: WarehouseLike | None,
    songs: str | os.PathLike[str] | None = None,
    logs: str | os.PathLike[str] | None = None,
    *,
    max_errors: int = 0,
    full_refresh: bool = False,
    checks: bool = True,
    checks_files: Sequence[str | os.PathLike[str]] = (),
    warn_only: bool = False,
    s3: S3Options | None = None,
    progress: Progress | None = None,
    keep_deleted: bool = False,
) -> LoadSummary:
    """Load new and changed files, build the star schema, check it, and publish it in one commit.

    Files loaded before and unchanged are skipped; files gone from `songs`/`logs` are removed with
    what they gave, unless `keep_deleted`. With `checks` the built-in checks (and those
    of `checks_files`) run before the commit; a failed check of severity error raises
    ChecksBlocked and publishes nothing (`warn_only` publishes anyway)."""
    if songs is None and logs is None:
        raise SparkifyError("give songs, logs, or both")
    gate = ChecksGate(tuple(str(f) for f in checks_files), warn_only) if checks else None
    new_file = _new_duckdb_file(warehouse)
    try:
        with _opened(warehouse, read_only=False, need_tables=False) as wh:
            try:
                return run_etl(wh, None if songs is None else str(songs), None if logs is None else str(logs),
                               max_errors=max_errors, full_refresh=full_refresh, progress=progress, s3=s3,
                               audit=gate, keep_deleted=keep_deleted)
            except BaseException:
                if new_file and _has_tables(wh):
                    new_file = None  # a load ran: its record (and rejects) say why it failed
                raise
    except BaseException:
        if new_file:  # the run failed before loading (a bad path, an empty folder): leave no empty file
            for leftover in (new_file, f"{new_file}.wal"):
                with contextlib.suppress(OSError):
                    os.remove(leftover)
        raise


def _has_tables(wh: Warehouse) -> bool:
    try:
        return wh.tables_exist()
    except Exception:  # noqa: BLE001 -- unsure: keep the file
        return True


def _new_duckdb_file(warehouse: WarehouseLike | None) -> str | None:
    """The path of a DuckDB warehouse that does not exist yet (this run would create it)."""
    if isinstance(warehouse, Warehouse):
        return None
    url = resolve_warehouse(str(warehouse) if warehouse is not None else None)
    if warehouse_scheme(url) != "duckdb":
        return None
    path = url.removeprefix("duckdb://")
    return None if os.path.exists(path) else path


def check(warehouse: WarehouseLike | None, checks_files: Sequence[str | os.PathLike[str]] = (), *,
          builtin: bool = True) -> list[CheckResult]:
    """Run the data-quality checks; every result (`passed`, `blocks`, `value`, `error`)."""
    with _opened(warehouse, read_only=True) as wh:
        return run_checks(wh, load_checks(wh.dialect, [str(f) for f in checks_files], builtin=builtin))


def query(warehouse: WarehouseLike | None, name: str, **params: Any) -> QueryResult:
    """One named report query (`sparkify queries` lists them); params as the CLI's options,
    e.g. limit=5, churn_days=7."""
    from sparkify.answers import report as rep

    rep.question(name, "duckdb")  # an unknown name fails before the warehouse is opened
    with _opened(warehouse, read_only=True) as wh:
        [(_, result)] = rep.run(wh, rep.Params(**params), (name,))
    return result


def sql(warehouse: WarehouseLike | None, script: str, *, write: bool = False) -> list[QueryResult]:
    """Each statement's result, in order. Without `write` nothing can change the warehouse
    (every statement runs alone, read-only); with it, all run in one transaction, rolled back at
    the first error. A SparkifyError carries the database's whole message."""
    if not script.strip().strip(";").strip():
        raise SparkifyError('no SQL statement given, e.g. "SELECT count(*) FROM songplays"')
    if isinstance(warehouse, Warehouse):
        if warehouse.read_only == write:  # the mode it was opened in must be the one asked for
            raise SparkifyError("write=True needs a warehouse opened for writing" if write else
                                "a read (write=False) needs a warehouse opened with connect(..., read_only=True)")
        return warehouse.run_script(script)
    with _opened(warehouse, read_only=not write, need_tables=False) as wh:
        return wh.run_script(script)


def report(warehouse: WarehouseLike | None, **params: Any) -> list[tuple[Any, QueryResult]]:
    """Every report question with its answer, in the report's order."""
    from sparkify.answers import report as rep

    with _opened(warehouse, read_only=True) as wh:
        return rep.run(wh, rep.Params(**params))


def write_report(answers: list[tuple[Any, QueryResult]], *, html: str | os.PathLike[str] | None = None,
                 out_dir: str | os.PathLike[str] | None = None, fmt: str = "csv") -> list[Path]:
    """Write `report()`'s answers: one self-contained HTML page, and/or one csv/json file each."""
    from sparkify.answers import report as rep
    from sparkify.answers.html_report import write_html

    written: list[Path] = []
    if html is not None:
        written.append(write_html(answers, html))
    if out_dir is not None:
        written += rep.write_files(answers, fmt, out_dir)
    return written


def generate(out_dir: str | os.PathLike[str], **options: Any) -> GenerateSummary:
    """Demo data in the original layout (song_data/, log_data/); the same options give the same bytes.
    Options: songs, users, days, events, seed, start, overwrite."""
    return _generate(out_dir, **options)


def export(warehouse: WarehouseLike | None, to: str | os.PathLike[str], *, s3: S3Options | None = None) -> ExportSummary:
    """Write the star schema as Hive-partitioned Parquet to a folder or s3:// prefix; only what changed."""
    with _opened(warehouse, read_only=True) as wh:
        return export_star(wh, str(to), s3)
