"""What every `sparkify` command shares: the consoles, the one-line error, the --warehouse option."""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable
from typing import Any

import click
import duckdb
from rich.console import Console
from rich.text import Text

from sparkify.answers.output import terminal_safe
from sparkify.config import DEFAULT_WAREHOUSE, WAREHOUSE_ENV, mask_secrets, resolve_warehouse
from sparkify.errors import SparkifyError
from sparkify.settings import CONFIG_ENV, DEFAULT_CONFIG, Settings, load_settings
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


def _interrupted(ctx: click.Context) -> None:
    what = {"etl": "nothing of the current load was committed",
            "generate": "no data was written"}.get(ctx.invoked_subcommand or "", "nothing was changed")
    err.print(f"Interrupted: {what}.", highlight=False)
    sys.exit(130)


class SparkifyGroup(click.Group):
    """Turns expected failures into one line on stderr and an exit code, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SparkifyError as exc:
            print_error(exc.cli_message())
            sys.exit(exc.exit_code)
        except (KeyboardInterrupt, duckdb.InterruptException):
            _interrupted(ctx)
        except RuntimeError as exc:  # DuckDB reports Ctrl-C during a fetch as RuntimeError("Query interrupted")
            if "query interrupted" not in str(exc).lower():
                raise
            _interrupted(ctx)
        except duckdb.Error as exc:
            print_error(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
            sys.exit(2)
        except OSError as exc:  # a file the user named could not be written or read
            where = f" {exc.filename!r}" if exc.filename else ""
            print_error(f"cannot use{where}: {exc.strerror or exc}")
            sys.exit(2)


config_option = click.option(
    "--config", "config", metavar="FILE", type=click.Path(dir_okay=False), default=None,
    help=f"Settings file: sparkify.toml or the original project's dwh.cfg. Default: ${CONFIG_ENV}, "
         f"else ./{DEFAULT_CONFIG} if present.",
)


def warn(message: str) -> None:
    err.print(message, markup=False, highlight=False, soft_wrap=True)


def command_settings(config: str | None = None, **flags: Any) -> Settings:
    """This command's settings, resolved once: flags > environment > settings file > defaults."""
    ctx = click.get_current_context()
    settings = ctx.meta.get("sparkify.settings")
    if settings is None:
        settings = load_settings(config, overrides=flags, warn=warn)
        ctx.meta["sparkify.settings"] = settings
    return settings


def warehouse_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """`--warehouse` and `--config` for a command, which receives the effective warehouse.

    Every command resolves its warehouse the same way (flag > $SPARKIFY_WAREHOUSE > the settings
    file's [warehouse] url or [cluster] host > sparkify.duckdb), so a team's sparkify.toml works
    for `status` and `report` as it does for `etl`. A command with a `config` parameter also
    receives the file's path.
    """
    wants_config = "config" in inspect.signature(command).parameters

    @functools.wraps(command)
    def run(*args: Any, warehouse: str | None, config: str | None, **kwargs: Any) -> Any:
        settings = command_settings(config, warehouse=warehouse)
        if wants_config:
            kwargs["config"] = config
        return command(*args, warehouse=settings.effective_warehouse() or DEFAULT_WAREHOUSE, **kwargs)

    run = config_option(run)
    return click.option(
        "--warehouse", "-w", metavar="URL_OR_PATH", default=None,
        help=f"Warehouse: a DuckDB file path, postgresql://user@host/db or redshift://user@host:5439/db. "
             f"Default: ${WAREHOUSE_ENV}, else the settings file, else {DEFAULT_WAREHOUSE}.",
    )(run)


def open_warehouse(warehouse: str | None, *, read_only: bool = False, need_tables: bool = True) -> Warehouse:
    wh = connect(resolve_warehouse(warehouse), read_only=read_only)
    if need_tables and not wh.tables_exist():
        wh.close()
        raise SparkifyError(
            f"warehouse {mask_secrets(wh.url)!r} has no Sparkify tables: run `sparkify create-tables` or `sparkify etl`"
        )
    return wh


