"""What every `sparkify` command shares: the consoles, the one-line error, the --warehouse option."""

from __future__ import annotations

import sys
from typing import Any

import click
import duckdb
from rich.console import Console
from rich.text import Text

from sparkify.answers.output import terminal_safe
from sparkify.config import WAREHOUSE_ENV, mask_secrets, resolve_warehouse
from sparkify.errors import SparkifyError
from sparkify.warehouse import Warehouse, connect

# Piped output is read by programs and people with wide windows: do not wrap it at 80 columns.
# Never markup nor emoji codes: what is printed may hold data (`[/x]`, `Song [feat. X]`, `:smile:`).
out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 200, markup=False, emoji=False)
err = Console(stderr=True, markup=False, emoji=False)


def print_error(message: str) -> None:
    """`Error: message` on stderr; the message is plain text, never Rich markup (it may quote data
    or an install command such as `pip install 'sparkify-warehouse[postgres]'`), its secrets
    masked and its control characters shown as escapes."""
    err.print(Text.assemble(("Error:", "bold red"), " ", terminal_safe(mask_secrets(message))),
              highlight=False, soft_wrap=True)


class SparkifyGroup(click.Group):
    """Turns expected failures into one line on stderr and an exit code, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SparkifyError as exc:
            print_error(str(exc))
            sys.exit(exc.exit_code)
        except duckdb.Error as exc:
            print_error(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
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
    help=f"Warehouse: a DuckDB file path, postgresql://user@host/db or redshift://user@host:5439/db. "
    f"Default: ${WAREHOUSE_ENV}, else sparkify.duckdb.",
)


def open_warehouse(warehouse: str | None, *, read_only: bool = False, need_tables: bool = True) -> Warehouse:
    wh = connect(resolve_warehouse(warehouse), read_only=read_only)
    if need_tables and not wh.tables_exist():
        wh.close()
        raise SparkifyError(
            f"warehouse {mask_secrets(wh.url)!r} has no Sparkify tables: run `sparkify create-tables` or `sparkify etl`"
        )
    return wh


