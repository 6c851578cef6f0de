"""Amazon Redshift: the cluster loads the JSON itself, in parallel, straight from S3.

Everything this backend runs is built by the pure functions at the top of this module (tested
without a cluster: parsed with sqlglot's Redshift dialect, and printed by `sparkify etl --dry-run`).
A load: per batch, the tool writes a COPY manifest of the new or changed objects to the staging
prefix, COPYs them into a temp table with a JSONPaths file it wrote itself, moves the rows into
staging with the load's id, and copies COPY's rejects from stl_load_errors (or
sys_load_error_detail) into staging.load_errors. The star schema is then rebuilt by delete-insert
and MERGE on natural keys, in the load's one transaction.

Connects with psycopg: Redshift speaks the PostgreSQL protocol, and psycopg can also be tested
against a local PostgreSQL (redshift_connector cannot log in to PostgreSQL 15's SCRAM).
"""

from __future__ import annotations

import json
import os
import re
from functools import cache
from importlib import resources
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from botocore.exceptions import BotoCoreError, ClientError

from sparkify.config import mask_url
from sparkify.errors import SparkifyError
from sparkify.inputs.sources import SourceFile
from sparkify.warehouse.sqlfiles import MATCHES_VIEW, model_statements as rendered_model, read_sql, split_statements, star_statements
from sparkify.staging.tables import SOURCES, Source
from sparkify.warehouse.base import FileCounts, QueryResult, StageResult, Warehouse

DIALECT = "redshift"
PASSWORD_ENVS = ("SPARKIFY_REDSHIFT_PASSWORD", "PGPASSWORD")
STAGING_ENV = "SPARKIFY_STAGING_URI"
SEARCH_PATH = "analytics, staging, public"
#: Redshift's own limit for MAXERROR.
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

_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
_S3_URI = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^'\\\x00-\x1f]*)?$")
_PLACEHOLDER = re.compile(r"^:[a-z_]+$")


# -- target ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RedshiftTarget:
    """What a `redshift://user@host:5439/db?iam_role=…&region=…&staging=s3://…` URL says."""

    user: str
    host: str
    port: int
    database: str
    iam_role: str | None
    region: str | None
    staging: str | None
    errors_view: str = "stl"  # "stl" (provisioned) or "sys" (also Serverless)

    @property
    def cluster_id(self) -> str:
        return self.host.split(".", 1)[0]


def parse_url(url: str) -> RedshiftTarget:
    parts = urlsplit(url)
    if parts.scheme != "redshift" or not parts.hostname:
        raise SparkifyError(f"warehouse {mask_url(url)!r}: expected redshift://user@host:5439/db?iam_role=…")
    if parts.password:
        raise SparkifyError(
            "put the Redshift password in $SPARKIFY_REDSHIFT_PASSWORD (or let `sparkify cluster up` keep it "
            "in Secrets Manager), not in the warehouse URL"
        )
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    unknown = sorted(set(query) - {"iam_role", "region", "staging", "errors"})
    if unknown:
        raise SparkifyError(f"warehouse URL: unknown option(s) {', '.join(unknown)} "
                            "(known: iam_role, region, staging, errors)")
    target = RedshiftTarget(
        user=unquote(parts.username or "awsuser"),
        host=parts.hostname,
        port=parts.port or 5439,
        database=unquote(parts.path.lstrip("/")) or "dev",
        iam_role=query.get("iam_role"),
        region=query.get("region"),
        staging=(query.get("staging") or os.environ.get(STAGING_ENV, "")).rstrip("/") or None,
        errors_view=query.get("errors", "stl"),
    )
    if target.iam_role is not None:
        role_arn(target.iam_role)
    if target.region is not None:
        region(target.region)
    if target.staging is not None:
        s3_uri(target.staging, "staging")
    if target.errors_view not in ("stl", "sys"):
        raise SparkifyError("warehouse URL: errors= must be stl (provisioned clusters) or sys (also Serverless)")
    return target


@cache
def reserved_words() -> frozenset[str]:
    """AWS's published list of Redshift reserved words (sql/redshift/reserved_words.txt)."""
    text = (resources.files("sparkify") / "sql" / "redshift" / "reserved_words.txt").read_text(encoding="utf-8")
    return frozenset(w for line in text.splitlines() if not line.startswith("#") for w in line.split())


# -- validated values and literals -----------------------------------------------------------------


def role_arn(value: str) -> str:
    if not _ROLE_ARN.match(value):
        raise SparkifyError(f"{value!r} is not an IAM role ARN (arn:aws:iam::123456789012:role/NAME)")
    return value


def region(value: str) -> str:
    if not _REGION.match(value):
        raise SparkifyError(f"{value!r} is not an AWS region like us-west-2")
    return value


def s3_uri(value: str, what: str = "path") -> str:
    if not _S3_URI.match(value):
        raise SparkifyError(f"{what}: {value!r} is not an s3://bucket/key URI Redshift can COPY from")
    return value


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
    return f"copy_{source.name}"


