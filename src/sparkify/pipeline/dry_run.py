"""`sparkify etl --dry-run`: the SQL a load would send, printed without connecting to anything.

The plan is recorded, not described: the backend's own methods (create_tables, begin_load,
build_star, commit_load, and Redshift's stage) run on a Recorder connection
(sparkify.warehouse.recorder) that keeps each statement, with its parameters written as the
backend quotes them, instead of sending it. DuckDB and PostgreSQL stage by parsing the files in a
private DuckDB first; that part is shown with the parse SQL of sparkify.staging.tables. With no
connection the tool cannot know what is already loaded, so the plan is that of a full load into
an empty warehouse. Local inputs are listed; S3 inputs are not (that would need S3), so their
batches are placeholders. `:load_id` and other `:names` stand for values known only while loading.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sparkify.config import mask_secrets, warehouse_scheme
from sparkify.errors import SparkifyError
from sparkify.inputs.sources import SourceFile, batches, discover
from sparkify.staging.tables import EVENTS, SONGS, Source, fast_insert_sql, insert_rejects_sql, \
    insert_staged_sql, line_records_sql, parse_sql, texts_cte
from sparkify.warehouse import repair
from sparkify.warehouse.base import StageResult, Warehouse
from sparkify.warehouse.recorder import Placeholder, Recorder, printable, standard_literal
from sparkify.warehouse.sqlfiles import REMATCH, star_statements

#: Shown in a Redshift plan when no staging location is configured yet.
MISSING_STAGING = "s3://your-staging-bucket/sparkify"
#: Shown in a Redshift plan when no IAM role is configured yet.
MISSING_ROLE = "arn:aws:iam::000000000000:role/your-redshift-s3-read-role"
LOAD_ID = Placeholder(":load_id")


@dataclass
class Step:
    """One statement with a comment saying when and why it runs."""

    sql: str
    comment: str = ""


class PlannedResult(StageResult):
    """What the load staged, known only while loading."""

    records = Placeholder(":records")  # type: ignore[assignment]
    rows = Placeholder(":staged")  # type: ignore[assignment]
    rejected = Placeholder(":rejected")  # type: ignore[assignment]


def _answer(sql: str) -> list[tuple[Any, ...]] | None:
    """What the recorded queries return in a full load into an empty warehouse."""
    if "nextval('staging.load_id_seq')" in sql or sql.startswith("SELECT MAX(load_id) FROM staging.loads"):
        return [(LOAD_ID,)]
    if sql == "SELECT GETDATE()":
        return [(Placeholder(":now"),)]
    if sql.startswith("SELECT pg_try_advisory_xact_lock"):
        return [(True,)]  # the load lock, at once
    if sql.startswith(("SELECT count(*) FROM duckdb_tables()", "SELECT count(*) FROM information_schema.tables")):
        return [(0,)]  # no Sparkify tables yet (what --full-refresh asks first)
    if sql.startswith("SELECT to_regclass("):
        return [(False,)]
    if sql.startswith("SELECT count(*) > 0 FROM analytics.songplays"):
        return [(False,)]  # no plays yet: DuckDB skips the prune and the rematch
    if sql.startswith("SELECT EXISTS (SELECT 1 FROM analytics.songplays), EXISTS (SELECT 1 FROM analytics.page_views)"):
        return [(False, False)]  # no plays nor views yet: PostgreSQL skips them too, and sets the keys aside
    return None


class _PostgresInfo:
    """What psycopg's `connection.info` tells the PostgreSQL backend: whether a transaction is open."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    @property
    def transaction_status(self) -> Any:
        from psycopg.pq import TransactionStatus

        return TransactionStatus.INTRANS if self.recorder.in_transaction else TransactionStatus.IDLE


def _backend(url: str) -> tuple[Warehouse, Recorder, list[Step]]:
    """The backend for `url` on a Recorder, and the notes the plan starts with."""
    scheme = warehouse_scheme(url)
    if scheme == "duckdb":
        from sparkify.warehouse.duckdb import DuckDBWarehouse

        recorder = Recorder(standard_literal, _answer, "?")
        return DuckDBWarehouse.planned(url, recorder), recorder, []
    if scheme == "postgresql":
        from sparkify.warehouse.postgres import PostgresWarehouse

        recorder = Recorder(standard_literal, _answer, "%s")
        recorder.info = _PostgresInfo(recorder)
        return PostgresWarehouse.planned(url, recorder), recorder, []
    if scheme == "redshift":
        from sparkify.warehouse import redshift as rs

        target, notes = rs.parse_url(url), []
        if target.staging is None:
            target = replace(target, staging=MISSING_STAGING)
            notes.append(Step(f"-- staging= is not set: {MISSING_STAGING} stands in for it here; the load itself "
                              "refuses until you set $SPARKIFY_STAGING_URI, [s3] staging_uri or "
                              "&staging=s3://BUCKET/PREFIX", "where the tool writes COPY manifests and JSONPaths files"))
        if target.iam_role is None:
            target = replace(target, iam_role=MISSING_ROLE)
            notes.append(Step(f"-- iam_role= is not set: {MISSING_ROLE} stands in for it here; the load itself "
                              "refuses until you set &iam_role=ARN (`sparkify cluster up` prints it)",
                              "the IAM role COPY reads S3 with"))
        recorder = Recorder(rs.literal, _answer, "%s")
        return rs.RedshiftWarehouse.planned(url, recorder, target=target), recorder, notes
    raise SparkifyError(f"warehouse {mask_secrets(url)!r}: unsupported kind {scheme!r}")


