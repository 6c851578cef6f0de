"""Every statement the Redshift backend runs, built by pure functions (tested without a cluster:
parsed with sqlglot's Redshift dialect, checked against AWS's reserved words, run on the tests'
Redshift stand-in, and printed by `sparkify etl --dry-run`).

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
from sparkify.warehouse.dialects import temp
from sparkify.warehouse.recorder import Placeholder
from sparkify.warehouse.redshift_target import region, role_arn, s3_uri
from sparkify.warehouse.sqlfiles import MATCHES_VIEW, model_statements as rendered_model, read_sql, split_statements, star_statements

DIALECT = "redshift"
SEARCH_PATH = "analytics, staging, public"
#: Redshift's own limit for MAXERROR, and every COPY's: COPY fails at MAXERROR rejects, so --max-errors
#: is applied by the load itself, to the whole load, as on the other backends.
MAXERROR_LIMIT = 100000
#: stl_load_errors.filename, stl_load_commits.filename and sys_load_*.file_name are CHAR(256): an
#: object whose URI is longer (in UTF-8 bytes) could not be matched back to its rejects and counts.
FILE_NAME_BYTES = 256
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


def file_name_fits(uri: str) -> str:
    """Refuse an object whose URI is longer than the system views' CHAR(256) file names."""
    size = len(uri.encode("utf-8"))
    if size > FILE_NAME_BYTES:
        raise SparkifyError(
            f"{uri[:80]}…: the object's URI is {size} bytes; Redshift records at most {FILE_NAME_BYTES} "
            "(stl_load_errors.filename is CHAR(256)), so its rejects could not be traced. Use a shorter key."
        )
    return uri


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


def _int(value: int | str) -> str:
    """An integer for SQL, or a dry-run placeholder such as `:load_id`."""
    if isinstance(value, str):
        if not _PLACEHOLDER.match(value):
            raise ValueError(f"not a placeholder: {value!r}")
        return value
    return str(int(value))


# -- files the tool writes to S3 -----------------------------------------------------------------


def jsonpaths(source: Source) -> dict[str, list[str]]:
    """The JSONPaths file for `source`, in column order (for events: the original log_json_path.json)."""
    return {"jsonpaths": [f"$['{f.key}']" for f in source.fields]}


def manifest(uris: Sequence[str]) -> dict[str, Any]:
    """A COPY manifest naming exactly these objects; `mandatory` makes a vanished one an error."""
    return {"entries": [{"url": s3_uri(u), "mandatory": True} for u in uris]}


def manifest_uri(staging: str, load_id: int | str, source: Source, batch: int) -> str:
    return f"{staging}/manifests/load-{load_id}/{source.name}-{batch:04d}.manifest"


def jsonpaths_uri(staging: str, source: Source) -> str:
    return f"{staging}/jsonpaths/{source.name}_jsonpaths.json"


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


# -- loading --------------------------------------------------------------------------------------


def copy_table(source: Source) -> str:
    """The batch's temp table. A name starting with # is always a temp table in Redshift, so no
    user table can have it, and no statement can reach a user's table through the search_path."""
    return temp(DIALECT, f"copy_{source.name}")


def copy_sql(
    source: Source,
    from_uri: str,
    *,
    iam_role: str,
    region_name: str | None,
    jsonpaths: str,
    is_manifest: bool = True,
) -> str:
    """COPY one batch into the source's temp table, JSON mapped by our JSONPaths file.

    BLANKSASNULL/EMPTYASNULL: a "" field loads as NULL (userId "" stays '' — it is VARCHAR and the
    models test `user_id <> ''`, so NULL also drops out). MAXERROR is Redshift's limit, not --max-errors:
    "if the load returns the error_count number of errors or greater, the load fails", which would
    end the load at --max-errors rejects of one batch, before its rejects are counted and kept; the
    load applies --max-errors to all its batches, as DuckDB and PostgreSQL do. COMPUPDATE/STATUPDATE OFF: the
    temp table is dropped right after, so analysing it is wasted time. Epoch milliseconds stay
    BIGINT and are converted explicitly in the models, so no TIMEFORMAT is needed.
    """
    columns = ", ".join(f.column for f in source.fields)
    options = [
        f"FROM {literal(s3_uri(from_uri))}",
        f"IAM_ROLE {literal(role_arn(iam_role))}",
    ]
    if region_name:
        options.append(f"REGION {literal(region(region_name))}")
    if is_manifest:
        options.append("MANIFEST")
    options += [
        f"FORMAT AS JSON {literal(s3_uri(jsonpaths))}",
        "BLANKSASNULL EMPTYASNULL",
        f"MAXERROR {MAXERROR_LIMIT}",
        "COMPUPDATE OFF STATUPDATE OFF",
    ]
    return f"COPY {copy_table(source)} ({columns})\n" + "\n".join(options)


