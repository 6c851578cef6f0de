"""The PostgreSQL analyst role: reads the star schema and the load log, nothing else, and cannot
write, by privileges (not only by a session default it could switch off).

`sparkify grant --analyst ROLE` refuses a role that is, or is a member in any way (NOINHERIT too:
it could `SET ROLE`) of, a role that can read staged data, write anything, create objects or
temporary tables, or that is a superuser, BYPASSRLS, CREATEROLE or REPLICATION role. The check is
one query (sql/postgresql/analyst_access.sql) run after the grants, in the same transaction.
"""

from __future__ import annotations

import re
from typing import Any

from psycopg import sql as pgsql

from sparkify.errors import SparkifyError
from sparkify.warehouse.sqlfiles import read_sql

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
#: What `status` and `loads` read: counts, times, status and (masked) messages, no staged data.
LOAD_LOG = ("staging.loads", "staging.load_sources", "staging.removed_files")
_ATTRIBUTES = {"rolsuper": "is a superuser: it can read everything", "rolbypassrls": "has BYPASSRLS",
               "rolcreaterole": "has CREATEROLE (it could grant itself any role)",
               "rolreplication": "has REPLICATION (it could stream every table)"}


def grant_analyst(con: Any, role: str, password: str | None = None) -> tuple[bool, list[str]]:
    """Make `role` a read-only login of the star schema; (created, what was changed for others)."""
    if not ROLE_NAME.match(role):
        raise SparkifyError(
            f"invalid role name {role!r}: use lower-case letters, digits and _, starting with a letter or _"
        )
    name = pgsql.Identifier(role)
    notes: list[str] = []
    with con.transaction():
        row = con.execute(f"SELECT {', '.join(_ATTRIBUTES)} FROM pg_roles WHERE rolname = %s", [role]).fetchone()
        for attribute, held in zip(_ATTRIBUTES, row or ()):
            if held:
                raise SparkifyError(f"role {role!r} {_ATTRIBUTES[attribute]}; choose another role")
        created = row is None
        if created:
            query = pgsql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS")
        else:
            query = pgsql.SQL("ALTER ROLE {} LOGIN")
        query = query.format(name)
        if password is not None:
            query += pgsql.SQL(" PASSWORD {}").format(pgsql.Literal(password))
        con.execute(query)
        con.execute(pgsql.SQL("ALTER ROLE {} SET search_path = analytics").format(name))
        con.execute(pgsql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(name))
        database = pgsql.Identifier(con.execute("SELECT current_database()").fetchone()[0])
        con.execute(pgsql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(database, name))
        con.execute(pgsql.SQL("REVOKE CREATE, TEMPORARY ON DATABASE {} FROM {}").format(database, name))
        for schema in ("staging", "analytics", "public"):
            con.execute(pgsql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA {} FROM {}").format(
                pgsql.Identifier(schema), name))
            con.execute(pgsql.SQL("REVOKE CREATE ON SCHEMA {} FROM {}").format(pgsql.Identifier(schema), name))
        notes += _close_public(con, role)
        grant_read(con, role)
        problems = con.execute(read_sql("postgresql/analyst_access", "postgresql"), {"role": role}).fetchall()
        if problems:
            through, what = problems[0]
            via = "" if through == role else f" through role {through!r} (it is a member: SET ROLE)"
            raise SparkifyError(f"role {role!r} {what}{via}; choose a dedicated role")
    return created, notes


def grant_read(con: Any, role: str) -> None:
    """SELECT on the star schema (tables and views) and on the load log; nothing else."""
    name = pgsql.Identifier(role)
    con.execute(pgsql.SQL("GRANT USAGE ON SCHEMA analytics, staging TO {}").format(name))
    con.execute(pgsql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO {}").format(name))
    con.execute(pgsql.SQL("GRANT SELECT ON {} TO {}").format(
        pgsql.SQL(", ").join(pgsql.Identifier(*t.split(".")) for t in LOAD_LOG), name))


def _close_public(con: Any, role: str) -> list[str]:
    """PUBLIC's TEMPORARY on the database (a default) and CREATE on public (PostgreSQL < 15) would let
    the analyst write: revoke them from PUBLIC, keep them for the user running `grant`, and say so."""
    notes = []
    database = con.execute("SELECT current_database()").fetchone()[0]
    if con.execute("SELECT has_database_privilege(%s, current_database(), 'TEMPORARY')", [role]).fetchone()[0]:
        db = pgsql.Identifier(database)
        con.execute(pgsql.SQL("GRANT TEMPORARY ON DATABASE {} TO CURRENT_USER").format(db))
        con.execute(pgsql.SQL("REVOKE TEMPORARY ON DATABASE {} FROM PUBLIC").format(db))
        notes.append(f"revoked TEMPORARY on database {database} from PUBLIC (kept for the current user)")
    public = con.execute("SELECT has_schema_privilege(%s, 'public', 'CREATE') FROM pg_namespace "
                         "WHERE nspname = 'public'", [role]).fetchone()
    if public and public[0]:
        con.execute("GRANT CREATE ON SCHEMA public TO CURRENT_USER")
        con.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        notes.append("revoked CREATE on schema public from PUBLIC (kept for the current user)")
    return notes


def analysts(con: Any) -> list[str]:
    """Roles that may read analytics now, so re-creating the tables keeps their access."""
    rows = con.execute(
        """
        SELECT r.rolname FROM pg_namespace AS n, aclexplode(n.nspacl) AS a
        JOIN pg_roles AS r ON r.oid = a.grantee
        WHERE n.nspname = 'analytics' AND a.privilege_type = 'USAGE' AND a.grantee <> n.nspowner
        """
    ).fetchall()
    return [r[0] for r in rows]
