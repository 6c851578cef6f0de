"""Redshift SQL without a cluster: every statement the tool can emit parses with sqlglot's Redshift
dialect; the DDL carries the distribution/sort keys and widths; COPY carries its options; the
Redshift models build the same star schema as the other backends (run on PostgreSQL, Redshift's
ancestor, as a stand-in)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlglot
from sqlglot import exp

from sparkify.answers.checks import check_sql, load_checks
from sparkify.warehouse import repair
from sparkify.errors import SparkifyError
from sparkify.inputs.sources import SourceFile
from sparkify.warehouse.sqlfiles import model_statements
from sparkify.staging.tables import EVENTS, SONGS, SOURCES
from sparkify.warehouse import redshift as rs
from sparkify.warehouse.base import FileCounts, QueryResult, StageResult

ROLE = "arn:aws:iam::123456789012:role/sparkify-redshift-s3-read"
STAGING = "s3://my-staging/sparkify"
URL = ("redshift://awsuser@sparkify.abc123.us-west-2.redshift.amazonaws.com:5439/sparkify"
       f"?iam_role={ROLE}&region=us-west-2&staging={STAGING}")


def repair_statements() -> list[str]:
    """What repair.repair_new_text runs on Redshift: the candidates query, then one INSERT per
    repaired value (parameters bound as Redshift literals by rs.bind, as RedshiftWarehouse sends them)."""
    ran: list[str] = []

    class Recorder:
        dialect = rs.RedshiftWarehouse.dialect
        placeholder = rs.RedshiftWarehouse.placeholder

        def query(self, sql: str, params: tuple[object, ...] = ()) -> QueryResult:
            ran.append(rs.bind(sql, params) if params else sql)  # what RedshiftWarehouse.query sends
            return QueryResult(["raw_text"], [] if params else [("BjÃ\x83Â¶rk",), ("Don\x19t Stop",), ("AC\\DC Ã©",)])

    assert repair.repair_new_text(Recorder(), 7) == 3  # type: ignore[arg-type]
    return ran


def every_statement() -> list[str]:
    """Every statement RedshiftWarehouse can run, for each source and error view."""
    statements = rs.create_statements() + rs.model_statements(True) + rs.model_statements(False)
    statements += repair_statements()
    statements += rs.begin_statements() + rs.refresh_statements(7) + [rs.NEXT_LOAD_SQL]
    statements += [*rs.SESSION_SQL, rs.TABLES_EXIST_SQL, rs.LOADED_VERSIONS_SQL, rs.NOW_SQL, rs.CURRENT_LOAD_SQL, rs.SLICES_SQL]
    files = [SourceFile("s3://udacity-dend/log_data/2018/11/2018-11-01-events.json", 10, '"etag"')]
    counts = [FileCounts(files[0], 5, 4, 1)]
    for source in SOURCES.values():
        for view in ("stl", "sys"):
            batch = rs.manifest_uri(STAGING, 7, source, 1)
            statements += rs.stage_statements(source, 7, batch, iam_role=ROLE, region_name="us-west-2",
                                              jsonpaths=rs.jsonpaths_uri(STAGING, source), view=view)
            statements.append(rs.file_counts_sql(view))
            statements += rs.abort_statements(7, "it's broken", "2026-11-24 05:00:00",
                                              {source.name: [f.uri for f in files]}, view,
                                              [(source.name, batch, 3, "userId", "userId: … got a\\b'", None)])
        statements.append(rs.drop_copy_table_sql(source))
        statements.append(rs.rejected_counts_sql(7, source, [f.uri for f in files]))
        statements.append(rs.unread_rejects_sql(7, source, [f.uri for f in files]))
        statements += rs.raw_text_sql(7, files[0].uri, {3: "not JSON \\ 'q' é", 9: "x"})
        statements += rs.record_files_sql(source, 7, counts)
        statements += rs.load_sources_sql(source, 7, 1, StageResult(counts))
    statements += rs.commit_statements(7, 1, StageResult(counts))
    # the built-in checks, as written for Redshift over every row and over a load's window
    statements += [check_sql(c.sql, "redshift", since) for c in load_checks("redshift")
                   for since in (None, 1543622400123)]
    return statements


#: Statements sqlglot keeps as an opaque Command (no grammar for LOCK, nor for SET with a list);
#: both are written exactly as Redshift's documentation spells them.
OPAQUE = {"LOCK staging.loads", rs.SEARCH_PATH_SQL}


@pytest.mark.parametrize("statement", every_statement())
def test_every_statement_parses_as_redshift(statement: str) -> None:
    parsed = sqlglot.parse(statement, read="redshift", error_level=sqlglot.ErrorLevel.RAISE)
    assert len(parsed) == 1
    if statement not in OPAQUE:
        assert not isinstance(parsed[0], exp.Command), f"sqlglot could not parse, fell back to Command:\n{statement}"


DUCKDB_ONLY = [r"\bepoch_ms\s*\(", r"(?<!B)TRIM\s*\([^)]*,\s*'", r"IS\s+(NOT\s+)?DISTINCT\s+FROM", r"INSERT\s+OR\s+REPLACE",
               r"\bunnest\s*\(", r"::", r"\bread_json", r"\bnextval\s*\(", r"CREATE\s+SEQUENCE", r"\bstrftime\s*\(",
               r"\bjson_extract\s*\(", r"\bnow\s*\(\)", r"\bregexp_matches\s*\("]


def test_no_duckdb_or_postgresql_only_syntax() -> None:
    for statement in every_statement():
        code = re.sub(r"'(?:[^']|'')*'", "''", statement)  # not inside string literals (ARNs have ::)
        for pattern in DUCKDB_ONLY:
            assert not re.search(pattern, code, re.IGNORECASE), f"{pattern} in:\n{statement}"


def _create(table: str) -> exp.Create:
    for statement in rs.create_statements():
        parsed = sqlglot.parse_one(statement, read="redshift")
        if isinstance(parsed, exp.Create) and parsed.kind == "TABLE" and parsed.this.this.sql() == table:
            return parsed
    raise AssertionError(f"no CREATE TABLE {table}")


def _properties(table: str) -> dict[str, str]:
    props = _create(table).find(exp.Properties)
    assert props is not None, table
    return {type(p).__name__: p.sql("redshift") for p in props.expressions}


def test_text_repairs_table_is_wide_and_on_every_node() -> None:
    """staging.text_repairs holds raw and repaired values of the widest text columns."""
    create = _create("staging.text_repairs")
    columns = {c.name: c for c in create.find_all(exp.ColumnDef)}
    assert set(columns) == {"raw_text", "fixed"}
    for column in columns.values():
        assert column.args["kind"].sql("redshift") == "VARCHAR(65535)"
        assert any(isinstance(c.kind, exp.NotNullColumnConstraint) for c in column.constraints)
    assert _properties("staging.text_repairs")["DistStyleProperty"] == "DISTSTYLE ALL"
    # dropped with its schema (CASCADE), before the tables are created again
    drops = [s for s in rs.create_statements() if s.startswith("DROP")]
    assert "DROP SCHEMA IF EXISTS staging CASCADE" in drops


def test_redshift_models_look_up_the_text_repairs() -> None:
    """The same columns as the other backends go through COALESCE(repair.fixed, value): the
    Redshift models are the shared ones, written in Redshift's SQL."""
    repaired = {"songs": ["title", "artist_name"], "artists": ["artist_name", "artist_location"], "users": ["first_name", "last_name"],
                "songplays": ["location"]}
    for model, columns in repaired.items():
        text = " ".join(" ".join(model_statements(model, rs.DIALECT)).split())
        for column in columns:
            assert re.search(rf"COALESCE\(\w+\.fixed, \w+\.{column}\)", text), (model, column)
            assert re.search(rf"LEFT JOIN staging\.text_repairs AS \w+ ON \w+\.raw_text = \w+\.{column}\b", text), \
                (model, column)
    # song matching (the staging.song_matches view Redshift creates) compares repaired text
    view = next(s for s in rs.create_statements() if "VIEW staging.song_matches" in s)
    text = " ".join(view.split())
    assert "s.title = NULLIF(TRIM(COALESCE(rs.fixed, e.song)), '')" in text
    assert "s.artist_name = NULLIF(TRIM(COALESCE(ra.fixed, e.artist)), '')" in text