def copy_sql(
    source: Source,
    from_uri: str,
    *,
    iam_role: str,
    region_name: str | None,
    jsonpaths: str,
    max_errors: int,
    is_manifest: bool = True,
) -> str:
    """COPY one batch into the source's temp table, JSON mapped by our JSONPaths file.

    BLANKSASNULL/EMPTYASNULL: a "" field loads as NULL (userId "" stays '' — it is VARCHAR and the
    models test `user_id <> ''`, so NULL also drops out). MAXERROR lets up to --max-errors records be
    rejected into stl_load_errors instead of failing the COPY. COMPUPDATE/STATUPDATE OFF: the
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
        f"MAXERROR {min(max(int(max_errors), 0), MAXERROR_LIMIT)}",
        "COMPUPDATE OFF STATUPDATE OFF",
    ]
    return f"COPY {copy_table(source)} ({columns})\n" + "\n".join(options)


def copy_table_ddl(source: Source) -> str:
    columns = ", ".join(f"{f.column} {column_type(source, f.column)}" for f in source.fields)
    return f"CREATE TEMP TABLE {copy_table(source)} ({columns})"


_ORDER = {"events": "ts, session_id, item_in_session", "songs": "song_id"}


def insert_staged_sql(source: Source, load_id: int | str, batch_uri: str) -> str:
    """Rows of the COPY into staging. COPY cannot say which object a row came from, so
    source_file is the batch's manifest; source_line numbers the rows within the batch."""
    columns = ", ".join(f.column for f in source.fields)
    return (
        f"INSERT INTO staging.{source.table} (load_id, source_file, source_line, {columns})\n"
        f"SELECT {_int(load_id)}, {literal(batch_uri)}, row_number() OVER (ORDER BY {_ORDER[source.name]}), "
        f"{columns}\nFROM {copy_table(source)}"
    )


def load_errors_sql(load_id: int | str, source: Source, view: str = "stl", where: str | None = None) -> str:
    """COPY's rejects into staging.load_errors, shaped like the other backends' rejects.

    `where` defaults to the last COPY of this session; abort_load uses the session instead,
    because a COPY that failed has no pg_last_copy_id().
    """
    if view == "sys":
        where = where or "query_id = pg_last_copy_id()"
        # sys_load_error_detail documents no raw_line: the record's text is not known there.
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
    max_errors: int,
    view: str = "stl",
) -> list[str]:
    """Everything one batch runs, in order (the counts query and the temp-table drop follow)."""
    return [
        f"DROP TABLE IF EXISTS {copy_table(source)}",
        copy_table_ddl(source),
        copy_sql(source, batch_uri, iam_role=iam_role, region_name=region_name, jsonpaths=jsonpaths,
                 max_errors=max_errors),
        insert_staged_sql(source, load_id, batch_uri),
        load_errors_sql(load_id, source, view),
    ]


def begin_statements(load_id_sql: str = "(SELECT COALESCE(MAX(load_id), 0) + 1 FROM staging.loads)") -> list[str]:
    """A load's start: one `sparkify etl` at a time (the lock), load_id = MAX + 1."""
    return [
        "BEGIN",
        "LOCK staging.loads",
        f"INSERT INTO staging.loads (load_id, started_at, status) SELECT {load_id_sql}, GETDATE(), 'running'",
    ]


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


def rejected_counts_sql(load_id: int | str, source: Source, uris: Sequence[str]) -> str:
    listed = ", ".join(literal(u) for u in uris)
    return (f"SELECT file, count(*) FROM staging.load_errors WHERE load_id = {_int(load_id)} "
            f"AND source = {literal(source.name)} AND file IN ({listed}) GROUP BY file")


def abort_statements(load_id: int, message: str, started: str | None, attempted: dict[str, list[str]],
                     view: str = "stl") -> list[str]:
    """After ROLLBACK: record the failed load, and the rejects COPY logged for its objects in this
    session (system tables outlive the rollback; a failed COPY has no pg_last_copy_id())."""
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


# -- the live warehouse -----------------------------------------------------------------------------


def find_password(target: RedshiftTarget, environ: dict[str, str] | None = None) -> str:
    """The password: $SPARKIFY_REDSHIFT_PASSWORD / $PGPASSWORD, else the secret `cluster up` stored."""
    environ = dict(os.environ) if environ is None else environ
    for name in PASSWORD_ENVS:
        if environ.get(name):
            return environ[name]
    secret = f"sparkify/redshift/{target.cluster_id}"
    try:
        import boto3

        client = boto3.session.Session(region_name=target.region).client("secretsmanager")
        return json.loads(client.get_secret_value(SecretId=secret)["SecretString"])["password"]
    except (ImportError, BotoCoreError, ClientError, KeyError, ValueError):
        raise SparkifyError(
            f"no Redshift password: set $SPARKIFY_REDSHIFT_PASSWORD, or keep it in Secrets Manager as {secret}"
        ) from None


