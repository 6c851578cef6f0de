"""The Redshift stand-in itself (tests/redshift_standin): it refuses what AWS documents Redshift
refuses, its system views and functions behave as documented, and its COPY reads JSON from S3
(moto on loopback) the way Redshift's does. The etl through it is tests/test_redshift_etl.py."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest
from sqlglot.dialects.redshift import Redshift

from tests.redshift_standin import rules
from tests.redshift_standin.copy import Copy, Number, convert, Column, parse_jsonpath, records
from tests.redshift_standin.fixtures import DATA, ROLE, aws, aws_env, cloud, moto_endpoint, standin  # noqa: F401
from tests.redshift_standin.standin import Standin

# -- what is refused -------------------------------------------------------------------------


def test_the_reserved_words_are_awss_list_and_sqlglots() -> None:
    sqlglots = {w.strip().upper() for w in Redshift.Generator.RESERVED_KEYWORDS}
    assert len(rules.RESERVED) == 156 and {"RAW", "TAG", "OPEN", "WALLET", "PIVOT", "UNNEST"} <= rules.RESERVED
    assert sqlglots - rules.RESERVED == {"TYPE"} and not rules.RESERVED - sqlglots


@pytest.mark.parametrize(("statement", "reason"), [
    ("CREATE TABLE staging.text_repairs (raw VARCHAR(65535), fixed VARCHAR(65535))", "RAW is a Redshift reserved"),
    ("SELECT e.raw FROM staging.load_errors AS e", "RAW is a Redshift reserved"),
    ("INSERT INTO t (tag, n) SELECT open, 1 FROM x", "TAG is a Redshift reserved"),
    ("SELECT 1 FROM t AS start", "START as a bare table alias"),
    ("LOCK staging.raw", "RAW is a Redshift reserved"),
    ("COPY copy_events (artist, raw) FROM 's3://b/m' IAM_ROLE 'r' FORMAT AS JSON 's3://b/p'", "RAW is a Redshift"),
    ("INSERT INTO t VALUES ( E'a\\\\b')", "E'' escape-string literal"),
    ("SELECT e'x', U&'d\\0061t'", "E'' escape-string literal"),
    ("SELECT a IS DISTINCT FROM b FROM t", "IS [NOT] DISTINCT FROM"),
    ("INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING", "ON CONFLICT"),
    ("SELECT DISTINCT ON (a) a FROM t", "DISTINCT ON"),
    ("SELECT string_agg(a, ',') FROM t", "STRING_AGG()"),
    ("SELECT * FROM generate_series(1, 3)", "GENERATE_SERIES()"),
    ("SELECT count(*) FILTER (WHERE a) FROM t", "FILTER"),
    ("SELECT sum(a) OVER (PARTITION BY b ORDER BY c) FROM t", "explicit frame clause"),
    ("SELECT * FROM (VALUES (1), (2)) AS v (a)", "VALUES list"),
    ("MERGE INTO t USING (SELECT 1 AS a) AS s ON t.a = s.a WHEN MATCHED THEN DELETE "
     "WHEN NOT MATCHED THEN INSERT (a) VALUES (s.a)", "source must be a table"),
    ("MERGE INTO t USING s ON t.a = s.a WHEN NOT MATCHED THEN INSERT (a) VALUES (s.a)", "exactly one WHEN MATCHED"),
    ("CREATE TABLE t (title VARCHAR(70000))", "longer than Redshift's VARCHAR(65535)"),
    (f"CREATE TABLE t ({'n' * 128} BIGINT)", "longer than Redshift's 127 bytes"),
    ("SELECT '" + "x" * (16 * 1024 * 1024) + "'", "16 MB statement limit"),
])
def test_what_redshift_refuses(statement: str, reason: str) -> None:
    problems = rules.check(statement)
    assert any(reason in p for p in problems), problems


@pytest.mark.parametrize("statement", [
    'CREATE TABLE staging.text_repairs ("raw" VARCHAR(65535), raw_text VARCHAR(65535)) DISTSTYLE ALL',
    "INSERT INTO t VALUES ('it\\'s', 'a\\\\b', 'E''x', 'e')",  # backslash escapes, no E prefix
    "SELECT sum(a) OVER (PARTITION BY b ORDER BY c ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW), "
    "row_number() OVER (ORDER BY c), lag(a) OVER (ORDER BY c) FROM t",
    "MERGE INTO t USING s ON t.a = s.a WHEN MATCHED THEN UPDATE SET b = s.b WHEN NOT MATCHED THEN INSERT (a, b) "
    "VALUES (s.a, s.b)",
    "SET search_path TO analytics, staging, public",
    "SELECT type, format FROM t WHERE note = 'raw tag open E''x''' -- raw in a comment",
])
def test_what_redshift_accepts(statement: str) -> None:
    assert rules.check(statement) == []


def test_literals_are_read_the_redshift_way() -> None:
    """A backslash escapes the next character in a Redshift literal, so 'it\\'s' is one string."""
    assert [p.kind for p in rules.lex("SELECT 'it\\'s', \"a\"\"b\" -- c\n")] == ["code", "string", "code", "ident",
                                                                                 "code", "comment", "code"]
    assert rules.split("BEGIN; SELECT ';'; ") == ["BEGIN", " SELECT ';'"]


