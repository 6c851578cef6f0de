"""The `sparkify` command: a thin layer over the library (sparkify.load, sparkify.warehouse)."""

from __future__ import annotations

import sys
from typing import Any

import click
import duckdb
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

from sparkify import __version__
from sparkify.config import WAREHOUSE_ENV, mask_url, resolve_warehouse
from sparkify.errors import SparkifyError
from sparkify.load import LoadSummary, run_etl
from sparkify.output import FORMATS, show
from sparkify.warehouse import Warehouse, connect
from sparkify.warehouse.base import STAR_TABLES, QueryResult

# Piped output is read by programs and people with wide windows: do not wrap it at 80 columns.
out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True)


class SparkifyGroup(click.Group):
    """Turns expected failures into one line on stderr and an exit code, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SparkifyError as exc:
            err.print(f"[bold red]Error:[/] {exc}", highlight=False, markup=True, soft_wrap=True)
            sys.exit(exc.exit_code)
        except duckdb.Error as exc:
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            err.print(f"[bold red]Error:[/] {message}", highlight=False, soft_wrap=True)
            sys.exit(2)
        except KeyboardInterrupt:
            err.print("Interrupted: nothing of the current load was committed.")
            sys.exit(130)


warehouse_option = click.option(
    "--warehouse",
    "-w",
    metavar="URL_OR_PATH",
    envvar=WAREHOUSE_ENV,
    default=None,
    help=f"Warehouse: a DuckDB file path. Default: ${WAREHOUSE_ENV}, else sparkify.duckdb.",
)


def _open(warehouse: str | None, *, read_only: bool = False, need_tables: bool = True) -> Warehouse:
    wh = connect(resolve_warehouse(warehouse), read_only=read_only)
    if need_tables and not wh.tables_exist():
        wh.close()
        raise SparkifyError(
            f"warehouse {mask_url(wh.url)!r} has no Sparkify tables: run `sparkify create-tables` or `sparkify etl`"
        )
    return wh


@click.group(cls=SparkifyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sparkify")
def cli() -> None:
    """Sparkify Warehouse: song and event JSON in, a star schema for analysts out.

    \b
    Start with:
      sparkify etl --songs data/song_data --logs data/log_data
      sparkify sql "SELECT level, count(*) FROM songplays GROUP BY 1"
    """


@cli.command("create-tables")
@warehouse_option
@click.option("--yes", "-y", is_flag=True, help="Do not ask before dropping existing tables.")
def create_tables(warehouse: str | None, yes: bool) -> None:
    """Create (or drop and re-create) the staging and star-schema tables.

    Example: sparkify create-tables --warehouse sparkify.duckdb --yes
    """
    with _open(warehouse, need_tables=False) as wh:
        if wh.tables_exist() and not yes:
            click.confirm(
                f"{mask_url(wh.url)} already has Sparkify tables. Drop them and all their data?", abort=True, err=True
            )
        wh.create_tables()
        out.print(f"Created the Sparkify tables in {mask_url(wh.url)}")


class RichProgress:
    """A progress bar per source, shown on stderr only when it is a terminal."""

    def __init__(self, console: Console) -> None:
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self.task: Any = None

    def start(self, description: str, total_bytes: int) -> None:
        self.bar.start()
        self.task = self.bar.add_task(description, total=total_bytes)

    def advance(self, nbytes: int) -> None:
        self.bar.advance(self.task, nbytes)

    def finish(self) -> None:
        self.bar.stop()


@cli.command()
@click.option("--songs", metavar="PATH", help="Song files: a folder (searched recursively) or a glob.")
@click.option("--logs", metavar="PATH", help="Event log files: a folder (searched recursively) or a glob.")
@warehouse_option
@click.option("--max-errors", type=click.IntRange(min=0), default=0, show_default=True,
              help="Fail the load (committing nothing) when more records than this are rejected.")
@click.option("--full-refresh", is_flag=True, help="Drop everything and rebuild from the files.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
def etl(songs: str | None, logs: str | None, warehouse: str | None, max_errors: int, full_refresh: bool,
        quiet: bool) -> None:
    """Load song and event JSON into staging, then bring the star schema up to date.

    Files already loaded and unchanged are skipped, so running it twice changes nothing.

    Example: sparkify etl --songs data/song_data --logs data/log_data
    """
    if not songs and not logs:
        raise click.UsageError("give --songs PATH, --logs PATH, or both")
    progress = RichProgress(err) if not quiet and err.is_terminal else None
    with _open(warehouse, need_tables=False) as wh:
        summary = run_etl(wh, songs, logs, max_errors=max_errors, full_refresh=full_refresh, progress=progress)
        if not quiet:
            _print_summary(summary)


def _print_summary(summary: LoadSummary) -> None:
    if summary.load_id is None:
        found = sum(s.files_found for s in summary.sources)
        out.print(f"Nothing new: all {found} files were already loaded ({summary.seconds:.1f} s)")
        return
    for s in summary.sources:
        out.print(
            f"{s.source}: {s.files_loaded} files loaded, {s.files_skipped} unchanged; "
            f"{s.result.records} records read = {s.result.rows} staged + {s.result.rejected} rejected"
        )
    out.print(
        f"Load {summary.load_id}: {summary.files_loaded} files, {summary.rows} rows staged, "
        f"{summary.rejected} rejected, in {summary.seconds:.1f} s"
    )


@cli.command()
@click.argument("query")
@warehouse_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
def sql(query: str, warehouse: str | None, fmt: str) -> None:
    """Run a SQL query and print its result.

    Example: sparkify sql "SELECT level, count(*) FROM songplays GROUP BY 1"
    """
    with _open(warehouse, read_only=True, need_tables=False) as wh:
        show(wh.query(query), fmt, out)


@cli.command()
@warehouse_option
def status(warehouse: str | None) -> None:
    """Show the tables, their row counts and the last load.

    Example: sparkify status
    """
    with _open(warehouse, read_only=True) as wh:
        counts = [
            (f"{schema}.{table}", wh.query(f'SELECT count(*) FROM {schema}."{table}"').rows[0][0])
            for schema, table in [("staging", "staging_events"), ("staging", "staging_songs"),
                                  ("staging", "load_errors")] + [("analytics", t) for t in STAR_TABLES]
        ]
        out.print(f"Warehouse: {mask_url(wh.url)}")
        show(QueryResult(["table", "rows"], counts), "table", out)
        last = wh.query(
            "SELECT load_id, status, started_at, finished_at, files, staged, rejected "
            "FROM staging.loads ORDER BY load_id DESC LIMIT 1"
        )
        if last.rows:
            show(last, "table", out, title="Last load")
        else:
            out.print("No load yet: run `sparkify etl`.")


def main() -> None:
    cli(prog_name="sparkify")


if __name__ == "__main__":
    main()
