"""A PostgreSQL session's manners: one load at a time, no work for a client that died, and
errors in one line that never show the password."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg

from sparkify.config import mask_secrets
from sparkify.errors import SparkifyError
from sparkify.warehouse.base import gave_up_message, lock_timeout, waiting_message

#: Serialises concurrent `sparkify etl` runs on one database (DuckDB does it with a file lock).
LOAD_LOCK = 0x5370_6B66  # "Spkf"
#: How often the server checks, while running a load's statement, that the client is still there:
#: a killed `sparkify etl` stops holding the load lock (and the server's cores) within a second.
CLIENT_CHECK = "1s"

F = TypeVar("F", bound=Callable[..., Any])


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def pg_errors(method: F) -> F:
    """Database errors become one-line SparkifyErrors that never show the password."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except psycopg.Error as exc:
            raise SparkifyError(f"PostgreSQL: {mask_secrets(first_line(exc))}") from None

    return wrapper  # type: ignore[return-value]


def watch_client(con: psycopg.Connection) -> None:
    """Have the server end this session's statement once its client is gone (PostgreSQL 14+)."""
    if con.info.server_version >= 140000:
        con.execute(f"SET client_connection_check_interval = '{CLIENT_CHECK}'")


def take_load_lock(con: psycopg.Connection, warehouse: str) -> None:
    """BEGIN, then the load lock (held to the end of the transaction): at once, or after saying
    whose load we wait for, up to $SPARKIFY_LOCK_TIMEOUT seconds."""
    con.execute("BEGIN")
    if con.execute("SELECT pg_try_advisory_xact_lock(%s)", [LOAD_LOCK]).fetchone()[0]:  # type: ignore[index]
        return
    print(waiting_message(warehouse, _holder(con)), file=sys.stderr)
    con.execute(f"SET LOCAL lock_timeout = '{int(lock_timeout() * 1000)}ms'")
    try:
        con.execute("SELECT pg_advisory_xact_lock(%s)", [LOAD_LOCK])
    except psycopg.errors.LockNotAvailable:
        con.execute("ROLLBACK")
        raise SparkifyError(gave_up_message(warehouse)) from None
    con.execute("RESET lock_timeout")


def _holder(con: psycopg.Connection) -> str:
    """` (server process 123, since 05:30:12 UTC)`: the session holding the load lock, if seen."""
    row = con.execute(
        "SELECT a.pid, to_char(a.xact_start AT TIME ZONE 'UTC', 'HH24:MI:SS') FROM pg_locks AS l "
        "JOIN pg_stat_activity AS a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
        "AND l.classid = 0 AND l.objid = %s AND l.database = "
        "(SELECT oid FROM pg_database WHERE datname = current_database())",
        [LOAD_LOCK],
    ).fetchone()
    return f" (server process {row[0]}, since {row[1]} UTC)" if row else ""
