"""The PostgreSQL warehouse on its own: constraints, masking of passwords, the analyst role.

What it shares with DuckDB (every table's contents, loads, rejects) is in test_contract.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from tests.conftest import run_cli, run_sparkify
from tests.pg import admin_url, fresh_database, loaded_database, require_postgres

SECRET = "s3cret-Pw"


@pytest.fixture(scope="module")
def loaded(sample: Path) -> Iterator[str]:
    """A database loaded once from the real sample, shared by this module's read-mostly tests."""
    with loaded_database(sample, "sparkify_pg") as url:
        yield url


def with_password(url: str, password: str, port: int | None = None) -> str:
    parts = urlsplit(url)
    netloc = f"{parts.username}:{password}@{parts.hostname}:{port or parts.port or 5432}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def rows(url: str, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as con:
        return con.execute(sql, params).fetchall()


def test_constraints_and_indexes_are_real(loaded: str) -> None:
    constraints = set(rows(loaded, """
        SELECT conrelid::regclass::text, contype, condeferrable FROM pg_constraint
        WHERE connamespace = 'analytics'::regnamespace AND contype IN ('p', 'f')"""))
    assert {("analytics.songs", "p", False), ("analytics.artists", "p", False), ("analytics.users", "p", False),
            ('analytics."time"', "p", False), ("analytics.songplays", "p", False)} <= constraints
    foreign = rows(loaded, """
        SELECT a.attname, confrelid::regclass::text FROM pg_constraint c
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
        WHERE c.conrelid = 'analytics.songplays'::regclass AND c.contype = 'f' AND c.condeferred""")
    assert sorted(foreign) == [("artist_id", "analytics.artists"), ("song_id", "analytics.songs"),
                               ("start_time", 'analytics."time"')]
    indexed = {r[0] for r in rows(loaded, "SELECT indexdef FROM pg_indexes WHERE tablename = 'songplays'")}
    for column in ("start_time", "song_id", "artist_id", "user_id"):
        assert any(f"({column}" in d for d in indexed), column
    # The foreign keys hold for real: a play of an unknown song is refused.
    with pytest.raises(psycopg.errors.ForeignKeyViolation), psycopg.connect(loaded) as con:
        con.execute("UPDATE analytics.songplays SET song_id = 'NOPE' WHERE songplay_id = 1")
        con.commit()


def test_report_query_uses_an_index(loaded: str) -> None:
    with psycopg.connect(loaded) as con:
        con.execute("SET enable_seqscan = off")
        plan = "\n".join(r[0] for r in con.execute(
            "EXPLAIN SELECT count(*) FROM analytics.songplays WHERE start_time >= '2018-11-30'").fetchall())
    assert "songplays_start_time" in plan


def test_unqualified_names_and_environment_variable(loaded: str) -> None:
    result = run_cli("sql", 'SELECT count(*) AS n FROM songplays JOIN "time" USING (start_time)',
                     "--format", "csv", env={"SPARKIFY_WAREHOUSE": loaded})
    assert result.exit_code == 0, result.output
    assert result.output.split() == ["n", "6820"]


def test_passwords_are_never_printed(loaded: str) -> None:
    # Trust authentication ignores the password, so the command works and must still mask it.
    url = with_password(loaded, SECRET)
    status = run_sparkify("status", "--warehouse", url)
    assert status.returncode == 0, status.stderr
    assert SECRET not in status.stdout + status.stderr
    assert ":***@" in status.stdout
    for args in (["status", "--warehouse", with_password(loaded, SECRET, port=1)],
                 ["sql", "SELECT 1", "--warehouse", with_password(loaded, SECRET, port=1)],
                 ["sql", f"SELECT '{SECRET}'::int", "--warehouse", url]):
        failed = run_sparkify(*args)
        assert failed.returncode == 2
        assert SECRET not in failed.stdout + failed.stderr, failed.stderr
        lines = failed.stderr.strip().splitlines()  # the server's own LINE and caret lines after a SQL error
        assert "Traceback" not in failed.stderr and (len(lines) == 1 or lines[1].startswith("LINE 1: "))


def test_unreachable_server_is_one_clear_line(tmp_path: Path) -> None:
    result = run_cli("etl", "--logs", str(tmp_path), "--warehouse", "postgresql://nobody@127.0.0.1:1/none")
    assert result.exit_code == 2
    assert "cannot connect to warehouse 'postgresql://nobody@127.0.0.1:1/none'" in result.output


@pytest.fixture
def analyst() -> Iterator[str]:
    admin = require_postgres()
    role = f"sparkify_analyst_{uuid.uuid4().hex[:8]}"
    yield role
    with psycopg.connect(admin, autocommit=True) as con:
        con.execute(f'DROP ROLE IF EXISTS "{role}"')


