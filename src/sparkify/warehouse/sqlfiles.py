"""Reading the SQL that lives in `sparkify/sql/`: a dialect's own file first, else the shared one.

The models (`sql/models/*.sql`) are shared by every backend; `model_statements` writes one in a
backend's SQL (sparkify.warehouse.dialects), and `star_statements` is the one order in which every
backend builds the star schema.
"""

from __future__ import annotations

from importlib import resources

from sparkify.warehouse.dialects import expand

#: The star schema's models, in the order they are built.
MODELS = ("songs", "artists", "users", "songplays", "time", "page_views")
#: Run after songplays when songs changed: plays staged earlier are matched again.
REMATCH = "songplays_rematch"
#: Created with the tables: staging.song_matches, the matching rule the rematch applies.
MATCHES_VIEW = "song_matches"


#: The models' first statements that undo what a load took away from staging (a replaced or
#: removed event file): plays whose event is gone, times no play has, and every view and user
#: version (rebuilt from all staged events). Nothing else takes an event away, so the DuckDB and
#: PostgreSQL backends run them only then; the models are incremental otherwise.
_PRUNES = ("DELETE FROM analytics.page_views", "DELETE FROM analytics.users")


def is_prune(statement: str) -> bool:
    """Whether `statement` is one of the models' prunes (see _PRUNES)."""
    return ((statement.startswith("DELETE FROM analytics.songplays") and "staging.staging_events" in statement)
            or statement.startswith('DELETE FROM analytics."time"')
            or statement.strip() in _PRUNES)


def read_sql(name: str, dialect: str) -> str:
    """The text of `name`.sql for `dialect` (e.g. `duckdb/create_tables`, `models/users`)."""
    root = resources.files("sparkify") / "sql"
    folder, _, stem = name.rpartition("/")
    for candidate in (root / dialect / folder / f"{stem}.sql", root / folder / f"{stem}.sql"):
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    raise FileNotFoundError(f"no SQL named {name!r} for {dialect}")


def model_statements(model: str, dialect: str) -> list[str]:
    """The statements of `sql/models/<model>.sql`, written in `dialect`'s SQL."""
    return [out for statement in split_statements(read_sql(f"models/{model}", dialect))
            for out in expand(statement, dialect)]


def star_statements(dialect: str, songs_changed: bool) -> list[tuple[str, str]]:
    """(model, statement) in the order every backend builds the star: songs and artists only when
    songs changed; the rematch of earlier plays right after songplays, when songs changed."""
    built: list[tuple[str, str]] = []
    for model in MODELS:
        if model in ("songs", "artists") and not songs_changed:
            continue
        built += [(model, s) for s in model_statements(model, dialect)]
        if model == "songplays" and songs_changed:
            built += [(REMATCH, s) for s in model_statements(REMATCH, dialect)]
    return built


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
