"""The few things DuckDB, PostgreSQL and Redshift spell differently, each named once.

The models in `sql/models/*.sql` are one file each, for every backend. Where the backends differ,
a model says what it means with a small macro, `{{ name(arguments) }}`, and this module writes it
in the backend's own SQL (the way dbt's adapter macros do):

- `{{ epoch_ms(x) }}`: milliseconds since the epoch as a TIMESTAMP, exact to the millisecond.
- `{{ ms_of(x) }}`: the other way: a TIMESTAMP as BIGINT milliseconds since the epoch.
- `{{ this_load() }}`: the load_id of the load being built (the newest in staging.loads). PostgreSQL
  reads it from the load's own setting `sparkify.load_id` (set by its build_star), which the
  planner folds into the estimate, so it sees how few of the staged rows a small load's are and
  reads them through the staging tables' BRIN index; the other backends read staging.loads.
- `{{ loads_to_read(table) }}`: the first load_id whose staged events a model reads for `table`:
  this load's when `table` has rows (only this load's events can change it), 0 (every staged
  event) when it is empty (a first load, or after a prune). PostgreSQL reads it from the setting
  `sparkify.loads_from_<table>`, which its build_star sets right before each statement that uses
  it (so it means the same as the others' subquery, and the planner estimates with the value).
- `{{ this_load_since() }}`: the time (a TIMESTAMP) of the earliest event this load staged, NULL
  when it staged none. A row that matches one of this load's events on its time is at or after it,
  so a model joining this load's events to a big table bounds that table's time by it, and
  PostgreSQL reads the range through the table's time index instead of all of it (from the
  setting `sparkify.load_since`, set by its build_star).
- `{{ reused_cte() }}`: after `WITH name AS`, for a CTE that several parts of the statement read:
  DuckDB reads it where it is used, never stored (NOT MATERIALIZED: its scans are cheap and
  parallel); PostgreSQL stores it once (MATERIALIZED: each scan of a staging table there reads
  every page, and the users model read staged events three times); Redshift has no such hint.
- `{{ replace_by(key, …) }}` before `INSERT INTO table (columns) SELECT …`: make the table's rows
  exactly what the SELECT returns, row for row by the key. DuckDB deletes and inserts; PostgreSQL
  upserts (unchanged rows are left alone: no dead tuples, no foreign-key re-checks); Redshift,
  which enforces no key, MERGEs. With `within=name` last, only the rows whose first key is in
  the temp table `name` (a column of that key's name) are the SELECT's to replace; every other
  row stays as it is: an incremental model names there what the load changed.

- `{{ temp(name) }}`: a temporary table's name, spelled so that it can only mean this session's
  temp table, never a user's table of that name reached through the search_path (when the temp
  table is missing): DuckDB's `temp.main.name`, PostgreSQL's `pg_temp.name`, and on Redshift
  `"#name"` (a name starting with # is always a temp table there, so no user table has it).

One rule is the same everywhere and lives here too, so that it is written once:

- `{{ clean(x) }}`: the text rule of the star schema: leading and trailing spaces removed, and a
  value left empty becomes NULL (Redshift's COPY already loads blank fields as NULL).
"""

from __future__ import annotations

import re
from collections.abc import Callable

DIALECTS = ("duckdb", "postgresql", "redshift")

_MACRO = re.compile(r"\{\{\s*(\w+)\s*\((.*?)\)\s*\}\}", re.DOTALL)
_REPLACE = re.compile(r"^\s*\{\{\s*replace_by\s*\((?P<keys>[^)]*)\)\s*\}\}\s*", re.DOTALL)
_INSERT = re.compile(r"INSERT\s+INTO\s+(?P<table>[\w.\"]+)\s*\((?P<columns>[^)]*)\)\s*(?P<select>.+)",
                     re.IGNORECASE | re.DOTALL)


def _arguments(text: str) -> list[str]:
    """A macro's arguments: raw SQL split at commas outside parentheses and quotes."""
    parts, depth, quote, current = [], 0, False, ""
    for char in text:
        if char == "'":
            quote = not quote
        elif not quote and char == "(":
            depth += 1
        elif not quote and char == ")":
            depth -= 1
        if char == "," and depth == 0 and not quote:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        parts.append(current.strip())
    return parts


