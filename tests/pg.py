"""A throw-away PostgreSQL database per test module, or a clear skip (never a skip in CI)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from sparkify.config import mask_secrets

#: The server the PostgreSQL tests use; its user must be allowed to create databases and roles.
ADMIN_ENV = "SPARKIFY_TEST_POSTGRES"
DEFAULT_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
HOW_TO = (
    "start one (Debian/Ubuntu: sudo apt-get install postgresql && sudo pg_ctlcluster 15 main start; "
    "macOS: brew install postgresql@15 && brew services start postgresql@15) or point "
    f"${ADMIN_ENV} at a server whose user may create databases"
)


def admin_url() -> str:
    return os.environ.get(ADMIN_ENV, DEFAULT_ADMIN)


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


def require_postgres() -> str:
    """The admin URL; skips (fails, in CI) when no PostgreSQL server answers there."""
    import psycopg

    url = admin_url()
    try:
        psycopg.connect(url, connect_timeout=20).close()  # the shared machine can be slow to answer
    except psycopg.Error as exc:
        message = f"PostgreSQL not reachable at {mask_secrets(url)}: {str(exc).strip().splitlines()[0]}"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must run the PostgreSQL tests (.ci/run starts the server)")
        pytest.skip(f"{message}. To run these tests, {HOW_TO}")
    return url


@contextmanager
def fresh_database(prefix: str = "sparkify_test") -> Iterator[str]:
    """A new, empty database on the test server; dropped afterwards, connections and all."""
    import psycopg
    from psycopg import sql

    admin = require_postgres()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as con:
        con.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield with_database(admin, name)
    finally:
        with psycopg.connect(admin, autocommit=True) as con:
            con.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def loaded_database(sample: Path, prefix: str = "sparkify_loaded") -> Iterator[str]:
    """A fresh database loaded from the real sample by the CLI, for a module's read-mostly tests."""
    from tests.conftest import run_cli

    with fresh_database(prefix) as url:
        result = run_cli("etl", "--songs", str(sample / "song_data"), "--logs", str(sample / "log_data"),
                         "--warehouse", url)
        assert result.exit_code == 0, result.output
        yield url
