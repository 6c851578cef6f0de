"""The `sparkify` command: a thin layer over the library (sparkify.pipeline.load, sparkify.warehouse)."""

from __future__ import annotations

import os
import sys
from typing import Any

import click
from rich.text import Text

from sparkify import __version__, api
from sparkify.cli.common import SparkifyGroup, err, open_warehouse as _open, out, warehouse_option
from sparkify.cli.etl import etl_command
from sparkify.cli.export import export_command
from sparkify.cli.checks import show_checks
from sparkify.cli.progress import CountProgress
from sparkify.cli.redshift import cluster_group, config_command
from sparkify.config import mask_secrets
from sparkify.errors import SparkifyError
from sparkify.pipeline.history import DEFAULT_ERRORS, load_history, recent_errors, removed_files
from sparkify.answers.output import FORMATS, as_csv, show
from sparkify.warehouse.base import STAR_TABLES, QueryResult

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
            if not sys.stdin.isatty():
                raise SparkifyError(f"{mask_secrets(wh.url)} already has Sparkify tables and there is no terminal to "
                                    "ask: pass --yes to drop and re-create them")
            click.confirm(
                f"{mask_secrets(wh.url)} already has Sparkify tables. Drop them and all their data?", abort=True, err=True
            )
        wh.create_tables()
        out.print(f"Created the Sparkify tables in {mask_secrets(wh.url)}")


@cli.command()
@click.argument("query", required=False)
@warehouse_option
@click.option("--file", "-f", "query_file", type=click.File("r", encoding="utf-8"), metavar="FILE.sql",
              help="Read the SQL from this file (`-` for stdin) instead of the argument.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--write", is_flag=True,
              help="Allow statements that change the warehouse (without it, nothing can: read-only).")
def sql(query: str | None, warehouse: str | None, fmt: str, write: bool = False, query_file: Any = None) -> None:
    """Run SQL and print each statement's result, in order. Read-only unless --write.

    Without --write every statement runs alone where it cannot write. With --write the statements
    run in one transaction: the first error rolls all of them back. csv: one block per result,
    separated by a blank line; json: one JSON array of row objects per result (`jq -s` gathers them).

    \b
    Examples:
      sparkify sql "SELECT level, count(*) FROM songplays GROUP BY 1"
      sparkify sql -f questions.sql --format csv
      echo "SELECT count(*) FROM users" | sparkify sql -
    """
    if query_file is not None and query is not None:
        raise click.UsageError("give the SQL as an argument or with --file, not both")
    if query == "-":
        query = sys.stdin.read()
    elif query_file is not None:
        query = query_file.read()
    if not (query or "").strip().strip(";").strip():
        raise SparkifyError("no SQL statement given: e.g. sparkify sql \"SELECT count(*) FROM songplays\"")
    with _open(warehouse, read_only=not write, need_tables=False) as wh:
        results = [r for r in api.sql(wh, query or "", write=write) if r.columns]  # DDL shows nothing
    for i, result in enumerate(results):
        if i and fmt != "json":
            out.file.write("\n")
        show(result, fmt, out)


@cli.command()
@warehouse_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="csv and json list the tables and their row counts.")
def status(warehouse: str | None, fmt: str) -> None:
    """Show the tables, their row counts and the last load.

    Example: sparkify status --format json
    """
    with _open(warehouse, read_only=True) as wh:
        tables = [("staging", t) for t in ("staging_events", "staging_songs", "load_errors", "text_repairs")]
        counts = [  # an analyst role sees the star schema's counts; staged data is not its to count
            (f"{schema}.{table}", wh.query(f'SELECT count(*) FROM {schema}."{table}"').rows[0][0]
             if wh.can_read(f'{schema}."{table}"') else "no access")
            for schema, table in tables + [("analytics", t) for t in STAR_TABLES]
        ]
        if fmt != "table":
            return show(QueryResult(["table", "rows"], counts), fmt, out)
        out.print(f"Warehouse: {mask_secrets(wh.url)}", highlight=False)
        show(QueryResult(["table", "rows"], counts), "table", out)
        last = load_history(wh, limit=1)
        if last.rows:
            show(last, "table", out, title="Last load")
        else:
            out.print("No load yet: run `sparkify etl`.")


@cli.command()
@warehouse_option
@click.option("--load", "load_id", type=int, help="Only the rejects of this load (see `sparkify loads`).")
@click.option("--limit", type=click.IntRange(min=1), default=DEFAULT_ERRORS, show_default=True,
              help="Show at most this many rejects.")
