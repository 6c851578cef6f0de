"""What the DuckDB warehouse answers: queries, sql scripts, the checks inside a load, Parquet
exports. A mixin of DuckDBWarehouse (it needs the connection, `read_only` and `_rollback`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import duckdb

from sparkify.errors import SparkifyError
from sparkify.warehouse.base import QueryResult
from sparkify.warehouse.readonly import SCRIPT_TRANSACTION, refuse_duckdb_writes


class DuckDBQueries:
    con: duckdb.DuckDBPyConnection
    read_only: bool
    _rollback: Callable[[], None]  # DuckDBWarehouse's: ends the transaction, reopens if need be

    def query(self, sql: str, params: Sequence[Any] = ()) -> QueryResult:
        try:
            if self.read_only:
                refuse_duckdb_writes(sql)
            cursor = self.con.execute(sql, list(params))
        except duckdb.InterruptException:
            raise KeyboardInterrupt from None  # Ctrl-C during a query is Ctrl-C, not a failed query
        except duckdb.Error as exc:
            raise SparkifyError(f"SQL error: {_first_line(exc)}") from exc
        return QueryResult.of(cursor)

    def run_script(self, sql: str) -> list[QueryResult]:
        """DuckDB's own parser splits the script; read-only, the file is open read-only and only
        reading statements pass; with writes, one transaction, rolled back at the first error."""
        try:
            statements = duckdb.extract_statements(sql)
            if not statements:
                raise SparkifyError("no SQL statement to run")
            if self.read_only:
                refuse_duckdb_writes(sql)
            elif len(statements) > 1 and any(s.type == duckdb.StatementType.TRANSACTION for s in statements):
                raise SparkifyError(f"BEGIN/COMMIT/ROLLBACK: {SCRIPT_TRANSACTION}")
            one_transaction = not self.read_only and len(statements) > 1
            if one_transaction:
                self.con.execute("BEGIN")
            try:
                results = [QueryResult.of(self.con.execute(statement.query)) for statement in statements]
                if one_transaction:
                    self.con.execute("COMMIT")
            except BaseException:
                if one_transaction:
                    self._rollback()
                raise
        except duckdb.InterruptException:
            raise KeyboardInterrupt from None
        except duckdb.Error as exc:
            raise SparkifyError(f"SQL error: {str(exc).strip() or type(exc).__name__}") from None
        return results

    def audit(self, sql: str) -> QueryResult:
        """Only a single SELECT may run inside a load's transaction (DuckDB has no savepoint to
        undo anything else)."""
        try:
            statements = duckdb.extract_statements(sql)
        except duckdb.Error as exc:
            raise SparkifyError(f"SQL error: {_first_line(exc)}") from exc
        if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
            raise SparkifyError("a check must be exactly one SELECT statement")
        return self.query(sql)

    def write_parquet(self, select: str, path: str) -> None:
        literal = path.replace("'", "''")
        try:
            self.con.execute(f"COPY ({select}) TO '{literal}' (FORMAT parquet)")
        except duckdb.Error as exc:
            raise SparkifyError(f"export: {_first_line(exc)}") from exc


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    text = re.sub(r"^[A-Za-z ]+ Error: ", "", text)
    return text.splitlines()[0] if text else type(exc).__name__
