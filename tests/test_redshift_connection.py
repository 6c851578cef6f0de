"""RedshiftWarehouse's connection path against the local PostgreSQL: the client encoding Redshift
reports (UNICODE), a UTC session whatever the client's time zone, and values with backslashes sent
as Redshift literals (no E'…'), read back exactly."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest

from sparkify.warehouse.redshift import RedshiftWarehouse
from tests.redshift_checks import e_literals
from tests.test_cluster import aws, moto_endpoint  # noqa: F401  (fixtures: moto on loopback)


class Recording(RedshiftWarehouse):
    """The real backend, remembering every statement it sends."""

    def __init__(self, url: str) -> None:
        self.sent: list[str] = []
        super().__init__(url)

    def _execute(self, sql: str) -> Any:
        self.sent.append(sql)
        return super()._execute(sql)


@pytest.fixture
def database(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str]]:
    """(postgresql:// URL, the same database as a redshift:// URL), with Redshift's literal rules:
    a backslash in a string literal is an escape (standard_conforming_strings off)."""
    from tests.pg import fresh_database

    with fresh_database("sparkify_rs_conn") as url:
        parts = urlsplit(url)
        with psycopg.connect(url, autocommit=True) as con:
            con.execute(f'ALTER DATABASE "{parts.path.lstrip("/")}" SET standard_conforming_strings = off')
        monkeypatch.setenv("SPARKIFY_REDSHIFT_PASSWORD", parts.password or "not-needed-by-trust-auth")
        monkeypatch.setenv("PGSSLMODE", "disable")
        yield url, f"redshift://{parts.username}@{parts.hostname}:{parts.port or 5432}{parts.path}"


def test_psycopg_decodes_redshifts_client_encoding() -> None:
    from psycopg._encodings import pg2pyenc

    assert pg2pyenc(b"UNICODE") == "utf-8"


def test_connects_with_client_encoding_unicode(database: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGCLIENTENCODING", "UNICODE")
    warehouse = RedshiftWarehouse(database[1])
    try:
        # PostgreSQL, like Redshift, reports the name the client asked for, and psycopg decodes it
        assert warehouse.query("SHOW client_encoding").rows == [("UNICODE",)]
        assert warehouse.con.info.encoding == "utf-8"
        assert warehouse.query("SELECT 'Björk – Jóga'").rows == [("Björk – Jóga",)]
    finally:
        warehouse.close()


def test_the_session_is_utc_whatever_the_client_says(database: tuple[str, str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGTZ", "America/Los_Angeles")
    with psycopg.connect(database[0]) as plain:
        assert plain.execute("SHOW timezone").fetchone() == ("America/Los_Angeles",)
    warehouse = Recording(database[1])
    try:
        assert warehouse.query("SHOW timezone").rows == [("UTC",)]
        assert warehouse.sent[:2] == ["SET search_path TO analytics, staging, public", "SET timezone TO 'UTC'"]
    finally:
        warehouse.close()


def test_backslashes_travel_as_redshift_literals(database: tuple[str, str]) -> None:
    values = ["AC\\DC", "C:\\new\\table", "it's \\'quoted\\'", "\\x41", "ends with \\"]
    warehouse = Recording(database[1])
    try:
        warehouse.query("CREATE TABLE public.repairs (n INTEGER, raw_text VARCHAR(100))")
        for n, value in enumerate(values):
            warehouse.query("INSERT INTO public.repairs (n, raw_text) VALUES (%s, %s)", (n, value))
        assert [r[0] for r in warehouse.query("SELECT raw_text FROM public.repairs ORDER BY n").rows] == values
    finally:
        warehouse.close()
    assert [s for s in warehouse.sent if e_literals(s)] == []
    with psycopg.connect(database[0]) as plain:  # stored exactly, as another client reads it
        assert [r[0] for r in plain.execute("SELECT raw_text FROM public.repairs ORDER BY n")] == values


def test_one_copy_reads_one_region(aws: dict[str, str], database: tuple[str, str]) -> None:
    """The COPY's REGION is where the staging bucket and the data are; buckets in two regions are
    refused with one line before anything is written."""
    import boto3

    from sparkify.errors import SparkifyError

    for bucket, region in (("data-west", "us-west-2"), ("staging-west", "us-west-2"), ("data-east", "us-east-1"),
                           ("data-eu", "eu-west-1")):
        s3 = boto3.session.Session(region_name=region).client("s3")
        extra = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        s3.create_bucket(Bucket=bucket, **extra)
    warehouse = RedshiftWarehouse(database[1])
    try:
        assert warehouse.copy_region("s3://staging-west/sparkify", ["s3://data-west/log_data/a.json"]) == "us-west-2"
        with pytest.raises(SparkifyError) as refused:
            warehouse.copy_region("s3://staging-west/sparkify", ["s3://data-west/a.json", "s3://data-eu/b.json"])
        message = str(refused.value)
        assert "s3://data-eu is in eu-west-1" in message and "s3://staging-west is in us-west-2" in message
        assert "\n" not in message
        assert warehouse.copy_region("s3://data-east/stage", ["s3://data-east/x.json"]) == "us-east-1"
        # a bucket S3 will not place (no such bucket, no permission) leaves the URL's region=
        assert warehouse.copy_region("s3://no-such-bucket/p", ["s3://no-such-bucket/x.json"]) is None
    finally:
        warehouse.close()


def test_a_userid_that_is_no_id_is_rejected_per_record(database: tuple[str, str]) -> None:
    """The staging step's guard, run on PostgreSQL: records whose userId would abort the models'
    CAST(user_id AS BIGINT) go to load_errors with DuckDB's column and reason; the rest are staged,
    and the CAST the models run then succeeds."""
    from sparkify.staging.tables import EVENTS
    from sparkify.warehouse import redshift as rs
    from sparkify.warehouse.postgres import PostgresWarehouse

    PostgresWarehouse(database[0]).create_tables()
    batch = "s3://my-staging/sparkify/manifests/load-1/events-0001.manifest"
    ids = ["39", "", None, "abc", "12x", "99999999999999999999", "9223372036854775807", "9223372036854775808", "007"]
    with psycopg.connect(database[0], autocommit=True) as con:
        con.execute("BEGIN")
        con.execute(rs.copy_table_ddl(EVENTS))
        for n, user_id in enumerate(ids):
            con.execute(f'INSERT INTO "#copy_events" (ts, session_id, item_in_session, page, user_id) '
                        "VALUES (%s, 1, 0, 'NextSong', %s)", (1541105830796 + n, user_id))
        con.execute(rs.insert_staged_sql(EVENTS, 1, batch))
        con.execute(rs.guarded_rejects_sql(EVENTS, 1, batch) or "")
        staged = sorted((r[0] for r in con.execute("SELECT user_id FROM staging.staging_events")), key=str)
        rejects = con.execute('SELECT file, line, "column", reason FROM staging.load_errors ORDER BY line').fetchall()
        kept = con.execute(rs.guarded_rows_sql(1, batch)).fetchall()
        assert [(source, line) for source, _, line, *_ in kept] == [("events", n) for n in (4, 5, 6, 8)]
        assert con.execute("SELECT count(CAST(user_id AS BIGINT)) FROM staging.staging_events "
                           "WHERE user_id <> ''").fetchone() == (3,)
        con.execute("ROLLBACK")
    assert staged == sorted(["39", "", None, "9223372036854775807", "007"], key=str)
    assert [(f, line, c) for f, line, c, _ in rejects] == [(batch, 4, "userId"), (batch, 5, "userId"),
                                                         (batch, 6, "userId"), (batch, 8, "userId")]
    assert rejects[0][3] == "userId: expected a string of digits, got abc"


def test_batch_rejects_are_counted_against_the_batch() -> None:
    from sparkify.inputs.sources import SourceFile
    from sparkify.warehouse.base import FileCounts, StageResult
    from sparkify.warehouse.redshift import attribute_batch_rejects

    counts = [FileCounts(SourceFile(f"s3://b/{n}.json", 1, "e"), records, records, 0) for n, records in enumerate((2, 5))]
    attribute_batch_rejects(counts, 3)
    assert [(c.rows, c.rejected) for c in counts] == [(0, 2), (4, 1)]
    total = StageResult(counts)
    assert (total.records, total.rows, total.rejected) == (7, 4, 3)
