"""`sparkify etl --dry-run`: the SQL a load would run, printed without connecting to anything.

With no connection the tool cannot know what is already loaded, so the plan is that of a full
load: create the tables (when absent, or with --full-refresh), stage every batch, build the star,
commit. Local inputs are listed (that needs no warehouse); S3 inputs are not listed (that would
need S3), so their per-batch file lists are shown as placeholders. `:load_id` and other
`:names` stand for values known only while loading.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass

from sparkify.warehouse import repair
from sparkify.config import mask_secrets, warehouse_scheme
from sparkify.errors import SparkifyError
from sparkify.inputs.sources import BATCH_FILES, SourceFile, batches, discover
from sparkify.warehouse.sqlfiles import MATCHES_VIEW, REMATCH, is_play_prune, model_statements, read_sql, split_statements, star_statements
from sparkify.staging.tables import (
    EVENTS,
    SONGS,
    SOURCES,
    Source,
    fast_insert_sql,
    insert_rejects_sql,
    insert_staged_sql,
    line_records_sql,
    parse_sql,
    texts_cte,
)

#: Shown in a Redshift plan when no staging location is configured yet.
MISSING_STAGING = "s3://your-staging-bucket/sparkify"


@dataclass
class Step:
    """One statement with a comment saying when and why it runs."""

    sql: str
    comment: str = ""


def _inputs(songs: str | None, logs: str | None) -> list[tuple[Source, str, list[SourceFile] | None]]:
    """(source, spec, files): files listed for local specs, None for S3 (not listed offline)."""
    inputs: list[tuple[Source, str, list[SourceFile] | None]] = []
    for source, spec, what in ((SONGS, songs, "songs"), (EVENTS, logs, "logs")):
        if spec:
            files = None if spec.lower().startswith("s3://") else discover(spec, what)
            inputs.append((source, spec, files))
    return inputs


def _batch_notes(spec: str, files: list[SourceFile] | None,
                 batch_bytes: int) -> list[tuple[int | None, list[str] | None]]:
    """(batch number, its files) for listed inputs, else one placeholder batch."""
    if files is None:
        return [(None, None)]
    return [(n, [f.uri for f in batch]) for n, batch in enumerate(batches(files, batch_bytes), start=1)]


def _files_comment(spec: str, number: int | None, uris: list[str] | None, batch_bytes: int, limit: int = 5) -> str:
    if uris is None:
        return (f"for each batch (≤ {batch_bytes // 2**20} MiB, ≤ {BATCH_FILES} objects) of the objects under "
                f"{spec} not yet loaded")
    shown = ", ".join(os.path.basename(u) for u in uris[:limit])
    more = f" … (+{len(uris) - limit} more)" if len(uris) > limit else ""
    return f"batch {number}: {len(uris)} file(s) of {spec}: {shown}{more}"


# -- DuckDB and PostgreSQL ---------------------------------------------------------------------------


def _embedded_plan(dialect: str, inputs: list[tuple[Source, str, list[SourceFile] | None]], full_refresh: bool,
                   ) -> list[Step]:
    """DuckDB and PostgreSQL: the same parse (in DuckDB), each backend's own DDL and models."""
    if dialect == "duckdb":
        from sparkify.warehouse.duckdb import DuckDBWarehouse as Backend
        from sparkify.warehouse.duckdb import _staging_ddl
    else:
        from sparkify.warehouse.postgres import PostgresWarehouse as Backend  # type: ignore[assignment]
        from sparkify.warehouse.postgres import _staging_ddl  # type: ignore[no-redef]
    when = "--full-refresh" if full_refresh else "only when the warehouse has no Sparkify tables yet"
    steps = [Step(s, f"create tables ({when})") for s in
             split_statements(read_sql(f"{dialect}/drop_tables", dialect))
             + split_statements(read_sql(f"{dialect}/create_tables", dialect))]
    steps += [Step(_staging_ddl(source)) for source in SOURCES.values()]
    steps += [Step(s) for s in model_statements(MATCHES_VIEW, dialect)]
    steps.append(Step("BEGIN", "the load: one transaction"))
    for source, spec, files in inputs:
        for number, uris in _batch_notes(spec, files, Backend.batch_bytes):
            note = _files_comment(spec, number, uris, Backend.batch_bytes)
            listed = "?" if uris is None else "[" + ", ".join(f"'{u}'" for u in uris) + "]"
            steps.append(Step(f"DELETE FROM staging.{source.table} WHERE source_file IN (SELECT unnest(:files))",
                              f"{note}; :files = its paths; only for files loaded before (changed files)"))
            if source is EVENTS and dialect == "duckdb":
                steps.append(Step(fast_insert_sql(source, 1, load_id=":load_id", file=":file", path=":file"),
                                  "first try, per file (UNION ALL): DuckDB's own JSON reader; a file that gives "
                                  "fewer rows than it has lines loses them and goes the careful way below"))
            if source is EVENTS:  # newline-delimited: split and parsed by DuckDB itself
                parsed = parse_sql(source, line_records_sql(), texts_cte(listed))
            else:  # song files: split into records in Python (sparkify.staging.records), parsed by the same SQL
                parsed = parse_sql(source, "SELECT file, line, raw, reason FROM read_json(:records_of_batch, "
                                   "format='newline_delimited')")
            if dialect == "duckdb":
                steps.append(Step(f"CREATE OR REPLACE TEMP TABLE _parsed AS {parsed.strip()}",
                                  "parse in a private in-memory DuckDB, the batch's files in groups side by side"))
                steps.append(Step("COPY _parsed TO ':part.parquet' (FORMAT parquet)", "each group's rows, handed over"))
                steps.append(Step(insert_staged_sql(source, ":load_id", "read_parquet(:parts)")))
                steps.append(Step(insert_rejects_sql(":load_id", f"'{source.name}'", "read_parquet(:parts)")))
            else:
                columns = ", ".join(f.column for f in source.fields)
                steps.append(Step(f"CREATE OR REPLACE TEMP TABLE _parsed AS {parsed.strip()}",
                                  "parse in a private in-memory DuckDB; its rows stream to PostgreSQL as CSV"))
                steps.append(Step(f"COPY staging.{source.table} (load_id, source_file, source_line, {columns}) "
                                  "FROM STDIN (FORMAT csv)", "the good records of _parsed"))
                steps.append(Step('COPY staging.load_errors (load_id, source, file, line, "column", reason, raw_text) '
                                  "FROM STDIN (FORMAT csv)", "the rejected records of _parsed"))
    steps.append(Step(repair.candidates_sql(dialect, 0).replace("load_id = 0", "load_id = :load_id"),
                      "suspect text of this load, repaired in Python (ftfy) into staging.text_repairs"))
    songs_changed = any(source is SONGS for source, _, _ in inputs)
    for model, s in star_statements(dialect, songs_changed):
        if model == REMATCH:
            steps.append(Step(s, "songs changed and songplays existed before: re-match them"))
        else:
            prune = dialect == "duckdb" and is_play_prune(s)
            steps.append(Step(s, f"model {model}" + (": only when the load replaced an event file" if prune else "")))
    steps.append(Step("UPDATE staging.loads SET status = 'committed' … WHERE load_id = :load_id"))
    steps.append(Step("COMMIT"))
    return steps


