"""Read commands never write: what `sql`, `check`, `report` and `query` send a warehouse opened
read-only cannot change it, whatever the text says.

PostgreSQL and Redshift: each statement runs alone (the extended protocol refuses a second one
server-side, so no `; COMMIT; BEGIN READ WRITE; DELETE …` can ride along) in its own
`BEGIN READ ONLY` transaction that is always rolled back, so not even a `SET` outlives it.
Transaction control is refused up front with a clear line; on Redshift, so is every statement
that is not a read (its TRUNCATE commits the transaction it runs in). DuckDB opens the file read-only, and
its own parser's statement types keep out ATTACH (which could re-open the file read-write),
COPY, EXPORT, INSTALL, SET and the like.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sparkify.errors import SparkifyError
from sparkify.warehouse.base import QueryResult

WRITE_HINT = "read commands cannot change the warehouse (`sparkify sql --write` can)"

_LEADING = re.compile(r"^(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*", re.S)
_TRANSACTION_CONTROL = re.compile(
    r"(BEGIN|START|COMMIT|END|ROLLBACK|ABORT|SAVEPOINT|RELEASE|PREPARE\s+TRANSACTION|"
    r"SET\s+TRANSACTION|SET\s+SESSION\s+CHARACTERISTICS|SET\s+SESSION\s+AUTHORIZATION|SET\s+ROLE|"
    r"RESET\s+ROLE|RESET\s+SESSION)\b",
    re.I,
)
#: An escape string (E'…\\'…'), a quoted string, a quoted identifier, a dollar-quoted body, or a
#: comment: `;` inside them ends nothing.
_TOKEN = re.compile(
    r"(?<![A-Za-z0-9_])[Ee]'(?:[^'\\]|\\.|'')*'?|'(?:[^']|'')*'?|\"(?:[^\"]|\"\")*\"?|(\$[A-Za-z_0-9]*\$).*?(?:\1|$)|--[^\n]*|/\*.*?(?:\*/|$)|;",
    re.S,
)


def split_script(sql: str) -> list[str]:
    """The statements of a script, split at `;` outside strings, identifiers, dollar quotes and
    comments; empty ones dropped. A split the server would disagree with fails there, never writes:
    each piece still runs alone."""
    pieces, start = [], 0
    for match in _TOKEN.finditer(sql):
        if match.group(0) == ";":
            pieces.append(sql[start:match.start()])
            start = match.end()
    pieces.append(sql[start:])
    return [p.strip() for p in pieces if _LEADING.sub("", p).strip()]


#: What would end or start the one transaction `sql --write` runs a script in.
_ENDS_TRANSACTION = re.compile(
    r"(BEGIN|START|COMMIT|END|ABORT|PREPARE\s+TRANSACTION|ROLLBACK(?!\s+(?:WORK\s+|TRANSACTION\s+)?TO\b))\b", re.I)
SCRIPT_TRANSACTION = "a script runs in one transaction (rolled back at the first error): leave out BEGIN/COMMIT"


def refuse_script_transaction_control(statements: Sequence[str]) -> None:
    """`sql --write` with several statements: a COMMIT inside would publish half a script."""
    if len(statements) < 2:
        return
    for statement in statements:
        match = _ENDS_TRANSACTION.match(_LEADING.sub("", statement))
        if match:
            raise SparkifyError(f"{' '.join(match.group(1).split()).upper()}: {SCRIPT_TRANSACTION}")


def refuse_transaction_control(statement: str) -> None:
    """A clear line for BEGIN/COMMIT/SET ROLE … in a read command (the server would keep them
    harmless anyway)."""
    match = _TRANSACTION_CONTROL.match(_LEADING.sub("", statement))
    if match:
        raise SparkifyError(f"{' '.join(match.group(1).split()).upper()} is not allowed: {WRITE_HINT}")


#: What a read command may run on Redshift. TRUNCATE "commits the transaction in which it is run"
#: (AWS), so a READ ONLY transaction alone cannot hold every write there: only reading statements pass.
REDSHIFT_READS = frozenset({"SELECT", "WITH", "EXPLAIN", "SHOW"})
_FIRST_WORD = re.compile(r"[(\s]*([A-Za-z_]+)")


def statement_word(statement: str) -> str:
    """The keyword a statement starts with, past comments and parentheses (`SELECT`, `TRUNCATE` …)."""
    match = _FIRST_WORD.match(_LEADING.sub("", statement))
    return match.group(1).upper() if match else statement.split()[0]


def refuse_redshift_writes(sql: str) -> None:
    """Before anything runs: transaction control, and any statement that is not a read."""
    for statement in split_script(sql):
        refuse_transaction_control(statement)
        word = statement_word(statement)
        if word not in REDSHIFT_READS:
            raise SparkifyError(f"{word} statements are not allowed: {WRITE_HINT}")


#: The DuckDB statement types a read command may run; its own parser says which a text holds.
DUCKDB_READS = frozenset({"SELECT", "EXPLAIN", "PRAGMA", "CALL"})


def refuse_duckdb_writes(sql: str) -> None:
    """The file is open read-only, but ATTACH could open it again read-write (after a USE and a
    DETACH), and COPY, EXPORT, INSTALL or SET reach beyond it: only reading statements pass."""
    import duckdb

    for statement in duckdb.extract_statements(sql):
        kind = statement.type.name
        if kind not in DUCKDB_READS:
            raise SparkifyError(f"{kind} statements are not allowed: {WRITE_HINT}")


def run_read_only(con: Any, sql: str, params: Sequence[Any] = ()) -> QueryResult:
    """Run each statement of `sql` alone in a rolled-back READ ONLY transaction on a psycopg
    connection in autocommit mode; the result of the last one."""
    import psycopg

    statements = split_script(sql)
    if not statements:
        raise SparkifyError("no SQL statement to run")
    if params and len(statements) > 1:
        raise SparkifyError("parameters need a single statement")
    for statement in statements:
        refuse_transaction_control(statement)
    result = QueryResult([], [])
    for statement in statements:
        cursor = psycopg.Cursor(con)
        con.execute("BEGIN READ ONLY")
        try:
            # A pipeline sends even a statement without parameters through the extended protocol:
            # one statement per message, checked by the server. prepare=False: the unnamed statement,
            # so the ROLLBACK never makes psycopg send DEALLOCATE ALL, which Redshift does not have.
            with con.pipeline():
                cursor.execute(statement, list(params) or None, prepare=False)
            result = QueryResult.of(cursor)
        finally:
            con.execute("ROLLBACK")
    return result
