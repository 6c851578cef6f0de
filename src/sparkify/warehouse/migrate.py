"""Bringing a warehouse made by an older Sparkify up to today's names, when it is opened for writing.

`staging.text_repairs.raw` and `staging.load_errors.raw` became `raw_text` (RAW is a Redshift
reserved word). A DuckDB file or PostgreSQL database made before that keeps its data: the columns
are renamed in place, and the song_matches view (which names text_repairs' key) is made again.
Redshift warehouses never had the old names (Redshift refuses them), so this is for the other two.
`staging.loads.checked` came later (a warehouse made before has it added, empty: its next load
checks every row).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from sparkify.warehouse.sqlfiles import MATCHES_VIEW, model_statements

#: (table in staging, old column, new column).
RENAMED_COLUMNS = (("text_repairs", "raw", "raw_text"), ("load_errors", "raw", "raw_text"))
#: (table in staging, new column, its type).
ADDED_COLUMNS = (("loads", "checked", "BOOLEAN"),)


def old_columns_sql() -> str:
    """The renamed columns still spelled the old way (information_schema: DuckDB and PostgreSQL)."""
    pairs = " OR ".join(f"(table_name = '{t}' AND column_name = '{old}')" for t, old, _ in RENAMED_COLUMNS)
    return f"SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'staging' AND ({pairs})"


def columns_of_grown_tables_sql() -> str:
    """Every column of the tables that gained one (ADDED_COLUMNS), as (table, column)."""
    tables = ", ".join(sorted({f"'{t}'" for t, _, _ in ADDED_COLUMNS}))
    return ("SELECT table_name, column_name FROM information_schema.columns "
            f"WHERE table_schema = 'staging' AND table_name IN ({tables})")


def migration_statements(found: set[tuple[str, str]], dialect: str,
                         present: Collection[tuple[str, str]] = ()) -> list[str]:
    """The renames for the old columns `found`, then the view that reads them, made again; then
    the added columns missing from the tables in `present` (their columns: a table not there yet
    is made whole by create_tables)."""
    statements = [f"ALTER TABLE staging.{table} RENAME COLUMN {old} TO {new}"
                  for table, old, new in RENAMED_COLUMNS if (table, old) in found]
    if statements:
        statements.append("DROP VIEW IF EXISTS staging.song_matches")
        statements += model_statements(MATCHES_VIEW, dialect)
    tables = {table for table, _ in present}
    statements += [f"ALTER TABLE staging.{table} ADD COLUMN {column} {kind}"
                   for table, column, kind in ADDED_COLUMNS if table in tables and (table, column) not in present]
    return statements


def rename_old_columns(execute: Callable[[str], Any], fetch: Callable[[str], list[tuple[Any, ...]]],
                       dialect: str) -> list[str]:
    """Run the renames an old warehouse needs (none for a new one); returns the statements run.

    `execute` runs one statement and `fetch` returns a query's rows, inside the caller's transaction.
    """
    found = {(str(t), str(c)) for t, c in fetch(old_columns_sql())}
    present = {(str(t), str(c)) for t, c in fetch(columns_of_grown_tables_sql())}
    statements = migration_statements(found, dialect, present)
    for statement in statements:
        execute(statement)
    return statements