# -- Redshift ---------------------------------------------------------------------------------------


def _redshift_plan(url: str, inputs: list[tuple[Source, str, list[SourceFile] | None]], full_refresh: bool,
                   max_errors: int) -> list[Step]:
    from sparkify.warehouse import redshift as rs

    target = rs.parse_url(url)
    if not target.iam_role:
        raise SparkifyError("a Redshift load needs iam_role=ARN in the warehouse URL (`sparkify cluster up` prints it)")
    rs.require_s3_paths(*(spec for _, spec, _ in inputs))
    steps = []
    staging = target.staging
    if staging is None:
        staging = MISSING_STAGING
        steps.append(Step(f"-- staging= is not set: {staging} stands in for it here; the load itself refuses "
                          "until you set $SPARKIFY_STAGING_URI, [s3] staging_uri or &staging=s3://BUCKET/PREFIX",
                          "where the tool writes COPY manifests and JSONPaths files"))
    when = "--full-refresh" if full_refresh else "only when the warehouse has no Sparkify tables yet"
    steps += [Step(s, f"create tables ({when})") for s in rs.create_statements()]
    for source, _, _ in inputs:
        document = json.dumps(rs.jsonpaths(source))
        steps.append(Step(f"-- PUT {rs.jsonpaths_uri(staging, source)}: {document}",
                          f"the JSONPaths file for {source.name}, written by the tool (S3, not SQL)"))
    begin = rs.begin_statements()
    steps += [Step(s, "the load: one transaction; one `sparkify etl` at a time") for s in begin]
    for source, spec, files in inputs:
        for number, uris in _batch_notes(spec, files, rs.RedshiftWarehouse.batch_bytes):
            batch_uri = rs.manifest_uri(staging, ":load_id", source, number or 1)
            listed = "the batch's objects" if uris is None else ", ".join(uris)
            steps.append(Step(f"-- PUT {batch_uri}: COPY manifest of {listed}",
                              _files_comment(spec, number, uris, rs.RedshiftWarehouse.batch_bytes) + " (S3, not SQL)"))
            for statement in rs.stage_statements(
                source, ":load_id", batch_uri, iam_role=target.iam_role, region_name=target.region,
                jsonpaths=rs.jsonpaths_uri(staging, source), max_errors=max_errors,
                view=target.errors_view,
            ):
                steps.append(Step(statement))
            steps.append(Step(rs.file_counts_sql(target.errors_view), "records read per object"))
            steps.append(Step(rs.drop_copy_table_sql(source)))
            steps.append(Step(
                "DELETE FROM staging.loaded_files WHERE path IN (:batch_objects)",
                "then INSERT one row per object of the batch into staging.loaded_files, and the running "
                "totals into staging.load_sources",
            ))
    songs_changed = any(source is SONGS for source, _, _ in inputs)
    steps += [Step(s) for s in rs.model_statements(songs_changed)]
    steps += [Step(s) for s in rs.commit_statements(":load_id", ":files", None)]
    return steps


