"""`sparkify etl`: load, audit, publish; a summary for people or one JSON document for schedulers."""

from __future__ import annotations

import json
import time
from typing import Any

import click

from sparkify import api
from sparkify.answers.checks import CheckResult, ChecksBlocked
from sparkify.cli.checks import show_checks
from sparkify.cli.common import err, out, warehouse_option
from sparkify.cli.progress import RichProgress
from sparkify.cli.redshift import etl_settings, print_dry_run
from sparkify.errors import SparkifyError
from sparkify.inputs.s3 import S3Options
from sparkify.pipeline.load import LoadSummary, window_text


@click.command("etl")
@click.option("--songs", metavar="PATH", help="Song files: a folder (searched recursively), a glob, or s3://bucket/prefix.")
@click.option("--logs", metavar="PATH", help="Event log files: a folder (searched recursively), a glob, or s3://bucket/prefix.")
@warehouse_option
@click.option("--max-errors", type=click.IntRange(min=0), default=0, show_default=True,
              help="Fail the load (committing nothing) when more records than this are rejected.")
@click.option("--full-refresh", is_flag=True, help="Drop everything and rebuild from the files.")
@click.option("--keep-deleted", is_flag=True,
              help="Keep what files gone from the source gave (append-only sources); by default the "
                   "warehouse mirrors the current files.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
@click.option("--verbose", "-v", is_flag=True, help="Also list every check and the time of each phase.")
@click.option("--no-check", is_flag=True, help="Publish without running the data-quality checks.")
@click.option("--check-warn-only", is_flag=True, help="Run the checks, report failures, publish anyway.")
@click.option("--checks-file", "checks_files", multiple=True, metavar="FILE.sql",
              type=click.Path(exists=True, dir_okay=False), help="Also gate the load on these checks. Repeatable.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="json: one JSON document on stdout (for schedulers), nothing else.")
@click.option("--summary-json", metavar="FILE", type=click.Path(dir_okay=False),
              help="Also write the run's JSON document to FILE.")
@click.option("--anonymous", is_flag=True, help="S3: send unsigned requests (public buckets such as s3://udacity-dend).")
@click.option("--region", metavar="REGION", default=None, help="S3: the bucket's region (default: from the AWS config).")
@click.option("--endpoint-url", metavar="URL", envvar="AWS_ENDPOINT_URL", default=None,
              help="S3: an S3-compatible endpoint (MinIO, Ceph …). Default: $AWS_ENDPOINT_URL, else AWS.")
@click.option("--dry-run", is_flag=True, help="Print the SQL the load would run; connect to nothing.")
def etl_command(songs: str | None, logs: str | None, warehouse: str, max_errors: int, full_refresh: bool,
                keep_deleted: bool, quiet: bool, verbose: bool, no_check: bool, check_warn_only: bool, checks_files: tuple[str, ...],
                fmt: str, summary_json: str | None, anonymous: bool, region: str | None, endpoint_url: str | None,
                dry_run: bool) -> None:
    """Load song and event JSON into staging, build the star schema, check it, then publish.

    Files already loaded and unchanged are skipped, so running it twice changes nothing. The
    checks run before the commit: a failed check of severity error publishes nothing.

    \b
    Example:
      sparkify etl --songs data/song_data --logs data/log_data
      sparkify etl --songs data/song_data --logs data/log_data --format json
    """
    songs, logs, warehouse = etl_settings(songs, logs, warehouse)
    if not songs and not logs:
        raise click.UsageError("give --songs PATH, --logs PATH, or both")
    if no_check and (check_warn_only or checks_files):
        raise click.UsageError("--no-check cannot go with --check-warn-only or --checks-file")
    if dry_run:
        return print_dry_run(warehouse, songs, logs, max_errors, full_refresh)
    machine = fmt == "json" or summary_json is not None
    progress = RichProgress(err) if not quiet and fmt == "table" and err.is_terminal else None
    started = time.perf_counter()
    try:
        summary = api.load(warehouse, songs, logs, max_errors=max_errors, full_refresh=full_refresh,
                           checks=not no_check, checks_files=checks_files, warn_only=check_warn_only,
                           s3=S3Options(anonymous=anonymous, region=region, endpoint_url=endpoint_url),
                           progress=progress, keep_deleted=keep_deleted)
    except SparkifyError as exc:
        if machine:
            _emit(_failed_document(exc, time.perf_counter() - started), fmt, summary_json)
        if isinstance(exc, ChecksBlocked) and fmt == "table" and not quiet:
            show_checks(exc.results, verbose=verbose)
        raise
    if machine:
        _emit(run_document(summary), fmt, summary_json)
    if fmt == "table" and not quiet:
        _print_summary(summary, verbose)
        if summary.audit is not None:
            show_checks(summary.audit, verbose=verbose, since_ms=summary.checked_since_ms)


def run_document(summary: LoadSummary) -> dict[str, Any]:
    """One run as JSON: what an orchestrator (Airflow, Dagster, cron) needs to decide and alert."""
    checks = summary.audit or []
    return {
        "load_id": summary.load_id,
        "status": "committed" if summary.load_id is not None else "nothing new",
        "exit_code": 0,
        "seconds": round(summary.seconds, 3),
        "timings": summary.timings,
        "sources": [
            {"source": s.source, "files_found": s.files_found, "files_loaded": s.files_loaded,
             "files_unchanged": s.files_skipped, "records": s.result.records, "staged": s.result.rows,
             "rejected": s.result.rejected, "files_removed": s.removed, "rows_removed": s.removed_rows,
             "files_gone_kept": s.kept}
            for s in summary.sources
        ],
        "repaired_text_values": summary.repaired,
        "checks": _checks_document(checks, summary.checked_since_ms) if summary.audit is not None else None,
    }


def _checks_document(results: list[CheckResult], since_ms: int | None = None) -> dict[str, Any]:
    return {
        # The rows the checks looked at: those at or after this time (what the load could change), or all.
        "rows_since": None if since_ms is None else window_text(since_ms),
        "passed": sum(r.passed for r in results),
        "failed": [{"check": r.check.name, "severity": r.check.severity, "result": r.value if r.error is None else None,
                    "expected": r.check.expect, "error": r.error} for r in results if not r.passed],
    }


def _failed_document(exc: SparkifyError, seconds: float) -> dict[str, Any]:
    return {
        "load_id": None, "status": "blocked" if isinstance(exc, ChecksBlocked) else "failed",
        "exit_code": exc.exit_code, "seconds": round(seconds, 3), "message": exc.cli_message(),
        "checks": _checks_document(exc.results) if isinstance(exc, ChecksBlocked) else None,
    }


def _emit(document: dict[str, Any], fmt: str, path: str | None) -> None:
    text = json.dumps(document, default=str)
    if fmt == "json":
        click.echo(text)
    if path:
        try:
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
        except OSError as exc:
            raise SparkifyError(f"cannot write --summary-json {path!r}: {exc.strerror or exc}") from None


def _print_summary(summary: LoadSummary, verbose: bool) -> None:
    for s in summary.sources:  # never silent about files that are gone
        if s.removed:
            out.print(f"{s.source}: {len(s.removed)} files gone from the source, removed with their "
                      f"{s.removed_rows} rows (`sparkify loads --removed` lists them)", highlight=False)
        if s.kept:
            out.print(f"{s.source}: {len(s.kept)} files gone from the source, kept (--keep-deleted): "
                      f"{', '.join(s.kept[:3])}{' …' if len(s.kept) > 3 else ''}", highlight=False)
    if summary.load_id is None:
        found = sum(s.files_found for s in summary.sources)
        out.print(f"Nothing new: all {found} files were already loaded ({summary.seconds:.1f} s)", highlight=False)
        return
    for s in summary.sources:
        out.print(
            f"{s.source}: {s.files_loaded} files loaded, {s.files_skipped} unchanged; "
            f"{s.result.records} records read = {s.result.rows} staged + {s.result.rejected} rejected",
            highlight=False,
        )
    seconds = max(summary.seconds, 1e-6)
    out.print(
        f"Load {summary.load_id}: {summary.files_loaded} files, {summary.rows} rows staged, "
        f"{summary.rejected} rejected, in {summary.seconds:.1f} s ({summary.bytes / 1e6 / seconds:,.1f} MB/s, "
        f"{summary.records / seconds:,.0f} records/s)", highlight=False,
    )
    if summary.repaired:
        out.print(f"Repaired {summary.repaired} mangled text values (doubly-encoded UTF-8) in the star schema",
                  highlight=False)
    if verbose:
        out.print("Phases: " + ", ".join(f"{k} {v:.2f} s" for k, v in summary.timings.items()), highlight=False)