def test_redshift_finds_suspect_text_without_backslash_escapes() -> None:
    """Redshift's `~` documents no \\xNN escape and its literals eat backslashes, so its pattern spells
    every suspect character out; it is the same class as the DuckDB/PostgreSQL pattern."""
    sql = repair.candidates_sql("redshift", 7)
    assert "\\" not in sql and "\x00" not in sql
    assert f"~ '{repair.SUSPECT_LITERAL}'" in sql
    assert repair.SUSPECT == "[\\x01-\\x1f\\x7f-\\x9fÃÂâ]"  # DuckDB and PostgreSQL: unchanged
    assert repair.candidates_sql("postgresql", 7) == sql.replace(repair.SUSPECT_LITERAL, repair.SUSPECT)
    for code in range(0x2FF):
        char = chr(code)
        assert bool(re.search(repair.SUSPECT_LITERAL, char)) == bool(re.search(repair.SUSPECT, char)), hex(code)
    # no duplicates without an enforced key: each value once (UNION), and only if not yet repaired
    assert " UNION " in sql and " UNION ALL " not in sql
    assert sql.endswith("WHERE raw_text NOT IN (SELECT raw_text FROM staging.text_repairs) ORDER BY raw_text")


def test_songplays_is_distributed_and_sorted_as_designed() -> None:
    props = _properties("analytics.songplays")
    assert props["DistStyleProperty"] == "DISTSTYLE KEY"
    assert props["DistKeyProperty"] == "DISTKEY(start_time)"
    assert props["SortKeyProperty"] == "COMPOUND SORTKEY(start_time)"
    # co-located with the time dimension it joins on
    assert _properties('analytics."time"')["DistKeyProperty"] == "DISTKEY(start_time)"


