"""A batch's COPY on Redshift, built by pure functions (tested as redshift_sql.py's statements are):
the manifest and JSONPaths files the tool writes to S3, the COPY into a temp table, its rows into
staging with the load's id, and its rejects, copied from the system views (stl_load_errors or
sys_load_error_detail) into staging.load_errors, also after a failed load's rollback.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sparkify.errors import SparkifyError
from sparkify.staging.tables import SOURCES, Source
from sparkify.warehouse.base import FileCounts
from sparkify.warehouse.dialects import temp
from sparkify.warehouse.redshift_sql import DIALECT, MESSAGE_BYTES, column_type, int_sql, literal, sql_value, truncate_bytes
from sparkify.warehouse.redshift_target import region, role_arn, s3_uri

#: Redshift's own limit for MAXERROR, and every COPY's: COPY fails at MAXERROR rejects, so --max-errors
#: is applied by the load itself, to the whole load, as on the other backends.
MAXERROR_LIMIT = 100000
#: stl_load_errors.filename, stl_load_commits.filename and sys_load_*.file_name are CHAR(256): an
#: object whose URI is longer (in UTF-8 bytes) could not be matched back to its rejects and counts.
FILE_NAME_BYTES = 256


def require_s3_paths(*paths: str | None) -> None:
    """Redshift COPYs from S3 itself: local paths cannot be loaded (upload them first)."""
    for path in paths:
        if path and not path.startswith("s3://"):
            raise SparkifyError(
                f"{path!r}: a Redshift warehouse loads from S3 itself; give s3:// paths for --songs/--logs "
                "(upload local files first, e.g. `aws s3 sync data/ s3://BUCKET/data/`)"
            )


def file_name_fits(uri: str) -> str:
    """Refuse an object whose URI is longer than the system views' CHAR(256) file names."""
    size = len(uri.encode("utf-8"))
    if size > FILE_NAME_BYTES:
        raise SparkifyError(
            f"{uri[:80]}…: the object's URI is {size} bytes; Redshift records at most {FILE_NAME_BYTES} "
            "(stl_load_errors.filename is CHAR(256)), so its rejects could not be traced. Use a shorter key."
        )
    return uri


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


# -- a batch --------------------------------------------------------------------------------------


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
        f"SELECT {int_sql(load_id)}, {literal(batch_uri)}, batch_line, {columns}\nFROM {_numbered(source)}{where}"
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
        f"SELECT {int_sql(load_id)}, {literal(source.name)}, {literal(batch_uri)}, batch_line, {column}, {reason}, "
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
    return (f"SELECT {REJECT_COLUMNS} FROM staging.load_errors WHERE load_id = {int_sql(load_id)} "
            f"AND file = {literal(batch_uri)}")


def insert_rejects_sql(load_id: int | str, rows: Sequence[Sequence[Any]], chunk: int = 1000) -> list[str]:
    """These rejects (REJECT_COLUMNS) back into staging.load_errors, as literals, `chunk` rows a statement."""
    return [
        f"INSERT INTO staging.load_errors (load_id, {REJECT_COLUMNS}) VALUES\n"
        + ",\n".join(f"({int_sql(load_id)}, " + ", ".join(sql_value(v) for v in row) + ")" for row in rows[i:i + chunk])
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
            f"SELECT {int_sql(load_id)}, {literal(source.name)}, TRIM(file_name), line_number, "
            "NULLIF(TRIM(column_name), ''), TRIM(error_message), NULL\n"
            f"FROM sys_load_error_detail WHERE {where}"
        )
    else:
        where = where or "query = pg_last_copy_id()"
        select = (
            f"SELECT {int_sql(load_id)}, {literal(source.name)}, TRIM(filename), line_number, "
            "NULLIF(TRIM(colname), ''), TRIM(err_reason), LEFT(TRIM(raw_line), 1024)\n"
            f"FROM stl_load_errors WHERE {where}"
        )
    return f'INSERT INTO staging.load_errors (load_id, source, file, line, "column", reason, raw_text)\n{select}'


def unread_rejects_sql(load_id: int | str, source: Source, uris: Sequence[str]) -> str:
    """This load's rejects from these objects that have no raw text yet (sys_load_error_detail
    has no raw_line)."""
    return (f"SELECT file, line FROM staging.load_errors WHERE load_id = {int_sql(load_id)} "
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
            f"UPDATE staging.load_errors SET raw_text = CASE line {cases} END WHERE load_id = {int_sql(load_id)} "
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


def drop_copy_table_sql(source: Source) -> str:
    return f"DROP TABLE {copy_table(source)}"


def rejected_counts_sql(load_id: int | str, source: Source, uris: Sequence[str] | str) -> str:
    """COPY's rejects per object of the batch; `uris` may be a dry run's placeholder (`:batch_objects`)."""
    listed = int_sql(uris) if isinstance(uris, str) else ", ".join(literal(u) for u in uris)
    return (f"SELECT file, count(*) FROM staging.load_errors WHERE load_id = {int_sql(load_id)} "
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
