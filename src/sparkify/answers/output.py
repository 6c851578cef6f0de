"""Showing query results: a rich table in the terminal, or CSV/JSON for other programs."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import re
from typing import Any

import orjson
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from sparkify.warehouse.base import QueryResult

FORMATS = ("table", "csv", "json")

#: What a terminal would obey rather than show: C0 controls but tab and newline, DEL, C1 controls
#: (ESC starts colour, cursor and title sequences; CSI is its one-byte form), and the bidi overrides
#: that reorder what is displayed.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    """`text` with every control character shown as an escape (`\\x1b`), never obeyed.

    For data shown on a terminal only: CSV and JSON keep the values as they are.
    """
    return _CONTROLS.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), text)


def as_text(value: Any) -> Text:
    """A value for a Rich table cell: plain text (never markup, `[/x]` and `[feat. X]` show as
    they are), controls escaped."""
    return Text(terminal_safe("" if value is None else str(_plain(value))))


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


def as_csv(result: QueryResult) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(result.columns)
    writer.writerows([[_plain(v) for v in row] for row in result.rows])
    return out.getvalue()


def as_json(result: QueryResult) -> str:
    records = [{c: _plain(v) for c, v in zip(result.columns, row)} for row in result.rows]
    return orjson.dumps(records, option=orjson.OPT_INDENT_2).decode()


def as_table(result: QueryResult, title: str | None = None, plain: bool = False) -> Table:
    """A Rich table; `plain` (output is not a terminal): no box, narrow padding, for grep and less."""
    table = Table(title=None if title is None else as_text(title), show_lines=False,
                  box=None if plain else box.HEAVY_HEAD, padding=(0, 2, 0, 0) if plain else (0, 1),
                  show_edge=not plain)
    for column in result.columns:
        table.add_column(as_text(column), overflow="fold")
    for row in result.rows:
        table.add_row(*(as_text(v) for v in row))
    return table


def show(result: QueryResult, fmt: str, console: Console, title: str | None = None) -> None:
    if fmt == "csv":
        console.file.write(as_csv(result))
    elif fmt == "json":
        console.file.write(as_json(result) + "\n")
    else:
        console.print(as_table(result, title, plain=not console.is_terminal))
