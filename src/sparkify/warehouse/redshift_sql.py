"""The Redshift backend's statements, built by pure functions (tested without a cluster: parsed
with sqlglot's Redshift dialect, checked against AWS's reserved words, run on the tests' Redshift
stand-in, and printed by `sparkify etl --dry-run`): Redshift literals, the DDL, and a load's life
cycle around its batches (begin, full refresh, manifest rows, commit). A batch's COPY and its
rejects are in redshift_copy.py.

A load: per batch, the tool writes a COPY manifest of the new or changed objects to the staging
prefix, COPYs them into a temp table with a JSONPaths file it wrote itself, moves the rows into
staging with the load's id, and copies COPY's rejects from stl_load_errors (or
sys_load_error_detail) into staging.load_errors. The star schema is then built by the shared
models (MERGE on natural keys), in the load's one transaction.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any

from sparkify.errors import SparkifyError
from sparkify.staging.tables import SOURCES, Source
from sparkify.warehouse.base import FileCounts, StageResult
from sparkify.warehouse.recorder import Placeholder
from sparkify.warehouse.sqlfiles import MATCHES_VIEW, model_statements as rendered_model, read_sql, split_statements, star_statements

DIALECT = "redshift"
SEARCH_PATH = "analytics, staging, public"
#: staging.loads.message is VARCHAR(65535), and Redshift counts VARCHAR lengths in bytes.
MESSAGE_BYTES = 65535

_TYPES = {"text": "VARCHAR(65535)", "digits": "VARCHAR(256)", "integer": "BIGINT", "double": "DOUBLE PRECISION"}
#: `registration` arrives as 1540919166796.0: a JSON number with a fraction, which COPY refuses
#: for a BIGINT column. It is not used by the star schema, so it is staged as a double.
_TYPE_OVERRIDES = {("events", "registration"): "DOUBLE PRECISION"}
_PLACEHOLDER = re.compile(r"^:[a-z_]+$")


@cache
def reserved_words() -> frozenset[str]:
    """AWS's published list of Redshift reserved words (sql/redshift/reserved_words.txt)."""
    text = (resources.files("sparkify") / "sql" / "redshift" / "reserved_words.txt").read_text(encoding="utf-8")
    return frozenset(w for line in text.splitlines() if not line.startswith("#") for w in line.split())


# -- literals ----------------------------------------------------------------------------------


def literal(value: str) -> str:
    """A Redshift string literal: quotes doubled, and backslashes too (Redshift treats \\ as an escape)."""
    if "\x00" in value:
        raise SparkifyError("a NUL character cannot go into SQL")
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def truncate_bytes(text: str, limit: int) -> str:
    """`text` cut to at most `limit` bytes of UTF-8 as Redshift will store it (backslashes count
    once), never in the middle of a character."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", errors="ignore")


def bind(sql: str, params: Sequence[Any]) -> str:
    """`sql` with each `%s` replaced by its value as a Redshift literal.

    psycopg's client-side binding writes E'…' for any string holding a backslash, and Redshift has no
    E'' syntax; this spells every value the way Redshift reads it instead.
    """
    pieces = sql.split("%s")
    if len(pieces) - 1 != len(params):
        raise ValueError(f"{len(params)} parameter(s) for {len(pieces) - 1} placeholder(s)")
    out = [pieces[0]]
    for value, piece in zip(params, pieces[1:]):
        out += [sql_value(value), piece]
    return "".join(out)


def sql_value(value: Any) -> str:
    """One Python value as Redshift SQL (None, bool, int, float, str; anything else as its str)."""
    if value is None:
        return "NULL"
    if isinstance(value, Placeholder):  # the dry run's `:names`
        return str(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if value == value and value not in (float("inf"), float("-inf")) else literal(str(value))
    return literal(str(value))


def int_sql(value: int | str) -> str:
    """An integer for SQL, or a dry-run placeholder such as `:load_id`."""
    if isinstance(value, str):
        if not _PLACEHOLDER.match(value):
            raise ValueError(f"not a placeholder: {value!r}")
        return value
    return str(int(value))


# -- DDL ------------------------------------------------------------------------------------------


def column_type(source: Source, column: str) -> str:
    field = next(f for f in source.fields if f.column == column)
    return _TYPE_OVERRIDES.get((source.name, column), _TYPES[field.type])


def staging_ddl(source: Source) -> str:
    """A staging table: even distribution (COPY writes all slices), sorted by load."""
    columns = ",\n    ".join(f"{f.column} {column_type(source, f.column)}" for f in source.fields)
    return (
        f"CREATE TABLE staging.{source.table} (\n    load_id BIGINT NOT NULL,\n"
        f"    source_file VARCHAR(1024) NOT NULL,\n    source_line BIGINT NOT NULL,\n    {columns}\n"
        ") DISTSTYLE EVEN SORTKEY(load_id)"
    )


def create_statements() -> list[str]:
    """Drop and create every table and view, in order."""
    statements = split_statements(read_sql("redshift/drop_tables", DIALECT))
    statements += split_statements(read_sql("redshift/create_tables", DIALECT))
    statements += [staging_ddl(source) for source in SOURCES.values()]
    statements += rendered_model(MATCHES_VIEW, DIALECT)
    return statements


#: The next load's id: the loads recorded so far, plus one.
NEXT_LOAD_SQL = "SELECT COALESCE(MAX(load_id), 0) + 1 FROM staging.loads"


def _start_load_sql(load_id_sql: str) -> str:
    return f"INSERT INTO staging.loads (load_id, started_at, status) SELECT {load_id_sql}, GETDATE(), 'running'"


def begin_statements() -> list[str]:
    """A load's start: one `sparkify etl` at a time (the lock), load_id = MAX + 1."""
    return ["BEGIN", "LOCK staging.loads", _start_load_sql(f"({NEXT_LOAD_SQL})")]


