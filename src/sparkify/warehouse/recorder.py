"""A connection that records statements instead of running them: `sparkify etl --dry-run`.

The dry run drives the backends' own methods (create_tables, begin_load, build_star, …) with this
stand-in for their database connection, so the plan it prints is what the backend would send,
not a second description of it. Parameters are written into each statement as SQL literals, the
way the backend's own quoting writes them, and values known only during a load (the load's id,
counts) are `:names` (Placeholder).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


class Placeholder(str):
    """A value known only while loading (`:load_id`), written into SQL as its bare name."""


def sql_int(value: int | str) -> str:
    """An integer for SQL, or a dry-run Placeholder such as `:load_id`."""
    if isinstance(value, Placeholder):
        return str(value)
    return str(int(value))


def standard_literal(value: str) -> str:
    """A standard SQL string literal (DuckDB; PostgreSQL with standard_conforming_strings).

    Control characters (a newline in a file name, say) are written as `chr(n)` pieces, so that no
    line of a printed plan holds text of the value that could pass for SQL of its own."""
    pieces = re.split(r"([\x00-\x1f\x7f-\x9f\u2028\u2029])", value)
    parts = [f"chr({ord(p)})" if len(p) == 1 and CONTROL.match(p) else "'" + p.replace("'", "''") + "'"
             for p in pieces if p]
    if len(parts) <= 1:
        return parts[0] if parts else "''"
    return "(" + " || ".join(parts) + ")"


#: Characters that would move a printed plan's text to a new line or hide it.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """`text` for a comment line of the plan: control characters shown as escapes (`\\n`)."""
    return CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), text)


@dataclass
class Recorded:
    sql: str
    comment: str = ""


class _Cursor:
    def __init__(self, rows: list[tuple[Any, ...]] | None) -> None:
        self._rows = rows
        self.description = None if rows is None else [("value",)]
        #: Rows a recorded statement changed: none known (the plan is of a load into an empty warehouse).
        self.rowcount = 0

    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self._rows or [])

    def fetchone(self) -> tuple[Any, ...] | None:
        return (self._rows or [None])[0]

    def __enter__(self) -> "_Cursor":
        return self

    def __exit__(self, *exc: object) -> None:
        pass


class Recorder:
    """Stands in for a DuckDB or psycopg connection: keeps every statement, runs none.

    `answer(sql)` gives the rows a query would return (None: a statement with no result);
    `literal(value)` writes a string parameter the way the backend quotes it.
    """

    def __init__(self, literal: Callable[[str], str], answer: Callable[[str], list[tuple[Any, ...]] | None],
                 mark: str) -> None:
        self.literal = literal
        self.answer = answer
        self.mark = mark
        self.statements: list[Recorded] = []
        #: Said above the statements recorded from now on (when, and why, they run).
        self.comment = ""
        #: Between a recorded BEGIN and its COMMIT/ROLLBACK (backends ask their driver for it).
        self.in_transaction = False
        #: What the backend reads from its driver's connection info (set by whoever drives it).
        self.info: Any = None

    def note(self, line: str) -> None:
        """A line of the plan that is not SQL (an S3 object the tool writes, say)."""
        self.statements.append(Recorded("-- " + line, self.comment))

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> _Cursor:
        self.statements.append(Recorded(self.bind(sql, params or ()), self.comment))
        if sql in ("BEGIN", "COMMIT", "ROLLBACK"):
            self.in_transaction = sql == "BEGIN"
        return _Cursor(self.answer(sql))

    def bind(self, sql: str, params: Sequence[Any]) -> str:
        """`sql` with each parameter mark (`?`, `%s`) replaced by the parameter as a literal."""
        if not params:
            return sql
        parts = sql.split(self.mark)
        if len(parts) != len(params) + 1:
            raise ValueError(f"{len(params)} parameters for {len(parts) - 1} marks in: {sql}")
        return parts[0] + "".join(self.value(v) + part for v, part in zip(params, parts[1:]))

    def value(self, value: Any) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, Placeholder):
            return str(value)
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, (int, float)):
            return repr(value)
        if isinstance(value, dt.datetime):
            return f"TIMESTAMP {self.literal(value.isoformat(sep=' '))}"
        if isinstance(value, (list, tuple)):
            return "[" + ", ".join(self.value(v) for v in value) + "]"
        return self.literal(str(value))

    def cursor(self) -> _Cursor:
        return _Cursor(None)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.execute("BEGIN")
        yield
        self.execute("COMMIT")

    def close(self) -> None:
        pass