def test_songplays_distkey_does_not_skew_on_the_real_sample(sample_warehouse: str) -> None:
    """Most real plays match no song: a song_id key would put them all on one slice; start_time
    repeats at most a couple of times, so its rows spread evenly."""
    import duckdb

    with duckdb.connect(sample_warehouse, read_only=True) as con:
        plays, unmatched, busiest = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE song_id IS NULL), "
            "(SELECT max(n) FROM (SELECT count(*) AS n FROM analytics.songplays GROUP BY start_time)) "
            "FROM analytics.songplays").fetchone()
    assert plays == 6820 and unmatched / plays > 0.9  # NULL song_id: one slice would hold > 90% of the rows
    assert busiest <= 3  # the most common start_time: a handful of rows


def test_songs_are_spread_on_their_own_key() -> None:
    props = _properties("analytics.songs")
    assert props["DistStyleProperty"] == "DISTSTYLE KEY" and props["DistKeyProperty"] == "DISTKEY(song_id)"


@pytest.mark.parametrize("table", ["analytics.artists", "analytics.users"])
def test_small_dimensions_are_on_every_node(table: str) -> None:
    assert _properties(table)["DistStyleProperty"] == "DISTSTYLE ALL"


def test_time_is_sorted_on_start_time() -> None:
    assert _properties('analytics."time"')["SortKeyProperty"] == "SORTKEY(start_time)"


def test_no_column_level_keys() -> None:
    """sqlglot cannot parse column-level DISTKEY/SORTKEY, so every key is declared on the table."""
    for statement in rs.create_statements():
        for line in statement.splitlines():
            if re.match(r"^\s+\w+\s+\w+.*\b(DISTKEY|SORTKEY)\b", line):
                raise AssertionError(f"column-level key: {line}")


def _widths(table: str) -> dict[str, int]:
    widths = {}
    for column in _create(table).find_all(exp.ColumnDef):
        kind = column.args.get("kind")
        if kind is not None and kind.this in (exp.DataType.Type.VARCHAR,):
            size = kind.expressions[0].sql() if kind.expressions else "256"
            widths[column.name] = 65535 if size.upper() == "MAX" else int(size)
    return widths