def refresh_statements(load_id: int | str) -> list[str]:
    """`--full-refresh`, inside the load's transaction (after BEGIN, and LOCK staging.loads when it
    exists): every table dropped and created again, then the load's record. Redshift's DDL is
    transactional, so readers see the old warehouse until the COMMIT (they wait on the dropped
    tables' locks) and a refresh that fails or is killed leaves it whole. Not TRUNCATE: it commits
    the transaction it runs in. `load_id` continues the old numbering, so a failed refresh's record
    joins the old history (rolled back to) without taking another load's id."""
    return [*create_statements(), _start_load_sql(int_sql(load_id))]


def record_files_sql(source: Source, load_id: int | str, counts: Sequence[FileCounts]) -> list[str]:
    """Replace these objects' rows in staging.loaded_files (delete-insert: no upsert needed)."""
    if not counts:
        return []
    paths = ", ".join(literal(c.file.uri) for c in counts)
    values = ",\n".join(
        f"({literal(c.file.uri)}, {literal(source.name)}, {int(c.file.size)}, {literal(c.file.version)}, NULL, "
        f"{int_sql(load_id)}, {int(c.records)}, {int(c.rows)}, {int(c.rejected)}, GETDATE())"
        for c in counts
    )
    return [
        f"DELETE FROM staging.loaded_files WHERE path IN ({paths})",
        ('INSERT INTO staging.loaded_files (path, source, size, modified, checksum, load_id, records, "rows", '
        f"rejected, loaded_at) VALUES\n{values}"),
    ]


def load_sources_sql(source: Source, load_id: int | str, files: int, result: StageResult) -> list[str]:
    """The load's running reconciliation for one source (delete-insert of its one row)."""
    return [
        f"DELETE FROM staging.load_sources WHERE load_id = {int_sql(load_id)} AND source = {literal(source.name)}",
        ("INSERT INTO staging.load_sources (load_id, source, files, records, staged, rejected) VALUES "
        f"({int_sql(load_id)}, {literal(source.name)}, {int(files)}, {int(result.records)}, {int(result.rows)}, "
        f"{int(result.rejected)})"),
    ]


def model_statements(songs_changed: bool) -> list[str]:
    """The star schema's build, in order: the shared models, in Redshift's SQL (warehouse/dialects.py)."""
    return [statement for _, statement in star_statements(DIALECT, songs_changed)]


def commit_statements(load_id: int | str, files: int | str, result: StageResult | None) -> list[str]:
    counts = ("files", "records", "staged", "rejected")
    if result is None:
        values = ", ".join(f"{c} = :{c}" for c in counts)
    else:
        values = (f"files = {int_sql(files)}, records = {int_sql(result.records)}, staged = {int_sql(result.rows)}, "
                  f"rejected = {int_sql(result.rejected)}")
    return [
        (f"UPDATE staging.loads SET finished_at = GETDATE(), status = 'committed', {values} "
        f"WHERE load_id = {int_sql(load_id)}"),
        "COMMIT",
    ]


SEARCH_PATH_SQL = f"SET search_path TO {SEARCH_PATH}"
#: GETDATE() follows the session's time zone, and STL/SYS times are UTC: the session is UTC too.
TIMEZONE_SQL = "SET timezone TO 'UTC'"
#: What every connection runs first.
SESSION_SQL = (SEARCH_PATH_SQL, TIMEZONE_SQL)
TABLES_EXIST_SQL = ("SELECT count(*) FROM information_schema.tables "
                    "WHERE table_schema = 'analytics' AND table_name = 'songplays'")
LOADED_VERSIONS_SQL = "SELECT path, size, modified FROM staging.loaded_files"
NOW_SQL = "SELECT GETDATE()"
CURRENT_LOAD_SQL = "SELECT MAX(load_id) FROM staging.loads"