def test_redshift_physical_clauses_are_stripped_for_postgresql() -> None:
    ddl = ("CREATE TABLE analytics.songplays (songplay_id BIGINT, song_id VARCHAR(256))\n"
           "DISTSTYLE KEY DISTKEY(song_id) COMPOUND SORTKEY(start_time, song_id)")
    assert " ".join(rules.to_postgres(ddl).split()) == ("CREATE TABLE analytics.songplays (songplay_id BIGINT, "
                                                       "song_id VARCHAR(256) CHECK (octet_length(song_id) <= 256))")
    assert rules.to_postgres("SELECT 'DISTSTYLE ALL'") == "SELECT 'DISTSTYLE ALL'"
    # Redshift's text types: TEXT is VARCHAR(256), and lengths count bytes
    assert " ".join(rules.to_postgres("CREATE TABLE t (a TEXT, b VARCHAR(MAX) NOT NULL)").split()) == \
        ("CREATE TABLE t (a VARCHAR(256) CHECK (octet_length(a) <= 256), "
         "b VARCHAR(65535) CHECK (octet_length(b) <= 65535) NOT NULL)")


# -- COPY's reading of JSON ---------------------------------------------------------------------


def test_root_objects_are_records_whatever_the_line_breaks() -> None:
    found = list(records('{"a": 1} {"a": 2}\n{\n  "a": 3\n}\nnot json\n[4]\n"text"\n'))
    assert [(r.value, r.line, bool(r.error)) for r in found] == [
        ({"a": "1"}, 1, False), ({"a": "2"}, 1, False), ({"a": "3"}, 4, False), (None, 5, True), (["4"], 6, False),
        (None, 7, True)]


def test_jsonpaths_in_bracket_and_dot_notation() -> None:
    assert parse_jsonpath("$['a']['b'][0]") == parse_jsonpath("$.a.b[0]") == ["a", "b", 0]
    for bad in ("$..a", "$['a'].b", "$[*]", "a"):
        with pytest.raises(Exception, match="Invalid JSONPath"):
            parse_jsonpath(bad)


@pytest.mark.parametrize(("value", "pg_type", "expected"), [
    (Number("39"), "bigint", 39), ("39", "bigint", 39), ("", "bigint", None),
    (Number("1540919166796.0"), "bigint", 1207), ("abc", "bigint", 1207),
    (Number("9223372036854775808"), "bigint", 1204),
    (Number("1.5e3"), "double precision", 1500.0), ("x", "double precision", 1208),
    ("", "character varying(256)", None), ("  ", "character varying(256)", None),
    ("é" * 129, "character varying(256)", 1204),
    (Number("7"), "character varying(256)", "7"), ({"k": [1]}, "character varying(256)", '{"k":[1]}'),
])
def test_values_convert_as_redshift_documents(value: Any, pg_type: str, expected: Any) -> None:
    copy = Copy("t", [], "s3://b/k", empty_as_null=True, blanks_as_null=True)
    got = convert(value, Column("c", pg_type), copy)
    assert (got.code if hasattr(got, "code") else got) == expected