def _inputs(songs: str | None, logs: str | None) -> list[tuple[Source, str, list[SourceFile] | None]]:
    """(source, spec, files): files listed for local specs, None for S3 (not listed offline)."""
    inputs: list[tuple[Source, str, list[SourceFile] | None]] = []
    for source, spec, what in ((SONGS, songs, "songs"), (EVENTS, logs, "logs")):
        if spec:
            files = None if spec.lower().startswith("s3://") else discover(spec, what)
            inputs.append((source, spec, files))
    return inputs


def _batch_notes(spec: str, files: list[SourceFile] | None,
                 warehouse: Warehouse) -> list[tuple[int | None, list[str] | None]]:
    """(batch number, its files) for listed inputs, else one placeholder batch."""
    if files is None:
        return [(None, None)]
    cut = batches(files, warehouse.batch_bytes, warehouse.batch_files)
    return [(n, [f.uri for f in batch]) for n, batch in enumerate(cut, start=1)]


def _files_comment(spec: str, number: int | None, uris: list[str] | None, warehouse: Warehouse,
                   limit: int = 5) -> str:
    if uris is None:
        size = ("a multiple of the cluster's slices" if warehouse.copies_from_s3
                else f"≤ {warehouse.batch_bytes // 2**20} MiB")
        return (f"for each batch ({size}, ≤ {warehouse.batch_files} objects) of the objects under "
                f"{spec} not yet loaded")
    shown = ", ".join(os.path.basename(u) for u in uris[:limit])
    more = f" … (+{len(uris) - limit} more)" if len(uris) > limit else ""
    return f"batch {number}: {len(uris)} file(s) of {spec}: {shown}{more}"


# -- staging on DuckDB and PostgreSQL: the parse, shown with the SQL it runs ---------------------------


def _parse_steps(recorder: Recorder, dialect: str, source: Source, uris: list[str] | None) -> None:
    """What stage() does with one batch on DuckDB and PostgreSQL, in the private parser and then
    in the warehouse; every value is a literal written by the recorder."""
    listed = ":files" if uris is None else recorder.value(uris)
    recorder.comment = "only for files loaded before (changed files): their old rows make way"
    recorder.execute(f"DELETE FROM staging.{source.table} WHERE source_file IN (SELECT unnest({listed}))")
    if source is EVENTS and dialect == "duckdb":
        recorder.comment = ("first try, per file (UNION ALL): DuckDB's own JSON reader; a file that gives "
                            "fewer rows than it has lines loses them and goes the careful way below")
        recorder.execute(fast_insert_sql(source, 1, load_id=LOAD_ID, file=":file", path=":file"))
    if source is EVENTS:  # newline-delimited: split and parsed by DuckDB itself
        parsed = parse_sql(source, line_records_sql(), texts_cte(listed))
    else:  # song files: split into records in Python (sparkify.staging.records), parsed by the same SQL
        parsed = parse_sql(source, "SELECT file, line, raw, reason FROM read_json(:records_of_batch, "
                           "format='newline_delimited')")
    if dialect == "duckdb":
        recorder.comment = "the careful way: parsed in a private in-memory DuckDB, the files in groups side by side"
        recorder.execute(f"CREATE OR REPLACE TEMP TABLE _parsed AS {parsed.strip()}")
        recorder.execute("COPY _parsed TO ':part.parquet' (FORMAT parquet)")
        recorder.execute(insert_staged_sql(source, LOAD_ID, "read_parquet(:parts)"))
        recorder.execute(insert_rejects_sql(LOAD_ID, recorder.value(source.name), "read_parquet(:parts)"))
    else:
        columns = ", ".join(f.column for f in source.fields)
        recorder.comment = "parsed in a private in-memory DuckDB; its rows stream to PostgreSQL as CSV"
        recorder.execute(f"CREATE OR REPLACE TEMP TABLE _parsed AS {parsed.strip()}")
        recorder.execute(f"COPY staging.{source.table} (load_id, source_file, source_line, {columns}) "
                         "FROM STDIN (FORMAT csv)")
        recorder.execute('COPY staging.load_errors (load_id, source, file, line, "column", reason, raw_text) '
                         "FROM STDIN (FORMAT csv)")