def test_text_is_wide_enough_for_the_real_data() -> None:
    """VARCHAR(n) counts bytes: ~180-character titles and names of multi-byte (and doubly
    mis-encoded) UTF-8 need several times that; free text gets Redshift's maximum."""
    need = 180 * 4
    songs, artists, plays = _widths("analytics.songs"), _widths("analytics.artists"), _widths("analytics.songplays")
    assert songs["title"] >= need
    assert artists["name"] >= need and artists["location"] >= need
    assert plays["location"] >= need and plays["user_agent"] >= need
    for source in SOURCES.values():
        for f in source.fields:
            if f.type == "text":
                assert rs.column_type(source, f.column) == "VARCHAR(65535)"


def test_copy_has_the_designed_options() -> None:
    sql = rs.copy_sql(EVENTS, rs.manifest_uri(STAGING, 3, EVENTS, 2), iam_role=ROLE, region_name="us-west-2",
                      jsonpaths=rs.jsonpaths_uri(STAGING, EVENTS))
    parsed = sqlglot.parse_one(sql, read="redshift")
    assert isinstance(parsed, exp.Copy)
    assert parsed.args["files"][0].name == f"{STAGING}/manifests/load-3/events-0002.manifest"
    credentials = parsed.args["credentials"]
    assert credentials.args["iam_role"].name == ROLE and credentials.args["region"].name == "us-west-2"
    text = " ".join(sql.split())
    for option in ("MANIFEST", f"FORMAT AS JSON '{STAGING}/jsonpaths/events_jsonpaths.json'", "BLANKSASNULL",
                   "EMPTYASNULL", "MAXERROR 100000", "COMPUPDATE OFF", "STATUPDATE OFF"):
        assert option in text
    assert "TRUNCATECOLUMNS" not in text  # nothing is truncated silently: too long is a reject


def test_copy_rejects_up_to_redshifts_limit_and_the_load_applies_max_errors() -> None:
    """COPY fails at MAXERROR rejects: with --max-errors there, a batch would fail before its
    rejects are counted and kept. Every COPY allows Redshift's maximum instead."""
    sql = rs.copy_sql(SONGS, f"{STAGING}/m.manifest", iam_role=ROLE, region_name=None,
                      jsonpaths=rs.jsonpaths_uri(STAGING, SONGS))
    assert f"MAXERROR {rs.MAXERROR_LIMIT}\n" in sql and rs.MAXERROR_LIMIT == 100000
    assert "REGION" not in sql


def test_events_jsonpaths_match_the_original_file(sample: Path) -> None:
    original = json.loads((sample / "log_json_path.json").read_text())
    assert rs.jsonpaths(EVENTS) == original


def test_songs_jsonpaths_follow_the_staging_columns() -> None:
    assert rs.jsonpaths(SONGS)["jsonpaths"] == [f"$['{f.key}']" for f in SONGS.fields]


def test_manifest_names_exactly_the_new_objects() -> None:
    uris = ["s3://udacity-dend/song_data/A/A/A/TRAAAAW128F429D538.json", "s3://udacity-dend/song_data/A/B/x.json"]
    assert rs.manifest(uris) == {"entries": [{"url": u, "mandatory": True} for u in uris]}


def test_rejects_go_to_the_shared_load_errors_table() -> None:
    for view, table in (("stl", "stl_load_errors"), ("sys", "sys_load_error_detail")):
        sql = rs.load_errors_sql(4, EVENTS, view)
        parsed = sqlglot.parse_one(sql, read="redshift")
        assert isinstance(parsed, exp.Insert)
        assert parsed.this.this.sql() == "staging.load_errors"
        assert table in sql and "pg_last_copy_id()" in sql


def test_staging_keeps_registration_loadable() -> None:
    """The real logs write registration as 1540919166796.0, which COPY refuses for BIGINT."""
    assert rs.column_type(EVENTS, "registration") == "DOUBLE PRECISION"
    assert rs.column_type(EVENTS, "ts") == "BIGINT"