def copy_table_ddl(source: Source) -> str:
    columns = ", ".join(f"{f.column} {column_type(source, f.column)}" for f in source.fields)
    return f"CREATE TEMP TABLE {copy_table(source)} ({columns})"


_ORDER = {"events": "ts, session_id, item_in_session", "songs": "song_id"}
#: The largest BIGINT: a string of digits beyond it is no id.
_BIGINT_MAX = "9223372036854775807"


def _digits_ok(column: str) -> str:
    """A "digits" field (userId) the star can CAST to BIGINT: empty, or digits that fit. COPY loads
    it as VARCHAR, and one bad value would abort the models' CAST for the whole load."""
    return (f"({column} IS NULL OR {column} ~ '^[0-9]{{0,18}}$' "
            f"OR (LENGTH({column}) = 19 AND {column} ~ '^[0-9]+$' AND {column} <= '{_BIGINT_MAX}'))")


def _numbered(source: Source) -> str:
    """The COPY's rows, numbered within the batch (COPY cannot say which object a row came from)."""
    columns = ", ".join(f.column for f in source.fields)
    return (f"(SELECT {columns}, row_number() OVER (ORDER BY {_ORDER[source.name]}) AS batch_line "
            f"FROM {copy_table(source)}) AS c")


def insert_staged_sql(source: Source, load_id: int | str, batch_uri: str) -> str:
    """Rows of the COPY into staging. COPY cannot say which object a row came from, so
    source_file is the batch's manifest; source_line numbers the rows within the batch. Rows whose
    digits fields do not fit BIGINT are left out (guarded_rejects_sql records them)."""
    columns = ", ".join(f.column for f in source.fields)
    guard = [_digits_ok(f.column) for f in source.fields if f.type == "digits"]
    where = f"\nWHERE {' AND '.join(guard)}" if guard else ""
    return (
        f"INSERT INTO staging.{source.table} (load_id, source_file, source_line, {columns})\n"
        f"SELECT {_int(load_id)}, {literal(batch_uri)}, batch_line, {columns}\nFROM {_numbered(source)}{where}"
    )


def guarded_rejects_sql(source: Source, load_id: int | str, batch_uri: str) -> str | None:
    """Records whose userId is not a BIGINT id, into staging.load_errors, as DuckDB and PostgreSQL
    reject them (same column and reason); None for a source without such fields."""
    fields = [f for f in source.fields if f.type == "digits"]
    if not fields:
        return None
    column = "CASE " + " ".join(f"WHEN NOT {_digits_ok(f.column)} THEN {literal(f.key)}" for f in fields) + " END"
    reason = "CASE " + " ".join(
        f"WHEN NOT {_digits_ok(f.column)} THEN {literal(f.key + ': expected a string of digits, got ')} "
        f"|| LEFT({f.column}, 60)" for f in fields) + " END"
    return (
        'INSERT INTO staging.load_errors (load_id, source, file, line, "column", reason, raw_text)\n'
        f"SELECT {_int(load_id)}, {literal(source.name)}, {literal(batch_uri)}, batch_line, {column}, {reason}, "
        f"NULL\nFROM {_numbered(source)}\nWHERE NOT ({' AND '.join(_digits_ok(f.column) for f in fields)})"
    )


def attribute_batch_rejects(counts: Sequence[FileCounts], rejected: int) -> None:
    """Move `rejected` records of a batch from staged to rejected, object by object in batch order.

    COPY cannot say which object a row came from, so rejects found after the COPY (userIds that are
    no id) are counted against the batch's first objects: the load's totals and --max-errors are
    exact; the per-object split of those few is not."""
    for c in counts:
        moved = min(rejected, c.rows)
        c.rows, c.rejected, rejected = c.rows - moved, c.rejected + moved, rejected - moved


#: A reject as staging.load_errors holds it, after load_id: source, file, line, column, reason, raw_text.
REJECT_COLUMNS = 'source, file, line, "column", reason, raw_text'


