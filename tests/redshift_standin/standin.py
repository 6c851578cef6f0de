"""The strict Redshift stand-in: a wire-protocol relay in front of a fresh PostgreSQL database that
refuses what Redshift refuses and runs COPY from S3 (moto on loopback) the way Redshift does.

The relay reports client_encoding UNICODE, as Redshift does. Every statement a client sends is
checked (rules.py); a refused one becomes a real server error
naming the reason and the statement, so the session's transaction aborts as it would on Redshift,
and it is recorded in `Standin.refused` (a test asserts that list is empty). A COPY … FROM 's3://…'
is run by the stand-in itself (copy.py), in the client's own session and transaction. TRUNCATE
inside a transaction commits it first, as Redshift's does (simple and extended protocol alike).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import psycopg
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.redshift_standin import rules
from tests.redshift_standin.copy import (Column, Copy, CopyError, NotEmulated, Reject, apply, convert, field_text,
                                         parse_copy, parse_jsonpath, records)
from tests.redshift_standin.wire import HANDLED, Relay, Server, command_complete, notice, ready

CATALOG = Path(__file__).with_name("catalog.sql")
#: Session settings of the test database. Redshift string literals take backslash escapes
#: (standard_conforming_strings off). The time zone models a user whose default is not UTC
#: (ALTER USER … SET timezone): the tool must set UTC itself to compare with STL/SYS times.
SETTINGS = {"standard_conforming_strings": "off", "escape_string_warning": "off", "TimeZone": "Asia/Tokyo"}
INSERT_BATCH = 500
BOTO_CONFIG = Config(retries={"max_attempts": 10, "mode": "standard"}, read_timeout=300, connect_timeout=30)
#: What Redshift reports that PostgreSQL does not: client_encoding UNICODE (issue 12 item 2).
PARAMETERS = {"client_encoding": "UNICODE"}


@dataclass
class Refusal:
    statement: str
    reasons: list[str]

    def __str__(self) -> str:
        return "; ".join(self.reasons) + "\n    in: " + self.statement


@dataclass
class Standin:
    """A running stand-in; `url()` is the redshift:// URL the tool is given."""

    database_url: str
    s3_endpoint: str
    region: str = "us-west-2"
    statements: list[str] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    copies: list[Copy] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)
    parameters: dict[str, str] = field(default_factory=lambda: dict(PARAMETERS))
    _server: Server | None = None
    _aux: psycopg.Connection[Any] | None = None
    _aux_lock: threading.RLock = field(default_factory=threading.RLock)

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> None:
        name = urlsplit(self.database_url).path.lstrip("/")
        with psycopg.connect(self.database_url, autocommit=True) as con:
            con.execute(CATALOG.read_text())
            for setting, value in SETTINGS.items():
                con.execute(f'ALTER DATABASE "{name}" SET {setting} = \'{value}\'')
        self._aux = psycopg.connect(self.database_url, autocommit=True)
        parts = urlsplit(self.database_url)
        self._server = Server((parts.hostname or "127.0.0.1", parts.port or 5432), self)
        self._server.start()

    def stop(self) -> None:
        if self._server:
            self._server.stop()
        with self._aux_lock:  # never under a relay thread still logging on it
            if self._aux:
                self._aux.close()

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.port

    def url(self, iam_role: str | None = None, staging: str | None = None, **options: str) -> str:
        parts = urlsplit(self.database_url)
        query = {"iam_role": iam_role, "region": self.region, "staging": staging, **options}
        text = "&".join(f"{k}={v}" for k, v in query.items() if v)
        user = parts.username or "postgres"
        return f"redshift://{user}@127.0.0.1:{self.port}{parts.path}" + (f"?{text}" if text else "")

    def connect(self) -> psycopg.Connection[Any]:
        """A psycopg connection through the stand-in, made as RedshiftWarehouse makes its own."""
        parts = urlsplit(self.database_url)
        return psycopg.connect(host="127.0.0.1", port=self.port, dbname=parts.path.lstrip("/"),
                               user=parts.username or "postgres", autocommit=True, sslmode="disable",
                               cursor_factory=psycopg.ClientCursor)

    def assert_accepted(self) -> None:
        """Fail, naming each statement, if Redshift would have refused anything the tool sent
        (also what the tool's own error handling may have swallowed)."""
        assert not self.crashes, "the stand-in itself failed:\n" + "\n".join(self.crashes)
        assert not self.refused, "Redshift would refuse:\n" + "\n".join(str(r) for r in self.refused)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        """Rows read straight from PostgreSQL (not through the stand-in): for the tests' own checks."""
        with self._own() as aux:
            return aux.execute(sql).fetchall()

    # -- the relay's hooks -------------------------------------------------------------------

    def on_query(self, relay: Relay, sql: str) -> object:
        self.statements.append(sql)
        problems = [p for statement in rules.split(sql)
                    for p in rules.check(statement, lambda name: self._relkind(relay, name))]
        if problems:
            return self._refuse(sql, problems)
        if re.match(r"\s*COPY\b", rules.masked(sql), re.IGNORECASE):
            # in an aborted transaction the server answers "current transaction is aborted" itself
            return "SELECT 1" if relay.status == b"E" else self._copy(relay, sql)
        if re.match(r"\s*TRUNCATE\b", rules.masked(sql), re.IGNORECASE) and relay.status == b"T":
            return "COMMIT; " + sql
        translated = rules.to_postgres(sql)
        return translated if translated != sql else None

    def on_parse(self, relay: Relay, sql: str) -> str | None:
        self.statements.append(sql)
        problems = rules.check(sql)
        if problems:
            self.refused.append(Refusal(sql, problems))
            return _message(Refusal(sql, problems))
        if re.match(r"\s*TRUNCATE\b", rules.masked(sql), re.IGNORECASE) and relay.status == b"T":
            relay.run("COMMIT")  # through the extended protocol too, TRUNCATE commits first
        return None

    def on_close(self, relay: Relay) -> None:
        if relay.pid:
            try:
                with self._own() as aux:
                    aux.execute("DELETE FROM standin.last_copy WHERE session = %s", [relay.pid])
            except psycopg.Error:
                pass  # the stand-in is stopped, or the test database is being dropped

    def on_crash(self, relay: Relay, error: BaseException) -> None:
        self.crashes.append("".join(traceback.format_exception(error)))

    def _refuse(self, sql: str, reasons: list[str], code: str = "42601") -> str:
        """What Redshift would refuse (or the stand-in cannot emulate): recorded, and an error."""
        refusal = Refusal(sql, reasons)
        self.refused.append(refusal)
        return _fail(code, _message(refusal))

    @contextmanager
    def _own(self) -> Iterator[psycopg.Connection[Any]]:
        """The stand-in's own connection, for one user at a time. Relay threads log COPYs on it, and
        stop() must never close it under one of them: libpq would free the socket mid-call, and the
        descriptor, soon another connection's (the next test's DROP DATABASE, say), would be read
        and written by that thread."""
        with self._aux_lock:
            if self._aux is None or self._aux.closed:
                raise psycopg.OperationalError("the Redshift stand-in is stopped")
            yield self._aux

    def _relkind(self, relay: Relay, name: str) -> str | None:
        result = relay.run(f"SELECT relkind FROM pg_class WHERE oid = to_regclass($n${name}$n$)")
        return result.rows[0][0] if result.rows and not result.error else None

    # -- COPY -----------------------------------------------------------------------------

    def _copy(self, relay: Relay, sql: str) -> object:
        try:
            copy = parse_copy(sql)
            columns, table_id = self._columns(relay, copy)
            files, paths = self._read_s3(copy)
            if len(paths) != len(columns):
                raise CopyError(f"Number of jsonpaths and the number of columns should match. JSONPath size: "
                                f"{len(paths)}, Number of columns in table or column list: {len(columns)}")
            loaded, rejects, scanned = self._convert(copy, files, paths, columns)
        except CopyError as exc:
            return _fail("XX000", str(exc))
        except NotEmulated as exc:
            return self._refuse(sql, [f"the stand-in does not emulate this: {exc}"], "0A000")
        copy.objects = len(files)
        self.copies.append(copy)
        started = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        query = self._log_rejects(relay, copy, table_id, rejects, started)
        if copy.fails(len(rejects)):
            return _fail("XX000", f"Load into table '{copy.table}' failed.  Check 'stl_load_errors' system table "
                                  "for details.")
        for i in range(0, len(loaded), INSERT_BATCH):
            values = ",\n".join("(" + ", ".join(_literal(v) for v in row) + ")" for row in loaded[i:i + INSERT_BATCH])
            result = relay.run(f"INSERT INTO {copy.table} ({', '.join(c.name for c in columns)}) VALUES {values}")
            if result.error:
                relay.reply(result.error_raw, ready(relay.status))
                return HANDLED
        self._log_commits(relay, copy, query, scanned, started)
        messages = [notice(f"Load into table '{copy.table}' completed, {len(loaded)} record(s) loaded successfully.")]
        if rejects:
            messages.append(notice(f"Load into table '{copy.table}' completed, {len(rejects)} record(s) could not be "
                                   "loaded.  Check 'stl_load_errors' system table for details."))
        relay.reply(*messages, command_complete(f"COPY {len(loaded)}"), ready(relay.status))
        return HANDLED

    def _columns(self, relay: Relay, copy: Copy) -> tuple[list[Column], int]:
        result = relay.run(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attrelid::bigint "
            f"FROM pg_attribute a WHERE a.attrelid = to_regclass($n${copy.table}$n$) AND a.attnum > 0 "
            "AND NOT a.attisdropped ORDER BY a.attnum"
        )
        if result.error or not result.rows:
            raise CopyError(f'relation "{copy.table}" does not exist')
        table = {name: Column(name, pg_type, flag == "t") for name, pg_type, flag, _ in result.rows}
        unknown = [c for c in copy.columns if c not in table]
        if unknown:
            raise CopyError(f'column "{unknown[0]}" of relation "{copy.table}" does not exist')
        return [table[c] for c in copy.columns] or list(table.values()), int(result.rows[0][3]) % 2**31

    def _client(self, service: str) -> Any:
        # moto runs in the test process: on a loaded machine it can be slow to answer, never absent
        return boto3.client(service, endpoint_url=self.s3_endpoint, region_name=self.region,
                            aws_access_key_id="testing", aws_secret_access_key="testing", config=BOTO_CONFIG)

    def _read_s3(self, copy: Copy) -> tuple[list[tuple[str, bytes]], list[list[str | int]]]:
        """The objects the COPY names and its JSONPaths, read as the cluster reads them: with the
        IAM role (it must exist), from buckets in the cluster's region (or the COPY's REGION)."""
        iam, s3 = self._client("iam"), self._client("s3")
        role = copy.iam_role or ""
        try:
            if iam.get_role(RoleName=role.rsplit("/", 1)[-1])["Role"]["Arn"] != role:
                raise CopyError(f"User is not authorized to assume IAM Role {role}")
        except ClientError:
            raise CopyError(f"User is not authorized to assume IAM Role {role}") from None
        where = copy.region or self.region

        def get(uri: str) -> bytes:
            bucket, _, key = uri.removeprefix("s3://").partition("/")
            try:
                location = s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] or "us-east-1"
                if location != where:
                    raise CopyError("S3ServiceException:The S3 bucket addressed by the query is in a different region "
                                    f"from this cluster.,Status 301,Error PermanentRedirect ({bucket}: {location})")
                return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                raise CopyError(f"S3ServiceException:{code} for {uri}") from None

        if copy.manifest:
            try:
                entries = json.loads(get(copy.source))["entries"]
                wanted = [(e["url"], bool(e.get("mandatory", False))) for e in entries]
            except (ValueError, KeyError, TypeError):
                raise CopyError(f"Manifest file is not in correct json format: {copy.source}") from None
            files = []
            for uri, mandatory in wanted:
                try:
                    files.append((uri, get(uri)))
                except CopyError:
                    if mandatory:
                        raise
        else:
            bucket, _, prefix = copy.source.removeprefix("s3://").partition("/")
            keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
                    for o in page.get("Contents", [])]
            files = [(f"s3://{bucket}/{k}", get(f"s3://{bucket}/{k}")) for k in keys]
            if not files:
                raise CopyError(f"The specified S3 prefix '{prefix}' does not exist")
        try:
            document = json.loads(get(copy.jsonpaths or ""))
        except ValueError:
            raise CopyError(f"Invalid JSONPath format: {copy.jsonpaths} is not JSON") from None
        if not isinstance(document, dict) or not isinstance(document.get("jsonpaths"), list):
            raise NotEmulated("a JSONPaths file without \"jsonpaths\" (Redshift then uses 'auto')")
        return files, [parse_jsonpath(str(p)) for p in document["jsonpaths"]]

    @staticmethod
    def _convert(copy: Copy, files: list[tuple[str, bytes]], paths: list[list[str | int]], columns: list[Column]
                 ) -> tuple[list[list[Any]], list[tuple[str, Any, Reject]], list[tuple[str, int, int, int]]]:
        loaded: list[list[Any]] = []
        rejects: list[tuple[str, Any, Reject]] = []
        scanned = []
        for uri, body in files:
            count = errors = 0
            for record in records(body.decode("utf-8", "surrogateescape")):
                count += 1
                if record.error:
                    rejects.append((uri, record, Reject(1224, record.error)))
                    errors += 1
                    continue
                row = []
                for steps, column in zip(paths, columns):
                    value = convert(apply(steps, record.value), column, copy)
                    if isinstance(value, Reject):
                        rejects.append((uri, record, value))
                        errors += 1
                        break
                    row.append(value)
                else:
                    loaded.append(row)
            scanned.append((uri, len(body), count, errors))
        return loaded, rejects, scanned

    def _log_rejects(self, relay: Relay, copy: Copy, table_id: int, rejects: list[tuple[str, Any, Reject]],
                     started: dt.datetime) -> int:
        """Rejects into STL_LOAD_ERRORS and SYS_LOAD_ERROR_DETAIL, from the stand-in's own connection
        (they outlive the COPY's transaction, as Redshift's system tables do)."""
        with self._own() as aux:
            query = int(aux.execute("SELECT nextval('standin.query_ids')").fetchone()[0])  # type: ignore[index]
            user = self._userid(relay)
            database = relay.params.get("database", "")
            stl, sys = [], []
            for uri, record, reject in rejects:
                column = reject.column
                name, kind = (column.name, column.kind) if column else ("", "")
                length = str(column.length) if column and column.length else ""
                stl.append((user, 0, table_id, started, relay.pid, query, _fit(uri, 256), record.line,
                            _fit(name, 127), kind, length, 0, _fit(_ascii(record.text), 1024),
                            _fit(_ascii(reject.value), 1024), reject.code, _fit(reject.reason, 100), 0, 0, 0))
                sys.append((user, query, 0, relay.pid, _fit(database, 64), table_id, started, _fit(uri, 256),
                            record.line, _fit(name, 127), kind, length, 0, reject.code, _fit(reject.reason, 512)))
            with aux.cursor() as cursor:
                cursor.executemany(f"INSERT INTO stl_load_errors VALUES ({', '.join(['%s'] * 19)})", stl)
                cursor.executemany(f"INSERT INTO sys_load_error_detail VALUES ({', '.join(['%s'] * 15)})", sys)
        return query

    def _log_commits(self, relay: Relay, copy: Copy, query: int, scanned: list[tuple[str, int, int, int]],
                     started: dt.datetime) -> None:
        user, now = self._userid(relay), dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        with self._own() as aux, aux.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO stl_load_commits VALUES (%s, %s, 0, %s, %s, 0, %s, %s, %s, 1, 'JSON', 0, 0, 0)",
                [(user, query, _fit(copy.table, 256), _fit(uri, 256), lines, errors, now)
                 for uri, _, lines, errors in scanned])
            cursor.executemany(
                "INSERT INTO sys_load_detail VALUES (%s, %s, %s, %s, %s, %s, 1, %s, %s, '', NULL)",
                [(user, query, _fit(uri, 256), size, lines, now, started, now) for uri, size, lines, _ in scanned])
            cursor.execute("INSERT INTO standin.last_copy VALUES (%s, %s) ON CONFLICT (session) DO UPDATE "
                           "SET query = EXCLUDED.query", [relay.pid, query])

    def _userid(self, relay: Relay) -> int:
        user = relay.params.get("user")
        with self._own() as aux:
            row = aux.execute("SELECT usesysid FROM pg_user WHERE usename = %s", [user]).fetchone()
        return int(row[0]) if row else 0


def _message(refusal: Refusal) -> str:
    """One line: the reasons, then the statement (whitespace collapsed)."""
    statement = " ".join(refusal.statement.split())
    return f"Redshift stand-in refused: {'; '.join(refusal.reasons)} | in: {statement[:600]}"


def _fail(code: str, message: str) -> str:
    """SQL that makes the server itself fail with this error (so the transaction aborts)."""
    return f"SELECT standin.refuse('{code}', $standin${message.replace('$standin$', '$ standin $')}$standin$)"


def _fit(text: str, size: int) -> str:
    """CHAR(n) in Redshift counts bytes: cut at n bytes, never inside a character."""
    return text.encode("utf-8", "replace")[:size].decode("utf-8", "ignore")


def _ascii(text: str) -> str:
    """raw_line / raw_field_value: "Multibyte characters in the load data are replaced with a period"."""
    return "".join(c if " " <= c < "\x7f" or c in "\t\n" else "." for c in text)


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    text = field_text(value)
    return "E'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


@contextmanager
def running(database_url: str, s3_endpoint: str, region: str = "us-west-2") -> Iterator[Standin]:
    standin = Standin(database_url, s3_endpoint, region)
    standin.start()
    try:
        yield standin
    finally:
        standin.stop()
