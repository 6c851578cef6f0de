"""Every statement the Redshift backend sends, held to what a real Redshift accepts and a local
PostgreSQL would let through: no reserved word as a bare name (AWS's list), no E'…' literal, only
the documented columns of the system views, names and messages that fit their byte limits."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from sparkify.errors import SparkifyError
from sparkify.staging.tables import EVENTS
from sparkify.warehouse import redshift as rs
from tests.redshift_checks import e_literals, unquoted_reserved
from tests.test_redshift_sql import every_statement

#: The columns AWS documents for the system views the backend reads (Database Developer Guide).
SYSTEM_VIEWS = {
    "stl_load_errors": {"userid", "slice", "tbl", "starttime", "session", "query", "filename", "line_number",
                        "colname", "type", "col_length", "position", "raw_line", "raw_field_value", "err_code",
                        "err_reason", "is_partial", "start_offset"},
    "stl_load_commits": {"userid", "query", "slice", "name", "filename", "byte_offset", "lines_scanned", "errors",
                         "curtime", "status", "file_format", "is_partial", "start_offset"},
    "sys_load_error_detail": {"user_id", "query_id", "transaction_id", "session_id", "database_name", "table_id",
                              "start_time", "file_name", "line_number", "column_name", "column_type",
                              "column_length", "position", "error_code", "error_message"},
    "sys_load_detail": {"user_id", "query_id", "file_name", "bytes_scanned", "lines_scanned", "record_time",
                        "splits_scanned", "start_time", "end_time"},
    "stv_slices": {"node", "slice", "localslice", "type"},
}


def test_the_reserved_words_are_aws_list() -> None:
    words = rs.reserved_words()
    assert {"RAW", "TIMESTAMP", "USER", "OPEN", "TAG", "OFFSET", "TOP", "NEW", "OLD", "COLUMN"} <= words
    assert len(words) > 150 and all(w == w.upper() for w in words)


@pytest.mark.parametrize("bad, word", [
    ("SELECT raw FROM staging.text_repairs", "raw"),
    ("CREATE TABLE staging.t (open VARCHAR(10))", "open"),
    ("SELECT x FROM t AS tag", "tag"),
    ("LOCK staging.raw", "raw"),
])
def test_the_check_finds_bare_reserved_words(bad: str, word: str) -> None:
    assert unquoted_reserved(bad) == [word]
    assert unquoted_reserved(bad.replace(word, f'"{word}"')) == []


def test_no_statement_names_a_reserved_word_unquoted() -> None:
    found = {s: hits for s in every_statement() if (hits := unquoted_reserved(s))}
    assert found == {}


def test_no_statement_has_an_escape_string_literal() -> None:
    assert e_literals("SELECT 'it''s E', E'a\\\\b' -- E'c'") == ["E'a\\\\b'"]
    found = {s: hits for s in every_statement() if (hits := e_literals(s))}
    assert found == {}


def test_values_are_bound_as_redshift_literals_never_escape_strings() -> None:
    sql = rs.bind("INSERT INTO staging.text_repairs (raw_text, fixed) VALUES (%s, %s)", ("AC\\DC's", "x"))
    assert sql == "INSERT INTO staging.text_repairs (raw_text, fixed) VALUES ('AC\\\\DC''s', 'x')"
    assert e_literals(sql) == []
    assert rs.bind("SELECT %s, %s, %s, %s", (None, True, 7, 2.5)) == "SELECT NULL, TRUE, 7, 2.5"
    with pytest.raises(ValueError):
        rs.bind("SELECT %s", ())


def _view_columns(statement: str) -> dict[str, set[str]]:
    """{system view: the columns a statement reads from it}."""
    tree = sqlglot.parse_one(statement, read="redshift")
    used: dict[str, set[str]] = {}
    for select in tree.find_all(exp.Select):
        source = select.args.get("from") or select.args.get("from_")
        table = source.find(exp.Table) if source else None
        if table is None or table.name not in SYSTEM_VIEWS:
            continue
        columns = used.setdefault(table.name, set())
        for column in select.find_all(exp.Column):
            columns.add(column.name)
    return used


def test_system_views_are_read_through_documented_columns_only() -> None:
    seen: set[str] = set()
    for statement in every_statement():
        for view, columns in _view_columns(statement).items():
            seen.add(view)
            assert columns <= SYSTEM_VIEWS[view], (view, columns - SYSTEM_VIEWS[view], statement)
    assert seen == set(SYSTEM_VIEWS)


def test_sys_rejects_have_no_raw_line() -> None:
    sql = rs.load_errors_sql(3, EVENTS, "sys")
    assert "raw_line" not in sql and "sys_load_error_detail" in sql


def test_every_session_is_utc() -> None:
    assert rs.TIMEZONE_SQL in rs.SESSION_SQL
    parsed = sqlglot.parse_one(rs.TIMEZONE_SQL, read="redshift")
    assert isinstance(parsed, exp.Set) and "'UTC'" in rs.TIMEZONE_SQL


def test_object_uris_must_fit_the_system_views() -> None:
    fits = "s3://bucket/" + "k" * (256 - len("s3://bucket/"))
    assert rs.file_name_fits(fits) == fits
    with pytest.raises(SparkifyError, match="256"):
        rs.file_name_fits(fits + "k")
    with pytest.raises(SparkifyError, match="bytes"):  # 200 characters, 400 bytes
        rs.file_name_fits("s3://bucket/" + "é" * 200)


def test_messages_are_cut_by_bytes_not_characters() -> None:
    message = "ü" * 40000  # 80000 bytes of UTF-8
    cut = rs.truncate_bytes(message, rs.MESSAGE_BYTES)
    assert len(cut.encode()) <= rs.MESSAGE_BYTES and cut == "ü" * (rs.MESSAGE_BYTES // 2)
    statement = rs.abort_statements(4, message, None, {})[1]
    literal = statement[statement.index("'failed', ") + len("'failed', "):-1]
    assert len(literal.encode()) - 2 <= rs.MESSAGE_BYTES
    assert rs.truncate_bytes("short", 10) == "short"


def _drops_of_temp_tables(dialect: str) -> list[str]:
    from sparkify.warehouse.sqlfiles import star_statements

    return [s for _, s in star_statements(dialect, True) if s.startswith("DROP TABLE")]


@pytest.mark.parametrize("dialect", ["duckdb", "postgresql", "redshift"])
def test_temp_tables_have_names_no_user_table_can_have(dialect: str) -> None:
    from sparkify.warehouse.dialects import temp
    from sparkify.warehouse.sqlfiles import star_statements

    spelled = {"duckdb": "temp.main.", "postgresql": "pg_temp.", "redshift": '"#'}[dialect]
    statements = [s for _, s in star_statements(dialect, True)]
    made = [s.split()[3] for s in statements if s.startswith("CREATE TEMP TABLE")]
    assert made and all(name.startswith(spelled) for name in made), made
    assert all(s.split()[2].startswith(spelled) for s in _drops_of_temp_tables(dialect))
    assert temp(dialect, "x").startswith(spelled)
    if dialect == "redshift":
        assert rs.copy_table(EVENTS) == '"#copy_events"'
        assert all(not s.startswith("DROP TABLE IF EXISTS") for s in every_statement())


@pytest.mark.parametrize("dialect", ["duckdb", "postgresql", "redshift"])
def test_a_users_table_named_like_a_temp_table_is_never_dropped(dialect: str, tmp_path) -> None:
    """The models' DROP of a temp table that is not there (e.g. a step failed before making it)
    fails; it can never reach a user's analytics.songplays_new through the search_path."""
    import contextlib

    import duckdb

    drops = [s for s in _drops_of_temp_tables(dialect) if "songplays_new" in s]
    assert len(drops) == 1
    if dialect == "duckdb":
        con = duckdb.connect(str(tmp_path / "w.duckdb"))
        con.execute("CREATE SCHEMA analytics; SET search_path = 'analytics'")
        run, errors = con.execute, (duckdb.Error,)
    else:
        import psycopg

        from tests.pg import fresh_database

        stack = contextlib.ExitStack()
        url = stack.enter_context(fresh_database("sparkify_temp_names"))
        con = stack.enter_context(psycopg.connect(url, autocommit=True))
        con.execute("CREATE SCHEMA analytics; SET search_path TO analytics")
        run, errors = con.execute, (psycopg.Error,)
    try:
        run("CREATE TABLE analytics.songplays_new (mine INTEGER)")
        with pytest.raises(errors):
            run(drops[0])
        assert run("SELECT count(*) FROM analytics.songplays_new").fetchall() == [(0,)]
    finally:
        con.close()
        if dialect != "duckdb":
            stack.close()


@pytest.mark.parametrize("slices, files", [(None, 5000), (0, 5000), (2, 5000), (3, 4998), (16, 4992), (6000, 6000)])
def test_a_copy_batch_is_a_multiple_of_the_slices(slices: int | None, files: int) -> None:
    assert rs.copy_batch_files(slices) == files
    assert slices is None or slices == 0 or files % slices == 0