def guarded_rows_sql(load_id: int | str, batch_uri: str) -> str:
    """The records of this batch guarded_rejects_sql left out (filed under the manifest): counted,
    and kept by the tool, since a failed load's rollback takes them away and no system view has them."""
    return (f"SELECT {REJECT_COLUMNS} FROM staging.load_errors WHERE load_id = {_int(load_id)} "
            f"AND file = {literal(batch_uri)}")


def insert_rejects_sql(load_id: int | str, rows: Sequence[Sequence[Any]], chunk: int = 1000) -> list[str]:
    """These rejects (REJECT_COLUMNS) back into staging.load_errors, as literals, `chunk` rows a statement."""
    return [
        f"INSERT INTO staging.load_errors (load_id, {REJECT_COLUMNS}) VALUES\n"
        + ",\n".join(f"({_int(load_id)}, " + ", ".join(sql_value(v) for v in row) + ")" for row in rows[i:i + chunk])
        for i in range(0, len(rows), chunk)
    ]


def load_errors_sql(load_id: int | str, source: Source, view: str = "stl", where: str | None = None) -> str:
    """COPY's rejects into staging.load_errors, shaped like the other backends' rejects.

    `where` defaults to the last COPY of this session; abort_load uses the session instead,
    because a COPY that failed has no pg_last_copy_id().
    """
    if view == "sys":
        where = where or "query_id = pg_last_copy_id()"
        # sys_load_error_detail documents no raw_line: the tool reads the line back (raw_text_sql).
        select = (
            f"SELECT {_int(load_id)}, {literal(source.name)}, TRIM(file_name), line_number, "
            "NULLIF(TRIM(column_name), ''), TRIM(error_message), NULL\n"
            f"FROM sys_load_error_detail WHERE {where}"
        )
    else:
        where = where or "query = pg_last_copy_id()"
        select = (
            f"SELECT {_int(load_id)}, {literal(source.name)}, TRIM(filename), line_number, "
            "NULLIF(TRIM(colname), ''), TRIM(err_reason), LEFT(TRIM(raw_line), 1024)\n"
            f"FROM stl_load_errors WHERE {where}"
        )
    return f'INSERT INTO staging.load_errors (load_id, source, file, line, "column", reason, raw_text)\n{select}'


def unread_rejects_sql(load_id: int | str, source: Source, uris: Sequence[str]) -> str:
    """This load's rejects from these objects that have no raw text yet (sys_load_error_detail
    has no raw_line)."""
    return (f"SELECT file, line FROM staging.load_errors WHERE load_id = {_int(load_id)} "
            f"AND source = {literal(source.name)} AND raw_text IS NULL "
            f"AND file IN ({', '.join(literal(u) for u in uris)})")


def raw_text_sql(load_id: int | str, uri: str, texts: dict[int, str], chunk: int = 500) -> list[str]:
    """The rejected lines' text (read back from the object) into their rejects, `chunk` lines a
    statement; each text cut to raw_text's 1024 bytes."""
    items = sorted(texts.items())
    statements = []
    for i in range(0, len(items), chunk):
        part = items[i:i + chunk]
        cases = " ".join(f"WHEN {int(n)} THEN {literal(truncate_bytes(t.replace(chr(0), ''), 1024))}" for n, t in part)
        statements.append(
            f"UPDATE staging.load_errors SET raw_text = CASE line {cases} END WHERE load_id = {_int(load_id)} "
            f"AND file = {literal(uri)} AND line IN ({', '.join(str(int(n)) for n, _ in part)}) AND raw_text IS NULL")
    return statements


def file_counts_sql(view: str = "stl") -> str:
    """Records COPY read from each object of the last COPY."""
    if view == "sys":
        return ("SELECT TRIM(file_name), SUM(lines_scanned) FROM sys_load_detail "
                "WHERE query_id = pg_last_copy_id() GROUP BY 1")
    return ("SELECT TRIM(filename), SUM(lines_scanned) FROM stl_load_commits "
            "WHERE query = pg_last_copy_id() GROUP BY 1")