def clean(value: str) -> str:
    """The one text rule of the star: trimmed of spaces, and NULL when nothing is left."""
    return f"NULLIF(TRIM({value}), '')"


def epoch_ms(dialect: str, value: str) -> str:
    if dialect in ("duckdb", "postgresql"):  # PostgreSQL: analytics.epoch_ms, inlined by the planner
        return f"epoch_ms({value})"
    return f"(TIMESTAMP 'epoch' + ({value}) * INTERVAL '0.001 second')"


def ms_of(dialect: str, value: str) -> str:
    if dialect == "duckdb":
        return f"epoch_ms({value})"
    # Whole seconds, then the milliseconds within the second: Redshift's EXTRACT(ms …) is those
    # alone (0-999), PostgreSQL's counts the second's seconds too, so MOD takes what both agree on.
    return (f"(CAST(FLOOR(EXTRACT(EPOCH FROM {value})) AS BIGINT) * 1000 "
            f"+ MOD(CAST(EXTRACT(MILLISECOND FROM {value}) AS BIGINT), 1000))")


def temp(dialect: str, name: str) -> str:
    """A temp table's name that no user table can take (see the module's docstring)."""
    if dialect == "duckdb":
        return f"temp.main.{name}"
    if dialect == "postgresql":
        return f"pg_temp.{name}"
    return f'"#{name}"'


#: The setting a PostgreSQL load keeps its load_id in, for `{{ this_load() }}` (PostgresWarehouse.build_star).
LOAD_ID_SETTING = "sparkify.load_id"


#: The setting a PostgreSQL load keeps its earliest staged ts in, for `{{ this_load_since() }}`.
LOAD_SINCE_SETTING = "sparkify.load_since"
#: The settings of `{{ loads_to_read(analytics.table) }}` on PostgreSQL: `sparkify.loads_from_<table>`.
LOADS_FROM_PREFIX = "sparkify.loads_from_"
LOADS_FROM_SETTING = re.compile(rf"current_setting\('({re.escape(LOADS_FROM_PREFIX)}(\w+))'\)")


def this_load(dialect: str) -> str:
    if dialect == "postgresql":  # a stable expression: the planner estimates with its value
        return f"CAST(current_setting('{LOAD_ID_SETTING}') AS BIGINT)"
    return "(SELECT MAX(load_id) FROM staging.loads)"


def loads_to_read(dialect: str, table: str) -> str:
    schema, _, name = table.partition(".")
    name = name.strip('"')
    if schema != "analytics" or not re.fullmatch(r"\w+", name):
        raise ValueError(f"loads_to_read() takes a table name of the star (analytics.name), not {table!r}")
    if dialect == "postgresql":
        return f"CAST(current_setting('{LOADS_FROM_PREFIX}{name}') AS BIGINT)"
    return f"(SELECT COALESCE(MAX(load_id), 0) FROM staging.loads WHERE EXISTS (SELECT 1 FROM {table}))"


def this_load_since(dialect: str) -> str:
    if dialect == "postgresql":
        return epoch_ms(dialect, f"CAST(NULLIF(current_setting('{LOAD_SINCE_SETTING}'), '') AS BIGINT)")
    return epoch_ms(dialect, f"(SELECT MIN(ts) FROM staging.staging_events WHERE load_id = {this_load(dialect)})")


def reused_cte(dialect: str) -> str:
    return {"duckdb": "NOT MATERIALIZED", "postgresql": "MATERIALIZED"}.get(dialect, "")