def test_maxerror_fails_at_that_many_errors() -> None:
    """AWS: "If the load returns the error_count number of errors or greater, the load fails";
    0 and 1 both fail at the first error."""
    assert [Copy("t", [], "s", max_error=n).fails(e) for n, e in ((0, 0), (0, 1), (1, 1), (3, 2), (3, 3))] == \
        [False, True, True, False, True]


# -- the stand-in in front of PostgreSQL ----------------------------------------------------------


def _put(standin: Standin, key: str, body: bytes) -> str:
    aws("s3", standin.s3_endpoint).put_object(Bucket=DATA, Key=key, Body=body)
    return f"s3://{DATA}/{key}"


def _copy_sql(manifest: str, paths: str, max_error: int = 0, region: str = "us-west-2") -> str:
    return (f"COPY t (n, name) FROM '{manifest}' IAM_ROLE '{ROLE}' REGION '{region}' MANIFEST "
            f"FORMAT AS JSON '{paths}' BLANKSASNULL EMPTYASNULL MAXERROR {max_error} COMPUPDATE OFF STATUPDATE OFF")


@pytest.fixture
def batch(standin: Standin) -> tuple[str, str, str]:
    """Two objects (one with a long key), a manifest naming both, and a JSONPaths file."""
    long_key = "standin/" + "x" * 300 + ".json"
    first = _put(standin, "standin/a.json", b'{"n": 1, "name": "one"}\n{"n": "oops", "name": "two"}\n'
                                            b'{"n": 3,\n "name": "three"} {"n": 4, "name": ""}\n')
    second = _put(standin, long_key, b'{"n": 5, "name": "five"}\nnot json\n')
    manifest = _put(standin, "standin/batch.manifest",
                    json.dumps({"entries": [{"url": u, "mandatory": True} for u in (first, second)]}).encode())
    paths = _put(standin, "standin/paths.json", json.dumps({"jsonpaths": ["$['n']", "$['name']"]}).encode())
    return manifest, paths, second


def test_copy_loads_the_manifest_and_logs_rejects_that_outlive_the_transaction(
        standin: Standin, batch: tuple[str, str, str]) -> None:
    manifest, paths, long_uri = batch
    with standin.connect() as con:
        assert con.execute("SELECT pg_last_copy_id()").fetchone() == (-1,)
        con.execute("BEGIN")
        con.execute("CREATE TEMP TABLE t (n BIGINT, name VARCHAR(16))")
        assert con.execute(_copy_sql(manifest, paths, max_error=3)).rowcount == 4
        loaded = sorted(con.execute("SELECT n, name FROM t").fetchall())
        assert loaded == [(1, "one"), (3, "three"), (4, None), (5, "five")]
        query = con.execute("SELECT pg_last_copy_id()").fetchone()[0]  # type: ignore[index]
        assert sorted(con.execute("SELECT TRIM(filename), lines_scanned, errors FROM stl_load_commits "
                                  "WHERE query = pg_last_copy_id()").fetchall()) == \
            sorted([(f"s3://{DATA}/standin/a.json", 4, 1), (long_uri[:256], 2, 1)])
        con.execute("ROLLBACK")
        # system tables keep the COPY's rows; file names are CHAR(256): a longer URI is cut
        rejects = con.execute("SELECT TRIM(filename), line_number, TRIM(colname), err_code FROM stl_load_errors "
                              "WHERE query = %s ORDER BY err_code", [query]).fetchall()
        assert rejects == [(f"s3://{DATA}/standin/a.json", 2, "n", 1207), (long_uri[:256], 2, "", 1224)]
        assert con.execute("SELECT count(*) FROM sys_load_error_detail WHERE query_id = %s", [query]).fetchone() == (2,)
    with standin.connect() as other:  # pg_last_copy_id() is per session
        assert other.execute("SELECT pg_last_copy_id()").fetchone() == (-1,)
    standin.assert_accepted()