def stage_statements(
    source: Source,
    load_id: int | str,
    batch_uri: str,
    *,
    iam_role: str,
    region_name: str | None,
    jsonpaths: str,
    view: str = "stl",
) -> list[str]:
    """Everything one batch runs, in order (the counts query and the temp-table drop follow).

    No DROP TABLE IF EXISTS up front: the temp table is made and dropped inside the load's
    transaction, so it never outlives a batch, and a DROP of a missing name is never sent."""
    guarded = guarded_rejects_sql(source, load_id, batch_uri)
    return [
        copy_table_ddl(source),
        copy_sql(source, batch_uri, iam_role=iam_role, region_name=region_name, jsonpaths=jsonpaths),
        insert_staged_sql(source, load_id, batch_uri),
        *([guarded] if guarded else []),
        load_errors_sql(load_id, source, view),
    ]


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
    return [*create_statements(), _start_load_sql(_int(load_id))]


def record_files_sql(source: Source, load_id: int | str, counts: Sequence[FileCounts]) -> list[str]:
    """Replace these objects' rows in staging.loaded_files (delete-insert: no upsert needed)."""
    if not counts:
        return []
    paths = ", ".join(literal(c.file.uri) for c in counts)
    values = ",\n".join(
        f"({literal(c.file.uri)}, {literal(source.name)}, {int(c.file.size)}, {literal(c.file.version)}, NULL, "
        f"{_int(load_id)}, {int(c.records)}, {int(c.rows)}, {int(c.rejected)}, GETDATE())"
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
        f"DELETE FROM staging.load_sources WHERE load_id = {_int(load_id)} AND source = {literal(source.name)}",
        ("INSERT INTO staging.load_sources (load_id, source, files, records, staged, rejected) VALUES "
        f"({_int(load_id)}, {literal(source.name)}, {int(files)}, {int(result.records)}, {int(result.rows)}, "
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
        values = (f"files = {_int(files)}, records = {_int(result.records)}, staged = {_int(result.rows)}, "
                  f"rejected = {_int(result.rejected)}")
    return [
        (f"UPDATE staging.loads SET finished_at = GETDATE(), status = 'committed', {values} "
        f"WHERE load_id = {_int(load_id)}"),
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


def drop_copy_table_sql(source: Source) -> str:
    return f"DROP TABLE {copy_table(source)}"


def rejected_counts_sql(load_id: int | str, source: Source, uris: Sequence[str] | str) -> str:
    """COPY's rejects per object of the batch; `uris` may be a dry run's placeholder (`:batch_objects`)."""
    listed = _int(uris) if isinstance(uris, str) else ", ".join(literal(u) for u in uris)
    return (f"SELECT file, count(*) FROM staging.load_errors WHERE load_id = {_int(load_id)} "
            f"AND source = {literal(source.name)} AND file IN ({listed}) GROUP BY file")


def abort_statements(load_id: int, message: str, started: str | None, attempted: dict[str, list[str]],
                     view: str = "stl", kept: Sequence[Sequence[Any]] = ()) -> list[str]:
    """After ROLLBACK: record the failed load, the rejects COPY logged for its objects in this
    session (system tables outlive the rollback; a failed COPY has no pg_last_copy_id()), and the
    rejects the tool found itself (`kept`: guarded_rows_sql's rows). `started` is GETDATE() at the
    load's start: UTC, as the views' times, since every session is UTC (TIMEZONE_SQL)."""
    statements = [
        "BEGIN",
        ("INSERT INTO staging.loads (load_id, started_at, finished_at, status, message) "
        f"VALUES ({int(load_id)}, GETDATE(), GETDATE(), 'failed', {literal(truncate_bytes(message, MESSAGE_BYTES))})"),
    ]
    file_column = "file_name" if view == "sys" else "filename"
    session = "session_id = pg_backend_pid() AND start_time" if view == "sys" else \
        "session = pg_backend_pid() AND starttime"
    for name, uris in attempted.items():
        if started is None or not uris:
            continue
        where = (f"{session} >= {literal(started)} "
                 f"AND TRIM({file_column}) IN ({', '.join(literal(u) for u in uris)})")
        statements.append(load_errors_sql(load_id, SOURCES[name], view, where=where))
    statements += insert_rejects_sql(load_id, kept)
    statements.append("COMMIT")
    return statements


def require_s3_paths(*paths: str | None) -> None:
    """Redshift COPYs from S3 itself: local paths cannot be loaded (upload them first)."""
    for path in paths:
        if path and not path.startswith("s3://"):
            raise SparkifyError(
                f"{path!r}: a Redshift warehouse loads from S3 itself; give s3:// paths for --songs/--logs "
                "(upload local files first, e.g. `aws s3 sync data/ s3://BUCKET/data/`)"
            )