# -- values are validated or quoted -----------------------------------------------------------


def test_literals_escape_quotes_and_backslashes() -> None:
    assert rs.literal("it's") == "'it''s'"
    assert rs.literal("a\\b") == "'a\\\\b'"
    with pytest.raises(SparkifyError):
        rs.literal("nul\x00")
    statement = rs.abort_statements(1, "x'); DROP TABLE analytics.songs; --", None, {})[1]
    parsed = sqlglot.parse(statement, read="redshift")
    assert len(parsed) == 1 and isinstance(parsed[0], exp.Insert)


@pytest.mark.parametrize("bad", ["s3://bucket/x'; DROP TABLE t; --", "https://bucket/x", "s3://B/x", "s3://ok-bucket/a\\b"])
def test_s3_uris_are_validated(bad: str) -> None:
    with pytest.raises(SparkifyError):
        rs.copy_sql(EVENTS, bad, iam_role=ROLE, region_name=None, jsonpaths=f"{STAGING}/j.json")


@pytest.mark.parametrize("bad", ["arn:aws:iam::123:role/x", "arn:aws:iam::123456789012:role/x' --", "role"])
def test_role_arns_are_validated(bad: str) -> None:
    with pytest.raises(SparkifyError):
        rs.copy_sql(EVENTS, f"{STAGING}/m", iam_role=bad, region_name=None, jsonpaths=f"{STAGING}/j.json")


def test_url_parsing() -> None:
    target = rs.parse_url(URL)
    assert (target.user, target.port, target.database, target.cluster_id) == ("awsuser", 5439, "sparkify", "sparkify")
    assert (target.iam_role, target.region, target.staging) == (ROLE, "us-west-2", STAGING)


@pytest.mark.parametrize("url, message", [
    ("redshift://u:secret@host:5439/db", "SPARKIFY_REDSHIFT_PASSWORD"),
    ("redshift://u@host:5439/db?bogus=1", "unknown option"),
    ("redshift://u@host:5439/db?region=nowhere", "region"),
    ("redshift://u@host:5439/db?errors=x", "errors="),
])
def test_bad_urls(url: str, message: str) -> None:
    with pytest.raises(SparkifyError, match=message) as info:
        rs.parse_url(url)
    assert "secret" not in str(info.value)


def test_local_paths_are_refused() -> None:
    with pytest.raises(SparkifyError, match="loads from S3 itself"):
        rs.require_s3_paths("s3://udacity-dend/log_data", "data/song_data")


def test_etl_into_redshift_with_local_paths_is_refused_before_connecting(tmp_path: Path) -> None:
    from tests.conftest import run_cli

    result = run_cli("etl", "--songs", str(tmp_path), "--warehouse", URL, "--dry-run")
    assert result.exit_code == 2 and "loads from S3 itself" in result.output


# -- the Redshift models build the same star (PostgreSQL as the stand-in) ---------------------------

STAR = ("songs", "artists", "users", "songplays", "time", "page_views")


def _rebuild_star_with_redshift_models(con, snapshot, expected) -> None:
    """Empty the dimensions and forget every play's song, rebuild them with the Redshift models
    twice (re-runs never duplicate), then once more with no song change, and compare every row
    each time. (New plays come only from the latest load's events, so the plays themselves stay;
    the contract test builds them from scratch with these models, load after load.)"""
    for table in ("time", "users", "artists", "songs"):
        con.execute(f'DELETE FROM analytics."{table}"')
    con.execute("UPDATE analytics.songplays SET song_id = NULL, artist_id = NULL")
    for _ in range(2):
        for statement in rs.model_statements(songs_changed=True):
            con.execute(statement)
        assert snapshot() == expected
    for statement in rs.model_statements(songs_changed=False):
        con.execute(statement)
    assert snapshot() == expected