def replace_by(dialect: str, keys: list[str], table: str, columns: list[str], select: str,
               within: str | None = None) -> list[str]:
    """The statements that make `table` hold exactly the rows of `select`, matched on `keys`;
    with `within`, only among the rows whose first key is in that temp table."""
    names = ", ".join(columns)
    scope = f"{keys[0]} IN (SELECT {keys[0]} FROM {temp(dialect, within)})" if within else ""
    scratch = temp(dialect, "model_" + table.rpartition(".")[2].strip('"'))
    if dialect == "duckdb" and not within:
        return [f"DELETE FROM {table}", f"INSERT INTO {table} ({names})\n{select}"]
    others = [c for c in columns if c not in keys]
    if dialect == "postgresql":
        match = " AND ".join(f"m.{k} = t.{k}" for k in keys)
        scoped = f"t.{scope} AND " if scope else ""
        if others:
            sets = ", ".join(f"{c} = excluded.{c}" for c in others)
            old = ", ".join(f"{table}.{c}" for c in others)
            new = ", ".join(f"excluded.{c}" for c in others)
            action = f"DO UPDATE SET {sets} WHERE ({old}) IS DISTINCT FROM ({new})"
        else:
            action = "DO NOTHING"
        return [
            f"CREATE TEMP TABLE {scratch} ({names}) ON COMMIT DROP AS\n{select}",
            f"DELETE FROM {table} AS t WHERE {scoped}NOT EXISTS (SELECT 1 FROM {scratch} AS m WHERE {match})",
            f"INSERT INTO {table} ({names}) SELECT {names} FROM {scratch} ON CONFLICT ({', '.join(keys)}) {action}",
            f"DROP TABLE {scratch}",
        ]
    statements = [f"CREATE TEMP TABLE {scratch} ({names}) AS\n{select}"]
    if len(keys) == 1 and not within:  # Redshift: no correlated subqueries, so the anti-join is NOT IN
        statements.append(f"DELETE FROM {table} WHERE {keys[0]} NOT IN (SELECT {keys[0]} FROM {scratch})")
        on = f"{table}.{keys[0]} = m.{keys[0]}"
        sets = ", ".join(f"{c} = m.{c}" for c in others)
        values = ", ".join(f"m.{c}" for c in columns)
        statements.append(
            f"MERGE INTO {table} USING {scratch} AS m ON {on}\n"
            + (f"WHEN MATCHED THEN UPDATE SET {sets}\n" if others else "")
            + f"WHEN NOT MATCHED THEN INSERT ({names}) VALUES ({values})"
        )
    else:  # a composite key (NOT IN cannot compare rows on Redshift), or a scoped replace: delete-insert,
        # the SELECT stored first, since it may read the rows it replaces (users.sql does)
        statements += [f"DELETE FROM {table}" + (f" WHERE {scope}" if scope else ""),
                       f"INSERT INTO {table} ({names}) SELECT {names} FROM {scratch}"]
    statements.append(f"DROP TABLE {scratch}")
    return statements


#: The expression macros, by name: each takes the dialect and its SQL arguments.
MACROS: dict[str, Callable[..., str]] = {
    "epoch_ms": epoch_ms,
    "ms_of": ms_of,
    "reused_cte": reused_cte,
    "this_load": this_load,
    "loads_to_read": loads_to_read,
    "this_load_since": this_load_since,
    "temp": temp,
    "clean": lambda dialect, value: clean(value),
}


def expand(statement: str, dialect: str) -> list[str]:
    """One statement of a model, written in `dialect`'s SQL (one or more statements)."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown SQL dialect {dialect!r}")
    replace = _REPLACE.match(statement)
    if replace:
        rest = statement[replace.end():]
        insert = _INSERT.fullmatch(rest.strip())
        if not insert:
            raise ValueError("{{ replace_by(…) }} must come before INSERT INTO table (columns) SELECT …")
        keys = _arguments(replace.group("keys"))
        within = keys.pop()[len("within="):].strip() if keys and keys[-1].startswith("within=") else None
        columns = _arguments(insert.group("columns"))
        return replace_by(dialect, keys, insert.group("table"), columns, _expressions(insert.group("select"), dialect),
                          within)
    return [_expressions(statement, dialect)]


def _expressions(sql: str, dialect: str) -> str:
    def one(match: re.Match[str]) -> str:
        name, arguments = match.group(1), _arguments(match.group(2))
        if name not in MACROS:
            raise ValueError(f"unknown SQL macro {{{{ {name}(…) }}}}")
        return MACROS[name](dialect, *arguments)

    return _MACRO.sub(one, sql)
