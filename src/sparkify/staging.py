"""The staging layer's columns, and the SQL that turns raw JSON records into typed rows.

Each source is a list of fields (JSON key, column, type). From that one list come the staging
DDL, the parsing SQL with its per-record reject reason, and (for Redshift) the JSONPaths file.
A record is rejected, never silently altered, when a field cannot be read as its type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FieldType = Literal["text", "integer", "double", "digits"]

#: Characters of a rejected record kept in load_errors.raw (as Redshift's stl_load_errors.raw_line).
RAW_LIMIT = 1024


@dataclass(frozen=True)
class Field:
    key: str
    column: str
    type: FieldType

    @property
    def sql_type(self) -> str:
        return {"text": "VARCHAR", "digits": "VARCHAR", "integer": "BIGINT", "double": "DOUBLE"}[self.type]


@dataclass(frozen=True)
class Source:
    name: str  # "events" or "songs"
    table: str
    fields: tuple[Field, ...]


EVENTS = Source(
    "events",
    "staging_events",
    (
        Field("artist", "artist", "text"),
        Field("auth", "auth", "text"),
        Field("firstName", "first_name", "text"),
        Field("gender", "gender", "text"),
        Field("itemInSession", "item_in_session", "integer"),
        Field("lastName", "last_name", "text"),
        Field("length", "length", "double"),
        Field("level", "level", "text"),
        Field("location", "location", "text"),
        Field("method", "method", "text"),
        Field("page", "page", "text"),
        Field("registration", "registration", "integer"),
        Field("sessionId", "session_id", "integer"),
        Field("song", "song", "text"),
        Field("status", "status", "integer"),
        Field("ts", "ts", "integer"),
        Field("userAgent", "user_agent", "text"),
        Field("userId", "user_id", "digits"),
    ),
)

SONGS = Source(
    "songs",
    "staging_songs",
    (
        Field("num_songs", "num_songs", "integer"),
        Field("artist_id", "artist_id", "text"),
        Field("artist_latitude", "artist_latitude", "double"),
        Field("artist_longitude", "artist_longitude", "double"),
        Field("artist_location", "artist_location", "text"),
        Field("artist_name", "artist_name", "text"),
        Field("song_id", "song_id", "text"),
        Field("title", "title", "text"),
        Field("duration", "duration", "double"),
        Field("year", "year", "integer"),
    ),
)

SOURCES = {"events": EVENTS, "songs": SONGS}


def _json_path(key: str) -> str:
    return "$." + '"' + key.replace('"', '\\"') + '"'


def _value_sql(field: Field, v: str) -> str:
    """DuckDB expression reading JSON value `v` as the field's type; NULL when it cannot."""
    t = f"json_type({v})"
    s = f"({v}->>'$')"
    if field.type == "text":
        return f"CASE WHEN {t} IN ('OBJECT', 'ARRAY') THEN NULL ELSE {s} END"
    if field.type == "digits":
        return (
            f"CASE WHEN {t} IN ('BIGINT', 'UBIGINT') THEN {s} "
            f"WHEN {t} = 'VARCHAR' AND regexp_full_match({s}, '[0-9]*') THEN {s} END"
        )
    if field.type == "integer":
        return (
            f"CASE {t} WHEN 'BIGINT' THEN TRY_CAST({s} AS BIGINT) "
            f"WHEN 'UBIGINT' THEN TRY_CAST({s} AS BIGINT) "
            f"WHEN 'DOUBLE' THEN CASE WHEN TRY_CAST({s} AS DOUBLE) = trunc(TRY_CAST({s} AS DOUBLE)) "
            f"AND abs(TRY_CAST({s} AS DOUBLE)) < 9.2e18 THEN TRY_CAST(TRY_CAST({s} AS DOUBLE) AS BIGINT) END "
            f"WHEN 'VARCHAR' THEN CASE WHEN regexp_full_match({s}, '\\s*[-+]?[0-9]+\\s*') "
            f"THEN TRY_CAST(trim({s}) AS BIGINT) END END"
        )
    if field.type == "double":
        return (
            f"CASE WHEN {t} IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN TRY_CAST({s} AS DOUBLE) "
            f"WHEN {t} = 'VARCHAR' THEN CASE WHEN isfinite(TRY_CAST(trim({s}) AS DOUBLE)) "
            f"THEN TRY_CAST(trim({s}) AS DOUBLE) END END"
        )
    raise ValueError(field.type)