def test_redshift_models_build_the_same_star_as_the_postgresql_backend(sample: Path) -> None:
    """Load the sample with the PostgreSQL backend, then rebuild the star with the Redshift models
    (twice: re-runs never duplicate) and compare every row. PostgreSQL runs Redshift's MERGE,
    BTRIM, TIMESTAMP 'epoch' arithmetic and temp tables as Redshift documents them."""
    import psycopg

    from tests.conftest import run_cli
    from tests.pg import fresh_database

    with fresh_database("sparkify_rs") as url:
        result = run_cli("etl", "--songs", str(sample / "song_data"), "--logs", str(sample / "log_data"),
                         "--warehouse", url, "--no-check")
        assert result.exit_code == 0, result.output
        with psycopg.connect(url) as con:
            def snapshot() -> dict[str, list[tuple[object, ...]]]:
                return {t: sorted(con.execute(f'SELECT * FROM analytics."{t}"').fetchall(), key=repr) for t in STAR}

            expected = snapshot()
            assert len(expected["songplays"]) == 6820
            _rebuild_star_with_redshift_models(con, snapshot, expected)
            con.rollback()

        # RedshiftWarehouse's own connection and query path (psycopg, search_path, status queries),
        # pointed at the same database: the parts of the live path PostgreSQL can stand in for.
        parts = urlsplit(url)
        as_redshift = f"redshift://{parts.username}@{parts.hostname}:{parts.port or 5432}{parts.path}"
        env = {"SPARKIFY_REDSHIFT_PASSWORD": "not-needed-by-trust-auth", "PGSSLMODE": "disable",
               "PGPASSWORD": parts.password or ""}
        if parts.password:
            env["SPARKIFY_REDSHIFT_PASSWORD"] = parts.password
        status = run_cli("status", "--warehouse", as_redshift, env=env)
        assert status.exit_code == 0, status.output
        assert "6820" in status.output and "committed" in status.output
        count = run_cli("sql", "SELECT count(*) AS plays FROM songplays", "--warehouse", as_redshift,
                        "--format", "csv", env=env)
        assert count.exit_code == 0, count.output
        assert "6820" in count.output
        assert env["SPARKIFY_REDSHIFT_PASSWORD"] not in status.output + count.output


def _mangled(text: str) -> str:
    """UTF-8 read as Latin-1 twice: the damage 326 events of the real sample carry."""
    return text.encode().decode("latin-1").encode().decode("latin-1")


def _write_mangled_load(root: Path) -> tuple[Path, Path]:
    """A second load on top of the sample, where the repairs decide titles, names, locations and
    matches: mangled songs and artists, events that name them mangled (or clean), a U+0019."""
    from tests.oddities import BASE_TS, event, song

    songs, logs = root / "song_data" / "M", root / "log_data" / "2018" / "11"
    songs.mkdir(parents=True)
    logs.mkdir(parents=True)
    records = [
        song(song_id="SOMANGLED000001", title=_mangled("Jóga (Live à Paris)"), artist_id="ARMANGLED00001",
             artist_name=_mangled("Björk"), artist_location=_mangled("Reykjavík, Ísland"), duration=300.0,
             year=1997),
        song(song_id="SOMANGLED000002", title="Don\x19t Stop Me Now", artist_id="ARMANGLED00002",
             artist_name="Queen", artist_location="London", duration=209.0, year=1978),
        song(song_id="SOMANGLED000003", title="Hoppípolla", artist_id="ARMANGLED00003", artist_name="Sigur Rós",
             artist_location=None, duration=268.0, year=2005),
    ]
    for record in records:
        (songs / f"{record['song_id']}.json").write_text(json.dumps(record), encoding="utf-8")
    who = {"userId": "901", "firstName": _mangled("Zoë"), "lastName": _mangled("Ångström"),
           "location": _mangled("São Paulo, SP"), "sessionId": 9001, "level": "paid"}
    plays = [
        event(**who, page="NextSong", song=_mangled("Jóga (Live à Paris)"), artist=_mangled("Björk"), length=300.1,
              itemInSession=0, ts=BASE_TS + 29 * 86_400_000),
        event(**who, page="NextSong", song="Don\x19t Stop Me Now", artist="Queen", length=209.0, itemInSession=1,
              ts=BASE_TS + 29 * 86_400_000 + 300_000),
        event(**who, page="NextSong", song=_mangled("Hoppípolla"), artist=_mangled("Sigur Rós"), length=268.0,
              itemInSession=2, ts=BASE_TS + 29 * 86_400_000 + 600_000),
    ]
    (logs / "2018-11-30-events.json").write_text("\n".join(json.dumps(p) for p in plays) + "\n", encoding="utf-8")
    return songs.parent, logs.parent.parent