def _label_models(steps: list[Step], dialect: str, songs_changed: bool, start: int) -> None:
    """Say which model each recorded statement of build_star belongs to."""
    models = {statement: model for model, statement in star_statements(dialect, songs_changed)}
    for step in steps[start:]:
        model = models.get(step.sql)
        if model == REMATCH:
            step.comment = "songs changed: the plays of earlier loads are matched again"
        elif model:
            step.comment = f"model {model}"


def plan(url: str, songs: str | None, logs: str | None, *, max_errors: int = 0, full_refresh: bool = False,
         ) -> list[Step]:
    """The statements `sparkify etl` would send to `url`, recorded without connecting to it."""
    if not songs and not logs:
        raise SparkifyError("give --songs PATH, --logs PATH, or both")
    if warehouse_scheme(url) == "redshift":
        from sparkify.warehouse.redshift import require_s3_paths

        require_s3_paths(songs, logs)
    inputs = _inputs(songs, logs)
    warehouse, recorder, notes = _backend(url)
    if not full_refresh:  # as run_etl: a refresh drops and creates the tables inside its load
        recorder.comment = "create tables (only when the warehouse has no Sparkify tables yet)"
        warehouse.create_tables()
    recorder.comment = "the load: one transaction, one `sparkify etl` at a time"
    warehouse.lock()
    if full_refresh:
        recorder.comment = "--full-refresh: the tables are dropped and created again inside the load's transaction"
    load_id = warehouse.begin_refresh() if full_refresh else warehouse.begin_load()
    for source, spec, files in inputs:
        for number, uris in _batch_notes(spec, files, warehouse):
            recorder.comment = ""
            recorder.note(_files_comment(spec, number, uris, warehouse))
            if warehouse.copies_from_s3:  # Redshift: its own stage(), on one stand-in object per batch
                objects = [SourceFile(uri, 0, ":etag") for uri in uris or [f"{spec.rstrip('/')}/:object"]]
                warehouse.stage(source, objects, load_id)
            else:
                _parse_steps(recorder, warehouse.dialect, source, uris)
    recorder.comment = ""
    recorder.note(f"then, if the load rejected more than --max-errors {int(max_errors)} record(s) in all, it rolls "
                  "back here and is recorded as failed, with its rejects")
    recorder.comment = "suspect text of this load, repaired in Python (ftfy) into staging.text_repairs"
    repair.repair_new_text(warehouse, load_id)
    recorder.comment = "then one INSERT per suspect value that ftfy changes"
    repair.insert_repair(warehouse, Placeholder(":raw_text"), Placeholder(":fixed"))
    songs_changed = any(source is SONGS for source, _, _ in inputs)
    recorder.comment = "the star schema" + ("" if songs_changed else " (songs and artists too when text was repaired)")
    start = len(recorder.statements)
    warehouse.build_star(songs_changed)
    recorder.comment = ""
    recorder.note("then the data-quality checks (`sparkify check`, sql/checks/builtin.sql and --checks-file) run "
                  "their SELECTs here, inside the load's transaction, unless --no-check: a failed check (severity error) rolls it back")
    recorder.comment = "the load's record, then its one commit"
    warehouse.commit_load(load_id, Placeholder(":files"), PlannedResult())  # type: ignore[arg-type]
    steps = notes + [Step(r.sql, r.comment) for r in recorder.statements]
    _label_models(steps, warehouse.dialect, songs_changed, len(notes) + start)
    return steps


def render(steps: Sequence[Step], url: str) -> str:
    """The plan as one SQL script: comments say when each part runs; every statement ends in `;`.
    Text from inputs (paths, prefixes) shows its control characters as escapes in comments, and is
    a quoted literal in statements, so it never reads as SQL of its own."""
    lines = [f"-- sparkify etl --dry-run: the SQL of a full load into {printable(mask_secrets(url))}",
             "-- (nothing was connected to; :names are values known only during the load)", ""]
    last_comment = None
    for step in steps:
        if step.comment and step.comment != last_comment:
            lines.append(f"-- {printable(step.comment)}")
            last_comment = step.comment
        if step.sql.startswith("-- "):
            lines.append(printable(step.sql))
        else:
            lines.append(step.sql.strip() + ";")
        lines.append("")
    return "\n".join(lines)