_EXPECTED = {"text": "text", "digits": "a string of digits", "integer": "an integer", "double": "a number"}


def parse_sql(source: Source, records_sql: str, extra_ctes: str = "") -> str:
    """SELECT of typed rows plus `reason`/`error_column` (NULL when the record is good).

    `records_sql` yields (file, line, raw, reason): one JSON record each, reason set when the
    record was already rejected while being read (e.g. bytes that are not UTF-8).
    `extra_ctes` are common table expressions `records_sql` reads from.
    """
    paths = ", ".join(f"'{_json_path(f.key)}'" for f in source.fields)
    values = ",\n        ".join(
        f"{_value_sql(f, f'v[{i}]')} AS {f.column}" for i, f in enumerate(source.fields, start=1)
    )
    checks = []
    for i, f in enumerate(source.fields, start=1):
        bad = f"(v[{i}] IS NOT NULL AND json_type(v[{i}]) <> 'NULL' AND {f.column} IS NULL)"
        message = f"{f.key}: expected {_EXPECTED[f.type]}, got "
        checks.append((bad, f"'{message}' || json_type(v[{i}]) || ' ' || left(v[{i}]::VARCHAR, 40)", f.key))
    reason_cases = "\n            ".join(f"WHEN {bad} THEN {msg}" for bad, msg, _ in checks)
    column_cases = "\n            ".join(f"WHEN {bad} THEN '{key}'" for bad, _, key in checks)
    columns = ", ".join(f.column for f in source.fields)
    ctes = f"{extra_ctes},\n" if extra_ctes else ""
    return f"""
WITH {ctes}records AS (
    {records_sql}
),
objects AS (
    SELECT file, line, raw, reason,
        CASE WHEN reason IS NULL AND json_valid(raw) AND json_type(raw) = 'OBJECT'
             THEN json_extract(raw, [{paths}]) END AS v
    FROM records
),
typed AS (
    SELECT file, line, raw, reason, v,
        {values}
    FROM objects
)
SELECT file, line, left(raw, {RAW_LIMIT}) AS raw,
    CASE WHEN reason IS NOT NULL THEN reason
         WHEN NOT json_valid(raw) THEN 'invalid JSON'
         WHEN json_type(raw) <> 'OBJECT' THEN 'not a JSON object but ' || json_type(raw)
            {reason_cases}
    END AS reason,
    CASE WHEN reason IS NOT NULL OR NOT json_valid(raw) OR json_type(raw) <> 'OBJECT' THEN NULL
            {column_cases}
    END AS error_column,
    {columns}
FROM typed
"""


NOT_UTF8 = "__not_utf8__"


def line_records_sql() -> str:
    """Records of the newline-delimited files in CTE `texts` (see texts_cte): the fast path.

    A file that is not valid UTF-8 yields one marker record (line 0, reason NOT_UTF8) so the
    caller can split it in Python line by line instead.
    """
    return f"""SELECT file, line,
        rtrim(CASE WHEN line = 1 THEN ltrim(raw, chr(65279)) ELSE raw END, chr(13)) AS raw,
        NULL::VARCHAR AS reason
    FROM (
        SELECT filename AS file,
               unnest(generate_series(1, len(parts))) AS line,
               unnest(parts) AS raw
        FROM (SELECT filename, string_split(text, chr(10)) AS parts FROM texts WHERE text IS NOT NULL)
    ) WHERE trim(raw, ' ' || chr(9) || chr(13) || chr(65279)) <> ''
    UNION ALL
    SELECT filename, 0, NULL, '{NOT_UTF8}' FROM texts WHERE text IS NULL"""


def texts_cte(files_param: str) -> str:
    """Each file's content as text, or NULL when it is not valid UTF-8."""
    return f"texts AS MATERIALIZED (SELECT filename, try(decode(content)) AS text FROM read_blob({files_param}))"