@click.option("--all", "show_all", is_flag=True, help="No limit.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False),
              help="Write the rejects to this CSV file instead of printing them.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
def errors(warehouse: str | None, load_id: int | None, limit: int, show_all: bool, csv_path: str | None,
           fmt: str) -> None:
    """Show the newest rejected records: file, line, column, reason and the raw text.

    Example: sparkify errors --load 3 --csv load_errors.csv
    """
    with _open(warehouse, read_only=True) as wh:
        if load_id is not None and not wh.query(f"SELECT 1 FROM staging.loads WHERE load_id = {int(load_id)}").rows:
            raise SparkifyError(f"no load {load_id}: `sparkify loads` lists them")
        result = recent_errors(wh, load_id, None if show_all else limit)
    if fmt != "table":
        show(result, fmt, out)
    elif csv_path:
        with open(csv_path, "w", encoding="utf-8", newline="") as handle:
            handle.write(as_csv(result))
        out.print(f"Wrote {len(result.rows)} rejected records to {csv_path}")
    elif not result.rows:
        out.print("No rejected records." if load_id is None else f"Load {load_id} rejected no records.")
    else:
        show(result, "table", out, title="Rejected records (newest load first)")


@cli.command()
@warehouse_option
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--removed", is_flag=True, help="List the files loads removed (gone from the source) instead.")
def loads(warehouse: str | None, limit: int, fmt: str, removed: bool) -> None:
    """List past loads: id, start, end, files, rows, rejected, files removed, status.

    Example: sparkify loads --limit 5
    """
    with _open(warehouse, read_only=True) as wh:
        if removed:
            show(removed_files(wh, limit), fmt, out, title="Files removed from the warehouse (newest load first)")
        else:
            show(load_history(wh, limit), fmt, out, title="Loads (newest first)")


@cli.command()
@warehouse_option
@click.option("--checks-file", "checks_files", multiple=True, metavar="FILE.sql",
              type=click.Path(exists=True, dir_okay=False),
              help="Also run the checks in this file (same format as the built-in ones). Repeatable.")
@click.option("--no-builtin", is_flag=True, help="Run only the checks of --checks-file.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--verbose", "-v", is_flag=True, help="List every check, not only the failures.")
def check(warehouse: str | None, checks_files: tuple[str, ...], no_builtin: bool, fmt: str, verbose: bool) -> None:
    """Run the data-quality checks; exit 1 when a check of severity error fails.

    Each check is one SQL query and the result it must give (see the README, "Data-quality checks").

    Example: sparkify check --checks-file my_checks.sql --format json
    """
    if no_builtin and not checks_files:
        raise click.UsageError("--no-builtin needs at least one --checks-file")
    with _open(warehouse, read_only=True) as wh:
        results = api.check(wh, checks_files, builtin=not no_builtin)
    if not show_checks(results, fmt, verbose=verbose):
        sys.exit(1)


def _day(flag: str, value: str | None) -> Any:
    """A --from/--to value as a date, or one clear line naming the flag."""
    import datetime as dt

    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise SparkifyError(f"{flag} {value!r}: not a date; use YYYY-MM-DD, e.g. 2018-11-05") from None


def _report_params(limit: int, churn_days: int, date_from: str | None = None, date_to: str | None = None) -> Any:
    from sparkify.answers.report import Params

    start, end = _day("--from", date_from), _day("--to", date_to)
    try:
        return Params(limit=limit, churn_days=churn_days, date_from=start, date_to=end)
    except SparkifyError as exc:
        raise SparkifyError(f"--from/--to: {exc}") from None


report_options = [
    click.option("--limit", type=click.IntRange(min=1), default=10, show_default=True,
                 help="Rows in each top-N answer."),
    click.option("--churn-days", type=click.IntRange(min=1), default=7, show_default=True,
                 help="A user with no play in this many last days of the data is a churn risk."),
    click.option("--from", "date_from", metavar="YYYY-MM-DD",
                 help="Only plays from this day (UTC) on; with --to, e.g. one week."),
    click.option("--to", "date_to", metavar="YYYY-MM-DD", help="Only plays up to this day (UTC), included."),
]


def _with_report_options(f: Any) -> Any:
    for option in reversed(report_options):
        f = option(f)
    return f


@cli.command()
@warehouse_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="table prints to the terminal; csv and json write one file per question to --out.")
@click.option("--out", "out_dir", metavar="DIR", type=click.Path(file_okay=False),
              help="Folder for the csv/json files.")
@click.option("--html", "html_path", metavar="FILE", type=click.Path(dir_okay=False),
              help="Also write one self-contained HTML page with a chart per question.")
@_with_report_options
def report(warehouse: str | None, fmt: str, out_dir: str | None, html_path: str | None, limit: int,
           churn_days: int, date_from: str | None, date_to: str | None) -> None:
    """Answer the analysts' questions from the star schema.

    \b
    Examples:
      sparkify report
      sparkify report --format csv --out report/
      sparkify report --html report.html
      sparkify report --html week.html --from 2018-11-05 --to 2018-11-11
    """
    from sparkify.answers import report as rep

    if fmt != "table" and not out_dir:
        raise click.UsageError(f"--format {fmt} writes one file per question: give --out DIR")
    params = _report_params(limit, churn_days, date_from, date_to)
    with _open(warehouse, read_only=True) as wh:
        answers = rep.run(wh, params)
    if html_path:
        from sparkify.answers.html_report import write_html

        write_html(answers, html_path, params.describe())
        err.print(f"Wrote {html_path}", highlight=False)
    if fmt != "table":
        paths = rep.write_files(answers, fmt, out_dir or ".")
        err.print(f"Wrote {len(paths)} {fmt} files to {out_dir}", highlight=False)
    elif not html_path:
        match = answers[0][1] if answers and answers[0][0].name == "song_match_rate" else None
        if match is not None:
            out.print(Text(rep.match_rate_sentence(match), style="bold yellow"), highlight=False)
        for q, result in answers:
            show(rep.for_terminal(q, result), "table", out, title=f"{q.title} ({q.name})")


