"""The PostgreSQL analyst role (issue 17 item 1): no way around it. Tried as the role would try:
SET ROLE, switching the read-only default off and writing, CREATE in public, temporary tables,
sequences; and every role it could SET ROLE to is checked, NOINHERIT memberships too."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from tests.conftest import run_cli
from tests.pg import admin_url, loaded_database


def as_role(url: str, role: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{role}@{parts.hostname}:{parts.port or 5432}"))


@pytest.fixture
def roles() -> Iterator[list[str]]:
    """Names for throw-away roles, dropped afterwards (with what they were granted)."""
    made: list[str] = []
    yield made
    with psycopg.connect(admin_url(), autocommit=True) as con:
        for role in reversed(made):
            for (db,) in con.execute("SELECT datname FROM pg_database WHERE datname LIKE 'sparkify_%'").fetchall():
                try:
                    with psycopg.connect(urlunsplit(urlsplit(admin_url())._replace(path=f"/{db}")),
                                         autocommit=True) as other:
                        other.execute(f'DROP OWNED BY "{role}"')
                except psycopg.Error:
                    pass
            con.execute(f'DROP ROLE IF EXISTS "{role}"')


def name(roles: list[str], kind: str) -> str:
    role = f"sparkify_{kind}_{uuid.uuid4().hex[:8]}"
    roles.append(role)
    return role


@pytest.fixture(scope="module")
def loaded(sample: Path) -> Iterator[str]:
    with loaded_database(sample, "sparkify_analyst") as url:
        yield url


ESCAPES = [
    ("SET ROLE postgres", psycopg.errors.InsufficientPrivilege),
    ("SET SESSION AUTHORIZATION postgres", psycopg.errors.InsufficientPrivilege),
    ("SET default_transaction_read_only = off; DELETE FROM songplays", psycopg.errors.InsufficientPrivilege),
    ("SET default_transaction_read_only = off; UPDATE users SET level = 'paid'", psycopg.errors.InsufficientPrivilege),
    ("SET default_transaction_read_only = off; CREATE TABLE public.mine (x int)", psycopg.errors.InsufficientPrivilege),
    ("SET default_transaction_read_only = off; CREATE TABLE analytics.mine (x int)",
     psycopg.errors.InsufficientPrivilege),
    ("SET default_transaction_read_only = off; CREATE TEMP TABLE mine (x int)", psycopg.errors.InsufficientPrivilege),
    ("SET default_transaction_read_only = off; CREATE SCHEMA mine", psycopg.errors.InsufficientPrivilege),
    ("SET default_transaction_read_only = off; SELECT nextval('staging.load_id_seq')",
     psycopg.errors.InsufficientPrivilege),
    ("SELECT count(*) FROM staging.staging_events", psycopg.errors.InsufficientPrivilege),
    ("SELECT count(*) FROM staging.load_errors", psycopg.errors.InsufficientPrivilege),
    ("SELECT count(*) FROM staging.text_repairs", psycopg.errors.InsufficientPrivilege),
    ("SELECT count(*) FROM staging.loaded_files", psycopg.errors.InsufficientPrivilege),
]


def test_the_analyst_cannot_escape(loaded: str, roles: list[str]) -> None:
    role = name(roles, "analyst")
    result = run_cli("grant", "--analyst", role, "--warehouse", loaded)
    assert result.exit_code == 0, result.output
    assert "note: revoked TEMPORARY on database" in result.output  # PUBLIC had it: said, not hidden
    url = as_role(loaded, role)
    for statement, error in ESCAPES:
        with psycopg.connect(url, autocommit=True) as con:  # psql's way: autocommit, statement by statement
            with pytest.raises(error):
                for part in statement.split("; "):
                    con.execute(part)
    with psycopg.connect(loaded) as con:
        assert con.execute("SELECT count(*) FROM analytics.songplays").fetchone() == (6820,)
        assert con.execute("SELECT to_regclass('public.mine'), to_regclass('analytics.mine')").fetchone() == (None, None)
    with psycopg.connect(url) as con:  # what it is for still works
        assert con.execute("SELECT count(*) FROM songplays").fetchone() == (6820,)


def test_every_read_command_works_for_the_analyst(loaded: str, roles: list[str]) -> None:
    role = name(roles, "analyst")
    assert run_cli("grant", "--analyst", role, "--warehouse", loaded).exit_code == 0
    url = as_role(loaded, role)
    for args in (["report"], ["query", "top_songs"], ["check"], ["loads"],
                 ["sql", "SELECT count(*) AS n FROM songplays", "--format", "csv"]):
        result = run_cli(*args, "--warehouse", url)
        assert result.exit_code == 0, (args, result.output)
    status = run_cli("status", "--warehouse", url)
    assert status.exit_code == 0, status.output
    assert "6820" in status.output and "no access" in status.output and "committed" in status.output
    denied = run_cli("errors", "--warehouse", url)  # the rejects are raw data: not the analyst's
    assert denied.exit_code == 2 and "permission denied" in denied.output


def _member_of(roles: list[str], target_sql: str, *, noinherit: bool = True) -> str:
    """A login role that is a (NOINHERIT) member of the role `target_sql` sets up and names."""
    role = name(roles, "member")
    with psycopg.connect(admin_url(), autocommit=True) as con:
        con.execute(f'CREATE ROLE "{role}" LOGIN {"NOINHERIT" if noinherit else ""}')
        con.execute(target_sql.format(role=role))
    return role


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ('GRANT postgres TO "{role}"', "is a superuser (reads and writes everything) through role 'postgres'"),
        ('GRANT pg_read_all_data TO "{role}"', "can still read staging (staging."),
        ('GRANT pg_write_all_data TO "{role}"', "can write "),
    ],
)
def test_grant_refuses_a_noinherit_member_of_a_role_that_can_read_staging(loaded: str, roles: list[str],
                                                                          setup: str, message: str) -> None:
    role = _member_of(roles, setup)
    result = run_cli("grant", "--analyst", role, "--warehouse", loaded)
    assert result.exit_code == 2, result.output
    assert message in result.output and "choose a dedicated role" in result.output
    # … and it was not left half-granted: the transaction rolled back.
    with psycopg.connect(loaded) as con:
        assert con.execute("SELECT has_schema_privilege(%s, 'analytics', 'USAGE')", [role]).fetchone() == (False,)


def test_grant_refuses_members_of_custom_roles_that_can_read_or_bypass(loaded: str, roles: list[str]) -> None:
    reader, bypass, owner = name(roles, "reader"), name(roles, "bypass"), name(roles, "creator")
    with psycopg.connect(admin_url(), autocommit=True) as con:
        con.execute(f'CREATE ROLE "{reader}" NOLOGIN')
        con.execute(f'CREATE ROLE "{bypass}" NOLOGIN BYPASSRLS')
        con.execute(f'CREATE ROLE "{owner}" LOGIN CREATEROLE')
    with psycopg.connect(loaded, autocommit=True) as con:
        con.execute(f'GRANT USAGE ON SCHEMA staging TO "{reader}"')
        con.execute(f'GRANT SELECT ON staging.staging_events TO "{reader}"')
    for target, message in ((reader, "can still read staging (staging.staging_events)"), (bypass, "has BYPASSRLS")):
        role = _member_of(roles, f'GRANT "{target}" TO "{{role}}"')
        result = run_cli("grant", "--analyst", role, "--warehouse", loaded)
        assert result.exit_code == 2 and message in result.output and f"through role '{target}'" in result.output
    itself = run_cli("grant", "--analyst", owner, "--warehouse", loaded)
    assert itself.exit_code == 2 and "has CREATEROLE" in itself.output