def test_redshift_text_repairs_build_the_same_star_as_the_postgresql_backend(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The real sample, then a load whose mangled text matters, through the PostgreSQL backend; then
    the Redshift path on the same database: RedshiftWarehouse finds the suspect values with the
    Redshift pattern and inserts the same repairs (never twice), and the Redshift models rebuild
    exactly the same star from them."""
    import psycopg

    from sparkify.warehouse.redshift import RedshiftWarehouse
    from tests.conftest import run_cli
    from tests.pg import fresh_database

    songs, logs = _write_mangled_load(tmp_path / "mangled")
    with fresh_database("sparkify_rs_repairs") as url:
        for args in (("--songs", str(sample / "song_data"), "--logs", str(sample / "log_data")),
                     ("--songs", str(songs), "--logs", str(logs))):
            result = run_cli("etl", *args, "--warehouse", url, "--no-check")
            assert result.exit_code == 0, result.output
        with psycopg.connect(url, autocommit=True) as con:
            def rows(sql: str) -> list[tuple[object, ...]]:
                return sorted(con.execute(sql).fetchall(), key=repr)

            def snapshot() -> dict[str, list[tuple[object, ...]]]:
                return {t: rows(f'SELECT * FROM analytics."{t}"') for t in STAR}

            expected = snapshot()
            repairs = rows("SELECT raw_text, fixed FROM staging.text_repairs")
            assert len(repairs) > 205  # the sample's 205 mangled values, and this load's
            # the repairs decide this star: fixed text, and matches found only through fixed text
            assert ("SOMANGLED000001", "Jóga (Live à Paris)", "ARMANGLED00001", 1997, 300.0, "Björk") in expected["songs"]
            assert ("SOMANGLED000002", "Don’t Stop Me Now", "ARMANGLED00002", 1978, 209.0, "Queen") in expected["songs"]
            assert ("ARMANGLED00001", "Björk", "Reykjavík, Ísland", None, None) in expected["artists"]
            assert [u[1:3] for u in expected["users"] if u[0] == 901] == [("Zoë", "Ångström")]
            plays = [(p[4], p[5], p[7]) for p in expected["songplays"] if p[2] == 901]
            assert sorted(plays) == [(f"SOMANGLED00000{n}", f"ARMANGLED0000{n}", "São Paulo, SP") for n in (1, 2, 3)]

            # Redshift's pattern finds exactly what PostgreSQL's finds (the sample's 326 mangled events too)
            con.execute("DELETE FROM staging.text_repairs")
            for load_id in (1, 2):
                found = rows(repair.candidates_sql("redshift", load_id))
                assert found == rows(repair.candidates_sql("postgresql", load_id)) and found

            # the live Redshift path: RedshiftWarehouse's connection, dialect and parameter marks
            parts = urlsplit(url)
            monkeypatch.setenv("SPARKIFY_REDSHIFT_PASSWORD", parts.password or "not-needed-by-trust-auth")
            monkeypatch.setenv("PGSSLMODE", "disable")
            warehouse = RedshiftWarehouse(f"redshift://{parts.username}@{parts.hostname}:{parts.port or 5432}"
                                          f"{parts.path}")
            try:
                assert sum(repair.repair_new_text(warehouse, load_id) for load_id in (1, 2)) == len(repairs)
                assert sum(repair.repair_new_text(warehouse, load_id) for load_id in (1, 2)) == 0  # no duplicates
            finally:
                warehouse.close()
            assert rows("SELECT raw_text, fixed FROM staging.text_repairs") == repairs

            with con.transaction():  # one transaction, as a load runs them (the foreign keys are deferred)
                _rebuild_star_with_redshift_models(con, snapshot, expected)