class RedshiftWarehouse(Warehouse):
    """A Redshift database reached with psycopg. Not run against a live cluster in the test suite."""

    dialect = DIALECT
    #: psycopg's parameter mark (repair.py inserts text_repairs rows with it).
    placeholder = "%s"
    #: The cluster reads the objects from S3 itself: the loader need not download them first.
    copies_from_s3 = True

    def __init__(self, url: str, *, read_only: bool = False, max_errors: int = 0) -> None:
        import psycopg

        self._psycopg = psycopg
        self.url = url
        self.target = parse_url(url)
        self.max_errors = max_errors
        self.read_only = read_only
        self._batch = 0
        self._uploaded: set[str] = set()
        self._sources: dict[str, tuple[int, StageResult]] = {}
        self._attempted: dict[str, list[str]] = {}
        self._regions: dict[str, str | None] = {}
        self._s3_client: Any = None
        password = find_password(self.target)
        self._password = password
        try:
            self.con = self._connect(
                host=self.target.host, port=self.target.port, dbname=self.target.database,
                user=self.target.user, password=password, autocommit=True, application_name="sparkify",
                cursor_factory=psycopg.ClientCursor, connect_timeout=30,
                sslmode=os.environ.get("PGSSLMODE", "require"),
            )
        except psycopg.Error as exc:
            raise SparkifyError(f"cannot connect to {mask_url(url)!r}: {_first_line(exc, password)}") from None
        for statement in SESSION_SQL:
            self._run(statement)

    def _connect(self, **params: Any) -> Any:
        """The one place a connection is opened (the tests' Redshift stand-in hooks in here)."""
        return self._psycopg.connect(**params)

    def _execute(self, sql: str) -> Any:
        """Every statement this backend sends goes through here, as plain text: values are already
        Redshift literals (see bind), so psycopg never quotes anything itself."""
        return self.con.execute(sql)

    @classmethod
    def planned(cls, url: str, con: Any, *, target: RedshiftTarget, max_errors: int = 0) -> "RedshiftWarehouse":
        """This backend on a stand-in connection (the dry run's Recorder): nothing is connected,
        and the S3 documents it would write are noted in the plan instead."""
        self = cls.__new__(cls)
        self.url, self.target, self.max_errors, self.read_only = url, target, max_errors, False
        self._batch, self._uploaded, self._sources, self._attempted = 0, set(), {}, {}
        self.con, self._psycopg, self._password = con, _NoDriver, None
        self._upload = lambda uri, document: con.note(f"PUT {uri}: {json.dumps(document)}")  # type: ignore[method-assign]
        return self

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
        for statement in begin_statements():
            self._run(statement)
        self._batch = 0
        self._sources = {}
        self._attempted = {}
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
            jsonpaths=paths_uri, max_errors=self.max_errors, view=self.target.errors_view,
        ):
            self._run(statement)
        scanned = {name: int(n) for name, n in self._run(file_counts_sql(self.target.errors_view)).fetchall()}
        rejected = dict(self._run(rejected_counts_sql(load_id, source, [f.uri for f in files])).fetchall())
        self._run(drop_copy_table_sql(source))
        result = StageResult()
        for f in files:
            records = scanned.get(f.uri, 0)
            bad = int(rejected.get(f.uri, 0))
            result.files.append(FileCounts(f, records, max(records - bad, 0), bad))
        for statement in record_files_sql(source, load_id, result.files):
            self._run(statement)
        done_files, done = self._sources.get(source.name, (0, StageResult()))
        done = StageResult(done.files + result.files)
        self._sources[source.name] = (done_files + len(files), done)
        for statement in load_sources_sql(source, load_id, done_files + len(files), done):
            self._run(statement)
        return result

    def build_star(self, songs_changed: bool) -> None:
        for statement in model_statements(songs_changed):
            self._run(statement)

    def commit_load(self, load_id: int, files: int, result: StageResult) -> None:
        for statement in commit_statements(load_id, files, result):
            self._run(statement)

    def abort_load(self, load_id: int, message: str) -> None:
        """Roll back, then record the failed load and the rejects COPY logged in this session."""
        try:
            self._execute("ROLLBACK")
            started = getattr(self, "_started", None)
            for statement in abort_statements(load_id, message, None if started is None else str(started),
                                              self._attempted, self.target.errors_view):
                self._run(statement)
        except (SparkifyError, self._psycopg.Error):
            pass  # the connection is gone: Redshift rolled the load back; the caller reports why

    # -- querying -----------------------------------------------------------------------------

    def query(self, sql: str, params: Sequence[Any] = ()) -> QueryResult:
        try:
            cursor = self._execute(bind(sql, params) if params else sql)
        except self._psycopg.Error as exc:
            raise SparkifyError(f"SQL error: {_first_line(exc, self._password)}") from None
        if cursor.description is None:
            return QueryResult([], [])
        return QueryResult([d.name for d in cursor.description], cursor.fetchall())

    def close(self) -> None:
        self.con.close()


class _NoDriver:
    """No database driver in the dry run: no driver error can be raised."""

    Error: tuple[type[BaseException], ...] = ()


def _first_line(exc: BaseException, password: str | None = None) -> str:
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return line.replace(password, "***") if password else line
