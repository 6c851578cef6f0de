"""Amazon Redshift: the cluster (or Serverless workgroup) loads the JSON itself, in parallel,
straight from S3.

The statements are built in redshift_sql.py (literals, DDL, a load's life cycle) and
redshift_copy.py (a batch's COPY and its rejects), the URL and login in redshift_target.py; all are
importable from here too. Connects with psycopg: Redshift speaks the PostgreSQL protocol, and
psycopg can also be tested against a local PostgreSQL (redshift_connector cannot log in to
PostgreSQL 15's SCRAM).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from sparkify.config import mask_secrets, remember_secrets
from sparkify.errors import SparkifyError
from sparkify.inputs.s3 import object_lines
from sparkify.inputs.sources import BATCH_FILES, SourceFile
from sparkify.staging.records import decode_line
from sparkify.staging.tables import RAW_LIMIT, SOURCES, Source
from sparkify.warehouse.base import FileCounts, QueryResult, StageResult, Warehouse
from sparkify.warehouse.readonly import (SCRIPT_TRANSACTION, refuse_redshift_writes, refuse_script_transaction_control,
                                         run_read_only, split_script, statement_word)
from sparkify.warehouse.redshift_copy import *  # noqa: F403  (a batch's statements, importable from here as before)
from sparkify.warehouse.redshift_copy import (
    abort_statements, attribute_batch_rejects, drop_copy_table_sql, file_counts_sql, file_name_fits, guarded_rows_sql,
    jsonpaths, jsonpaths_uri, manifest, manifest_uri, raw_text_sql, rejected_counts_sql, require_s3_paths,
    stage_statements, unread_rejects_sql,
)
from sparkify.warehouse.redshift_sql import *  # noqa: F403  (the statements, importable from here as before)
from sparkify.warehouse.redshift_sql import (
    CURRENT_LOAD_SQL, DIALECT, LOADED_VERSIONS_SQL, NEXT_LOAD_SQL, NOW_SQL, SESSION_SQL, TABLES_EXIST_SQL,
    begin_statements, bind, commit_statements, create_statements, load_sources_sql, record_files_sql,
    refresh_statements,
)
from sparkify.warehouse.redshift_target import *  # noqa: F403  (the URL and login, importable from here)
from sparkify.warehouse.redshift_target import RedshiftTarget, find_login, parse_url
from sparkify.warehouse.sqlfiles import star_statements


#: How many slices the cluster has: a COPY spreads its objects over them (AWS documents the columns
#: node, slice, localslice and type). Serverless has no fixed slices and no STV tables.
SLICES_SQL = "SELECT COUNT(*) FROM stv_slices"


def copy_batch_files(slices: int | None) -> int:
    """Objects per COPY: the most that is a multiple of the slice count (AWS's loading best practice,
    so every slice gets as many objects), at most BATCH_FILES unless one slice round is more."""
    if not slices or slices < 1:
        return BATCH_FILES
    return max(slices, BATCH_FILES // slices * slices)


class RedshiftWarehouse(Warehouse):
    """A Redshift database reached with psycopg. Not run against a live cluster in the test suite."""

    dialect = DIALECT
    #: psycopg's parameter mark (repair.py inserts text_repairs rows with it).
    placeholder = "%s"
    #: The cluster reads the objects from S3 itself: the loader need not download them first.
    copies_from_s3 = True
    stages_by_file = False
    #: The cluster reads S3 itself, so bytes are no limit on a batch: one COPY with many objects
    #: is what AWS recommends (several COPYs into one table load one after another).
    batch_bytes = 2**62

    def __init__(self, url: str, *, read_only: bool = False) -> None:
        import psycopg

        self._psycopg = psycopg
        self.url = url
        self.target = parse_url(url)
        self.read_only = read_only
        self._batch = 0
        self._uploaded: set[str] = set()
        self._sources: dict[str, tuple[int, StageResult]] = {}
        self._attempted: dict[str, list[str]] = {}
        self._guarded: list[tuple[Any, ...]] = []
        self._regions: dict[str, str | None] = {}
        self._s3_client: Any = None
        login = find_login(self.target)
        password = self._password = login.password
        remember_secrets(password)  # masked in everything printed from now on, temporary or not
        try:
            self.con = self._connect(
                host=self.target.host, port=self.target.port, dbname=self.target.database,
                user=login.user, password=password, autocommit=True, application_name="sparkify",
                cursor_factory=psycopg.ClientCursor, connect_timeout=30,
                sslmode=os.environ.get("PGSSLMODE", "require"),
            )
        except psycopg.Error as exc:
            raise SparkifyError(f"cannot connect to {mask_secrets(url)!r} as {login.user} (password from {login.source}): "
                                f"{_first_line(exc, password)}") from None
        for statement in SESSION_SQL:
            self._run(statement)

    @classmethod
    def planned(cls, url: str, con: Any, *, target: RedshiftTarget) -> "RedshiftWarehouse":
        """This backend on a stand-in connection (the dry run's Recorder): nothing is connected,
        and the S3 documents it would write are noted in the plan instead."""
        self = cls.__new__(cls)
        self.url, self.target, self.read_only = url, target, False
        self._batch, self._uploaded, self._sources, self._attempted, self._guarded = 0, set(), {}, {}, []
        self._regions, self._s3_client = {}, None
        self.con, self._psycopg, self._password = con, _NoDriver, None
        self._upload = lambda uri, document: con.note(f"PUT {uri}: {json.dumps(document)}")  # type: ignore[method-assign]

        def copy_region(staging: str, uris: Sequence[str]) -> str | None:
            con.note("GetBucketLocation of the staging bucket and the batch's buckets: one COPY reads one region")
            return target.region

        self.copy_region = copy_region  # type: ignore[method-assign]
        return self

    def _connect(self, **params: Any) -> Any:
        """The one place a connection is opened (the tests' Redshift stand-in hooks in here)."""
        return self._psycopg.connect(**params)

    def _execute(self, sql: str) -> Any:
        """Every statement this backend sends goes through here, as plain text: values are already
        Redshift literals (see bind), so psycopg never quotes anything itself."""
        return self.con.execute(sql)

    def _run(self, sql: str) -> Any:
        try:
            return self._execute(sql)
        except self._psycopg.Error as exc:
            raise SparkifyError(f"Redshift: {_first_line(exc, self._password)}") from None

    def _needs(self) -> tuple[str, str]:
        if not self.target.iam_role or not self.target.staging:
            raise SparkifyError(
                "loading into Redshift needs iam_role= and staging=s3://BUCKET/PREFIX in the warehouse URL "
                "(`sparkify cluster up` prints it)"
            )
        return self.target.iam_role, self.target.staging

    def _s3(self) -> Any:
        if self._s3_client is None:
            import boto3

            self._s3_client = boto3.session.Session(region_name=self.target.region).client("s3")
        return self._s3_client

    def _upload(self, uri: str, document: dict[str, Any]) -> None:
        bucket, _, key = uri[5:].partition("/")
        try:
            self._s3().put_object(Bucket=bucket, Key=key, Body=json.dumps(document, indent=2).encode(),
                                  ContentType="application/json")
        except (BotoCoreError, ClientError) as exc:
            raise SparkifyError(f"cannot write {uri}: {exc}") from None

    def _bucket_region(self, bucket: str) -> str | None:
        """Where a bucket is (None when S3 will not say, e.g. no s3:GetBucketLocation)."""
        if bucket not in self._regions:
            try:
                where = self._s3().get_bucket_location(Bucket=bucket).get("LocationConstraint")
                self._regions[bucket] = {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(where, where)
            except (BotoCoreError, ClientError):
                self._regions[bucket] = None
        return self._regions[bucket]

    def copy_region(self, staging: str, uris: Sequence[str]) -> str | None:
        """The REGION of a batch's COPY: one COPY reads its manifest, JSONPaths file and objects from
        one region, so the staging bucket and the data's buckets must be in the same one."""
        buckets = [staging[5:].split("/", 1)[0]] + sorted({u[5:].split("/", 1)[0] for u in uris})
        found = {b: r for b in dict.fromkeys(buckets) if (r := self._bucket_region(b))}
        if len(set(found.values())) > 1:
            where = ", ".join(f"s3://{b} is in {r}" for b, r in found.items())
            raise SparkifyError(
                f"{where}: one Redshift COPY reads from one region; put the staging location (staging=) in a "
                "bucket of the data's region"
            )
        return next(iter(found.values()), None) or self.target.region

    # -- schema -------------------------------------------------------------------------------

    def tables_exist(self) -> bool:
        rows = self._run(TABLES_EXIST_SQL).fetchall()
        return rows[0][0] > 0

    def create_tables(self) -> None:
        self._run("BEGIN")
        try:
            for statement in create_statements():
                self._run(statement)
            self._run("COMMIT")
        except BaseException:
            self._execute("ROLLBACK")
            raise

    # -- loading ------------------------------------------------------------------------------

    def loaded_versions(self) -> dict[str, tuple[int, str]]:
        rows = self._run(LOADED_VERSIONS_SQL).fetchall()
        return {path: (size, modified) for path, size, modified in rows}

    def begin_load(self) -> int:
        self._needs()
        return self._started_load(begin_statements())

    def begin_refresh(self) -> int:
        """Drop and create every table inside the load's one transaction (refresh_statements)."""
        self._needs()
        exists = self.tables_exist()
        self._run("BEGIN")
        try:
            first = 1
            if exists:
                self._run("LOCK staging.loads")
                first = int(self._run(NEXT_LOAD_SQL).fetchall()[0][0])
            return self._started_load(refresh_statements(first))
        except BaseException:
            self._execute("ROLLBACK")
            raise

    def _started_load(self, statements: Sequence[str]) -> int:
        """Run a load's first statements; its id, and its start time for abort_load."""
        for statement in statements:
            self._run(statement)
        self._batch = 0
        self._sources = {}
        self._attempted = {}
        self._guarded = []
        if not self.target.serverless:
            rows = self._run(SLICES_SQL).fetchall()
            self.batch_files = copy_batch_files(int(rows[0][0]) if rows and isinstance(rows[0][0], int) else None)
        self._started = self._run(NOW_SQL).fetchall()[0][0]
        return self._run(CURRENT_LOAD_SQL).fetchall()[0][0]  # type: ignore[no-any-return]  (a Placeholder in the dry run)

    def stage(self, source: Source, files: Sequence[SourceFile], load_id: int) -> StageResult:
        iam_role, staging = self._needs()
        require_s3_paths(*(f.uri for f in files))
        for f in files:
            file_name_fits(f.uri)
        region_name = self.copy_region(staging, [f.uri for f in files])
        self._batch += 1
        batch_uri = manifest_uri(staging, load_id, source, self._batch)
        paths_uri = jsonpaths_uri(staging, source)
        if paths_uri not in self._uploaded:
            self._upload(paths_uri, jsonpaths(source))
            self._uploaded.add(paths_uri)
        self._upload(batch_uri, manifest([f.uri for f in files]))
        self._attempted.setdefault(source.name, []).extend(f.uri for f in files)
        for statement in stage_statements(
            source, load_id, batch_uri, iam_role=iam_role, region_name=region_name,
            jsonpaths=paths_uri, view=self.target.errors_view,
        ):
            self._run(statement)
        scanned = {name: int(n) for name, n in self._run(file_counts_sql(self.target.errors_view)).fetchall()}
        self._read_back_rejected_lines(load_id, source, [f.uri for f in files])
        rejected = dict(self._run(rejected_counts_sql(load_id, source, [f.uri for f in files])).fetchall())
        self._run(drop_copy_table_sql(source))
        result = StageResult()
        for f in files:
            records = scanned.get(f.uri, 0)
            bad = int(rejected.get(f.uri, 0))
            result.files.append(FileCounts(f, records, max(records - bad, 0), bad))
        guarded = self._run(guarded_rows_sql(load_id, batch_uri)).fetchall()  # (the dry run's: none)
        self._guarded += guarded
        attribute_batch_rejects(result.files, len(guarded))
        for statement in record_files_sql(source, load_id, result.files):
            self._run(statement)
        done_files, done = self._sources.get(source.name, (0, StageResult()))
        done = StageResult(done.files + result.files)
        self._sources[source.name] = (done_files + len(files), done)
        for statement in load_sources_sql(source, load_id, done_files + len(files), done):
            self._run(statement)
        return result

    def _read_back_rejected_lines(self, load_id: int, source: Source, uris: Sequence[str]) -> None:
        """On the SYS views (no raw_line), each rejected line's text, read back from its object,
        the way the other backends keep it. Where the tool's own credentials cannot read an object
        (COPY reads with the cluster's role), its rejects keep an empty raw_text."""
        if self.target.errors_view != "sys" or not uris:
            return
        wanted: dict[str, set[int]] = {}
        for uri, line in self._run(unread_rejects_sql(load_id, source, uris)).fetchall():
            wanted.setdefault(uri, set()).add(int(line))
        for uri, lines in wanted.items():
            try:
                found = object_lines(self._s3(), uri, lines)
            except SparkifyError:
                continue
            texts = {n: decode_line(n, line).raw[:RAW_LIMIT] for n, line in found.items()}
            for statement in raw_text_sql(load_id, uri, texts):
                self._run(statement)

    def build_star(self, songs_changed: bool) -> None:
        for _, statement in self.progress.building(star_statements(DIALECT, songs_changed)):
            self._run(statement)

    def commit_load(self, load_id: int, files: int, result: StageResult, checked: bool = False) -> None:
        # Redshift checks every row each load (scoped_checks is False): nothing to record.
        for statement in commit_statements(load_id, files, result):
            self._run(statement)

    def abort_load(self, load_id: int, message: str) -> None:
        """Roll back, then record the failed load and the rejects COPY logged in this session."""
        try:
            self._execute("ROLLBACK")
            started = getattr(self, "_started", None)
            for statement in abort_statements(load_id, message, None if started is None else str(started),
                                              self._attempted, self.target.errors_view, self._guarded):
                self._run(statement)
            for name, uris in self._attempted.items():
                self._read_back_rejected_lines(load_id, SOURCES[name], uris)
        except (SparkifyError, self._psycopg.Error):
            pass  # the connection is gone: Redshift rolled the load back; the caller reports why

    # -- querying -----------------------------------------------------------------------------

    def query(self, sql: str, params: Sequence[Any] = ()) -> QueryResult:
        """Read-only (`sql`, `check`, `report`, `query`): reads only, each statement alone through
        the extended protocol (parameters bound by the server, never as E'' text) in a rolled-back
        READ ONLY transaction, as on PostgreSQL. Otherwise as every statement of a load."""
        try:
            if self.read_only:
                refuse_redshift_writes(sql)
                return run_read_only(self.con, sql, params)
            cursor = self._execute(bind(sql, params) if params else sql)
        except self._psycopg.Error as exc:
            raise SparkifyError(f"SQL error: {_first_line(exc, self._password)}") from None
        return QueryResult.of(cursor)

    def run_script(self, sql: str) -> list[QueryResult]:
        """`sparkify sql`: each statement's result, in order. Read-only: reads only, each alone as
        query() runs them. With --write: one statement alone, or all in one transaction rolled back
        at the first error; TRUNCATE only alone, since it commits the transaction it runs in."""
        statements = split_script(sql)
        if not statements:
            raise SparkifyError("no SQL statement to run")
        try:
            if self.read_only:
                refuse_redshift_writes(sql)  # before anything runs
                return [run_read_only(self.con, statement) for statement in statements]
            if len(statements) == 1:
                return [QueryResult.of(self._execute(statements[0]))]
            refuse_script_transaction_control(statements)
            for statement in statements:
                if statement_word(statement) == "TRUNCATE":
                    raise SparkifyError(f"TRUNCATE: {SCRIPT_TRANSACTION}, and on Redshift TRUNCATE commits it; "
                                        "run it alone, or use DELETE")
            self._execute("BEGIN")
            try:
                results = [QueryResult.of(self._execute(statement)) for statement in statements]
            except BaseException:
                self._execute("ROLLBACK")
                raise
            self._execute("COMMIT")
            return results
        except self._psycopg.Error as exc:
            raise SparkifyError(f"SQL error: {mask_secrets(str(exc).strip() or type(exc).__name__, self._password)}"
                                ) from None

    def close(self) -> None:
        self.con.close()


class _NoDriver:
    """No database driver in the dry run: no driver error can be raised."""

    Error: tuple[type[BaseException], ...] = ()


def _first_line(exc: BaseException, password: str | None = None) -> str:
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return mask_secrets(line, password)
