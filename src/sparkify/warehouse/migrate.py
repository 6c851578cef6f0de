"""Bringing a warehouse made by an older Sparkify up to today's names, when it is opened for writing.

`staging.text_repairs.raw` and `staging.load_errors.raw` became `raw_text` (RAW is a Redshift
reserved word). A DuckDB file or PostgreSQL database made before that keeps its data: the columns
are renamed in place, and the song_matches view (which names text_repairs' key) is made again.
Redshift warehouses never had the old names (Redshift refuses them), so this is for the other two.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sparkify.warehouse.sqlfiles import MATCHES_VIEW, model_statements

#: (table in staging, old column, new column).
RENAMED_COLUMNS = (("text_repairs", "raw", "raw_text"), ("load_errors", "raw", "raw_text"))


def old_columns_sql() -> str:
    """The renamed columns still spelled the old way (information_schema: DuckDB and PostgreSQL)."""
    pairs = " OR ".join(f"(table_name = '{t}' AND column_name = '{old}')" for t, old, _ in RENAMED_COLUMNS)
    return f"SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'staging' AND ({pairs})"


def migration_statements(found: set[tuple[str, str]], dialect: str) -> list[str]:
    """The renames for the old columns `found`, then the view that reads them, made again."""
    statements = [f"ALTER TABLE staging.{table} RENAME COLUMN {old} TO {new}"
                  for table, old, new in RENAMED_COLUMNS if (table, old) in found]
    if statements:
        statements.append("DROP VIEW IF EXISTS staging.song_matches")
        statements += model_statements(MATCHES_VIEW, dialect)
    return statements


def rename_old_columns(execute: Callable[[str], Any], fetch: Callable[[str], list[tuple[Any, ...]]],
                       dialect: str) -> list[str]:
    """Run the renames an old warehouse needs (none for a new one); returns the statements run.

    `execute` runs one statement and `fetch` returns a query's rows, inside the caller's transaction.
    """
    found = {(str(t), str(c)) for t, c in fetch(old_columns_sql())}
    statements = migration_statements(found, dialect)
    for statement in statements:
        execute(statement)
    return statements