def plan(url: str, songs: str | None, logs: str | None, *, max_errors: int = 0, full_refresh: bool = False,
         ) -> list[Step]:
    """The statements `sparkify etl` would run against `url`, without connecting to it."""
    if not songs and not logs:
        raise SparkifyError("give --songs PATH, --logs PATH, or both")
    scheme = warehouse_scheme(url)
    if scheme == "redshift":
        return _redshift_plan(url, _inputs_for_redshift(songs, logs), full_refresh, max_errors)
    inputs = _inputs(songs, logs)
    if scheme in ("duckdb", "postgresql"):
        return _embedded_plan(scheme, inputs, full_refresh)
    raise SparkifyError(f"warehouse {mask_secrets(url)!r}: unsupported kind {scheme!r}")


def _inputs_for_redshift(songs: str | None, logs: str | None) -> list[tuple[Source, str, list[SourceFile] | None]]:
    from sparkify.warehouse.redshift import require_s3_paths

    require_s3_paths(songs, logs)
    return _inputs(songs, logs)


def render(steps: Sequence[Step], url: str) -> str:
    """The plan as one SQL script: comments say when each part runs; every statement ends in `;`."""
    lines = [f"-- sparkify etl --dry-run: the SQL of a full load into {mask_secrets(url)}",
             "-- (nothing was connected to; :names are values known only during the load)", ""]
    last_comment = None
    for step in steps:
        if step.comment and step.comment != last_comment:
            lines.append(f"-- {step.comment}")
            last_comment = step.comment
        if step.sql.startswith("-- "):
            lines.append(step.sql)
        else:
            lines.append(step.sql.strip() + ";")
        lines.append("")
    return "\n".join(lines)