def test_grant_makes_a_read_only_analyst(sample: Path, analyst: str) -> None:
    with fresh_database("sparkify_grant") as url:
        assert run_cli("etl", "--songs", str(sample / "song_data"), "--logs", str(sample / "log_data"),
                       "--warehouse", url).exit_code == 0
        result = run_cli("grant", "--analyst", analyst, "--password-env", "ANALYST_PW", "--warehouse", url,
                         env={"ANALYST_PW": SECRET})
        assert result.exit_code == 0, result.output
        assert f"Created login role {analyst}" in result.output and SECRET not in result.output
        as_analyst = urlunsplit(urlsplit(url)._replace(netloc=f"{analyst}@{urlsplit(url).hostname}:"
                                                              f"{urlsplit(url).port or 5432}"))
        # The analyst reads the star schema, unqualified …
        assert rows(as_analyst, "SELECT count(*) FROM songplays") == [(6820,)]
        assert rows(as_analyst, "SELECT count(*) FROM users_current WHERE level = 'paid'") == [(22,)]
        # … and cannot see staging, nor change anything.
        for sql in ("SELECT count(*) FROM staging.staging_events", "SELECT count(*) FROM staging.load_errors",
                    "SELECT count(*) FROM staging.song_matches"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                rows(as_analyst, sql)
        for sql in ("DELETE FROM songplays", "CREATE TABLE analytics.mine (x int)"):
            with pytest.raises((psycopg.errors.ReadOnlySqlTransaction, psycopg.errors.InsufficientPrivilege)):
                rows(as_analyst, sql)
        # The password was set (scram hash stored), and the role is no superuser.
        assert rows(admin_url(), "SELECT rolcanlogin, rolsuper, rolpassword IS NOT NULL FROM pg_authid "
                                 "WHERE rolname = %s", (analyst,)) == [(True, False, True)]
        # Re-creating the tables keeps the analyst's access; granting again updates the role.
        assert run_cli("etl", "--songs", str(sample / "song_data"), "--logs", str(sample / "log_data"),
                       "--full-refresh", "--warehouse", url).exit_code == 0
        assert rows(as_analyst, "SELECT count(*) FROM songplays") == [(6820,)]
        again = run_cli("grant", "--analyst", analyst, "--warehouse", url)
        assert again.exit_code == 0 and "Updated login role" in again.output
        # The sparkify CLI works for the analyst too.
        status = run_cli("sql", "SELECT count(*) AS n FROM artists", "--format", "csv", "--warehouse", as_analyst)
        assert status.output.split() == ["n", "69"]


@pytest.mark.parametrize(
    ("role", "message"),
    [
        ('x"; DROP TABLE songs; --', "invalid role name"),
        ("Analyst", "invalid role name"),
        ("postgres", "is a superuser"),
        ("pg_read_all_data", "is reserved"),
    ],
)
def test_grant_refuses_bad_roles(loaded: str, role: str, message: str) -> None:
    result = run_cli("grant", "--analyst", role, "--warehouse", loaded)
    assert result.exit_code == 2 and message in result.output


def test_grant_needs_postgresql_and_a_set_password_variable(loaded: str, tmp_path: Path) -> None:
    assert run_cli("create-tables", "--warehouse", str(tmp_path / "x.duckdb")).exit_code == 0
    duck = run_cli("grant", "--analyst", "someone", "--warehouse", str(tmp_path / "x.duckdb"))
    assert duck.exit_code == 2 and "needs a PostgreSQL warehouse" in duck.output
    missing = run_cli("grant", "--analyst", "someone", "--password-env", "NOT_SET_ANYWHERE", "--warehouse", loaded)
    assert missing.exit_code == 2 and "NOT_SET_ANYWHERE" in missing.output


def test_grant_refuses_a_role_that_could_still_read_staging(loaded: str, analyst: str) -> None:
    with psycopg.connect(admin_url(), autocommit=True) as con:
        con.execute(f'CREATE ROLE "{analyst}" LOGIN IN ROLE pg_read_all_data')
    result = run_cli("grant", "--analyst", analyst, "--warehouse", loaded)
    assert result.exit_code == 2 and "can still read staging" in result.output


def test_copy_stream_failures_end_both_sides() -> None:
    """Staging streams DuckDB's CSV through a pipe into COPY: an error on either side stops the
    other (no hang), aborts the COPY (nothing stored) and is the error raised."""
    from sparkify.warehouse.postgres import PostgresWarehouse

    with fresh_database("sparkify_pipe") as url:
        wh = PostgresWarehouse(url)
        try:
            wh.create_tables()
            wh.parser.execute("CREATE TABLE rows_out AS SELECT range AS i FROM range(300000)")
            target = "staging.removed_files (load_id, source, path, rows)"
            for select, error in (
                ("SELECT 1, 'events', 'p', CASE WHEN i < 250000 THEN i ELSE error('boom') END FROM rows_out",
                 "boom"),  # DuckDB fails after ~10 MB went through
                ("SELECT NULL, 'events', 'p', i FROM rows_out", "not-null"),  # PostgreSQL refuses the rows
                ("SELECT nope FROM rows_out", "nope"),  # DuckDB fails before writing
            ):
                wh.con.execute("BEGIN")
                with pytest.raises(Exception, match=error):
                    wh._copy(select, target)
                wh.con.execute("ROLLBACK")
            wh._copy("SELECT 1, 'events', 'p', i FROM rows_out", target)
            assert wh.con.execute("SELECT count(*), sum(rows) FROM staging.removed_files").fetchone() == (
                300000, sum(range(300000)))
        finally:
            wh.close()