@cli.command()
def queries() -> None:
    """List the named report queries (run one with `sparkify query NAME`)."""
    from sparkify.answers.report import questions

    show(QueryResult(["name", "title", "description"],
                     [(q.name, q.title, q.description) for q in questions("duckdb")]), "table", out)


@cli.command()
@click.argument("name")
@warehouse_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@_with_report_options
def query(name: str, warehouse: str | None, fmt: str, limit: int, churn_days: int, date_from: str | None,
          date_to: str | None) -> None:
    """Run one named report query (see `sparkify queries`).

    Example: sparkify query top_locations --limit 5 --format csv
    """
    from sparkify.answers import report as rep

    rep.question(name, "duckdb")  # an unknown name or a bad date fails before the warehouse is opened
    params = _report_params(limit, churn_days, date_from, date_to)
    with _open(warehouse, read_only=True) as wh:
        [(q, result)] = rep.run(wh, params, (name,))
    if fmt == "table":
        show(rep.for_terminal(q, result), fmt, out, title=q.title)
    else:
        show(result, fmt, out)


@cli.command()
@click.option("--out", "out_dir", required=True, metavar="DIR", help="Folder for song_data/ and log_data/.")
@click.option("--songs", type=int, default=2000, show_default=True, help="Songs in the catalogue, one file each.")
@click.option("--users", type=int, help="Listeners. Default: 1000, or one per ~100 events with --events.")
@click.option("--days", type=int, help="Days of events (default 30); the event count follows.")
@click.option("--events", type=int, help="Exact number of events; the number of days follows.")
@click.option("--seed", type=int, default=42, show_default=True, help="The same seed writes the same bytes.")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), default="2018-11-01", show_default=True,
              help="First day (UTC) of the event logs.")
@click.option("--overwrite", is_flag=True, help="Replace DIR/song_data and DIR/log_data when DIR is not empty.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
def generate(out_dir: str, songs: int, users: int | None, days: int | None, events: int | None, seed: int,
             start: Any, overwrite: bool, quiet: bool) -> None:
    """Write realistic song files and event logs, in the layout and format of the real Sparkify data.

    Example: sparkify generate --out demo-data --days 30 (then: sparkify etl --songs demo-data/song_data
    --logs demo-data/log_data)
    """

    progress = CountProgress(err) if not quiet and err.is_terminal else None
    s = api.generate(out_dir, songs=songs, users=users, days=days, events=events, seed=seed, start=start.date(),
                   overwrite=overwrite, progress=progress)
    if not quiet:
        mb = (s.song_bytes + s.log_bytes) / 1e6
        out.print(f"Wrote {s.songs} song files ({s.artists} artists) and {s.events} events by {s.users} users "
                  f"in {s.log_files} log files ({s.first_day} … {s.last_day}) to {out_dir}: {mb:.1f} MB in "
                  f"{s.seconds:.1f} s ({s.events_per_second:,.0f} events/s)")
        out.print(f"NextSong {s.next_song_events} ({s.catalogue_plays} of catalogue songs), logged out "
                  f"{s.logged_out_events}, sessions {s.sessions}, level changes {s.level_changes}")
        out.print(f"Next: sparkify etl --songs {out_dir}/song_data --logs {out_dir}/log_data")


@cli.command()
@warehouse_option
@click.option("--analyst", "role", required=True, metavar="ROLE",
              help="The login role to create (or update); lower-case letters, digits and _.")
@click.option("--password-env", metavar="VAR", default=None,
              help="Set the role's password from this environment variable (never on the command line).")
def grant(warehouse: str | None, role: str, password_env: str | None) -> None:
    """Give ROLE read-only access to the star schema (analytics) and none to staging (PostgreSQL).

    Example: ANALYST_PW=… sparkify grant --analyst analyst --password-env ANALYST_PW -w postgresql://…
    """
    password = None
    if password_env:
        password = os.environ.get(password_env)
        if not password:
            raise SparkifyError(f"--password-env {password_env}: that environment variable is not set or empty")
    with _open(warehouse) as wh:
        grant_analyst = getattr(wh, "grant_analyst", None)
        if grant_analyst is None:
            raise SparkifyError(f"`grant` needs a PostgreSQL warehouse; {mask_secrets(wh.url)!r} is {wh.dialect}")
        created, notes = grant_analyst(role, password)
        for note in notes:
            err.print(f"note: {note}", highlight=False)
        out.print(f"{'Created' if created else 'Updated'} login role {role}: it can read analytics "
                  f"(search_path analytics) and the load log, not staged data, and write nothing, "
                  f"in {mask_secrets(wh.url)}")


cli.add_command(cluster_group)
cli.add_command(config_command)
cli.add_command(export_command)
cli.add_command(etl_command)


def main() -> None:
    cli(prog_name="sparkify")


if __name__ == "__main__":
    main()