def test_copy_fails_at_maxerror_and_on_the_wrong_region_or_role(standin: Standin, batch: tuple[str, str, str]) -> None:
    manifest, paths, _ = batch
    aws("s3", standin.s3_endpoint, "eu-west-1").create_bucket(
        Bucket="elsewhere", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    with standin.connect() as con:
        con.execute("CREATE TABLE t (n BIGINT, name VARCHAR(16))")
        for sql, message in [
            (_copy_sql(manifest, paths, max_error=2), "Load into table 't' failed.  Check 'stl_load_errors'"),
            (_copy_sql(manifest, paths, max_error=3, region="eu-west-1"), "different region from this cluster"),
            (_copy_sql(manifest, paths, 3).replace(ROLE, ROLE + "-missing"), "not authorized to assume IAM Role"),
            (_copy_sql(manifest, paths.replace("paths", "missing"), 3), "NoSuchKey"),
        ]:
            with pytest.raises(psycopg.Error, match=message):
                con.execute(sql)
        assert con.execute("SELECT count(*) FROM t").fetchone() == (0,)
        # SYS_LOAD_ERROR_DETAIL has no raw_line (issue 12 item 3)
        with pytest.raises(psycopg.errors.UndefinedColumn):
            con.execute("SELECT raw_line FROM sys_load_error_detail")
    standin.assert_accepted()


def test_a_refused_statement_fails_like_redshift_and_is_recorded(standin: Standin) -> None:
    with standin.connect() as con:
        con.execute("BEGIN")
        con.execute("CREATE TABLE t (n BIGINT) DISTSTYLE EVEN SORTKEY(n)")
        with pytest.raises(psycopg.errors.SyntaxError, match="RAW is a Redshift reserved word"):
            con.execute("CREATE TABLE u (raw VARCHAR(10))")
        with pytest.raises(psycopg.errors.InFailedSqlTransaction):  # the transaction is aborted
            con.execute("SELECT 1")
        con.execute("ROLLBACK")
        # psycopg's client-side quoting writes E'…' for a value with a backslash (issue 12 item 5)
        with pytest.raises(psycopg.errors.SyntaxError, match="E'' escape-string literal"):
            con.execute("SELECT %s", ["C:\\music"])
        # literals read as Redshift reads them: a backslash escapes
        assert con.execute("SELECT 'a\\\\b', 'it\\'s'").fetchone() == ("a\\b", "it's")
    assert [r.reasons[0].split(" ")[0] for r in standin.refused] == ["RAW", "E'C:\\\\music'…:"]
    standin.refused.clear()
    standin.assert_accepted()


def test_varchar_counts_bytes_and_the_server_reports_unicode(standin: Standin) -> None:
    with standin.connect() as con:
        # Redshift reports client_encoding UNICODE (issue 12 item 2: psycopg >= 3.3.5 decodes it)
        assert con.info.parameter_status("client_encoding") == "UNICODE"
        con.execute("CREATE TABLE t (name VARCHAR(4))")
        con.execute("INSERT INTO t VALUES ('éé')")  # 4 bytes
        with pytest.raises(psycopg.errors.CheckViolation):
            con.execute("INSERT INTO t VALUES ('ééé')")  # 3 characters, 6 bytes
        assert con.execute("SELECT name FROM t").fetchall() == [("éé",)]
    standin.assert_accepted()


NOW = "SELECT getdate(), (now() AT TIME ZONE 'UTC')::timestamp(0)"


def test_truncate_commits_the_transaction_and_getdate_follows_the_session_time_zone(standin: Standin) -> None:
    with standin.connect() as con:
        con.execute("CREATE TABLE t (n BIGINT)")
        con.execute("INSERT INTO t VALUES (1)")
        con.execute("BEGIN")
        con.execute("INSERT INTO t VALUES (2)")
        con.execute("TRUNCATE t")
        con.execute("INSERT INTO t VALUES (3)")
        con.execute("ROLLBACK")
        assert con.execute("SELECT n FROM t").fetchall() == [(3,)]  # TRUNCATE committed; 3 went in on its own
        # the test database's default time zone is not UTC, as a user's can be (ALTER USER … SET timezone)
        assert con.execute("SHOW TimeZone").fetchone() == ("Asia/Tokyo",)
        local, utc = con.execute(NOW).fetchone()  # type: ignore[misc]
        assert 8 * 3600 < (local - utc).total_seconds() < 10 * 3600
        con.execute("SET TIME ZONE 'UTC'")
        local, utc = con.execute(NOW).fetchone()  # type: ignore[misc]
        assert abs((local - utc).total_seconds()) < 5
    standin.assert_accepted()
