"""Showing query results: a rich table in the terminal, or CSV/JSON for other programs."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

from sparkify.warehouse.base import QueryResult

FORMATS = ("table", "csv", "json")


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


def as_table(result: QueryResult, title: str | None = None) -> Table:
    table = Table(title=title, show_lines=False)
    for column in result.columns:
        table.add_column(column, overflow="fold")
    for row in result.rows:
        table.add_row(*("" if v is None else str(_plain(v)) for v in row))
    return table


def show(result: QueryResult, fmt: str, console: Console, title: str | None = None) -> None:
    if fmt == "csv":
        console.file.write(as_csv(result))
    elif fmt == "json":
        console.file.write(as_json(result) + "\n")
    else:
        console.print(as_table(result, title))
