"""Reading the SQL that lives in `sparkify/sql/`: a dialect's own file first, else the shared one."""

from __future__ import annotations

from importlib import resources

#: The star schema's models, in the order they are built.
MODELS = ("songs", "artists", "users", "songplays", "time")


def is_play_prune(statement: str) -> bool:
    """songplays.sql's first statement: plays whose event is no longer staged go away. DuckDB runs
    it only when a load replaced an event file; nothing else can take a play's event away."""
    return statement.startswith("DELETE FROM analytics.songplays")


def read_sql(name: str, dialect: str) -> str:
    """The text of `name`.sql for `dialect` (e.g. `duckdb/create_tables`, `models/users`)."""
    root = resources.files("sparkify") / "sql"
    folder, _, stem = name.rpartition("/")
    for candidate in (root / dialect / folder / f"{stem}.sql", root / folder / f"{stem}.sql"):
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    raise FileNotFoundError(f"no SQL named {name!r} for {dialect}")


def split_statements(sql: str) -> list[str]:
    """Statements of a file, split at lines that end with `;` (our SQL files keep to that)."""
    statements, current = [], []
    for line in sql.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("--")):
            continue
        current.append(line)
        if line.rstrip().endswith(";"):
            statements.append("\n".join(current).rstrip().removesuffix(";"))
            current = []
    if any(line.strip() and not line.lstrip().startswith("--") for line in current):
        statements.append("\n".join(current))
    return statements
