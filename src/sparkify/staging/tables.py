"""The staging layer's columns, and the SQL that turns raw JSON records into typed rows.

Each source is a list of fields (JSON key, column, type). From that one list come the staging
DDL, the parsing SQL with its per-record reject reason, and (for Redshift) the JSONPaths file.
A record is rejected, never silently altered, when a field cannot be read as its type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FieldType = Literal["text", "integer", "double", "digits"]

#: Characters of a rejected record kept in load_errors.raw_text (as Redshift's stl_load_errors.raw_line).
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


def duckdb_staging_ddl(source: Source) -> str:
    """The source's staging table in DuckDB: the warehouse's, and the private parser's hand-over."""
    columns = ",\n    ".join(f"{f.column} {f.sql_type}" for f in source.fields)
    return (
        f"CREATE TABLE staging.{source.table} (\n    load_id BIGINT NOT NULL,\n"
        f"    source_file VARCHAR NOT NULL,\n    source_line BIGINT NOT NULL,\n    {columns}\n)"
    )


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


def _struct_literal(fields: tuple[Field, ...], types: dict[str, str]) -> str:
    """A json_transform structure such as '{"ts": "BIGINT", ...}' as a SQL string literal."""
    body = ", ".join(f'"{f.key}": "{types[f.type]}"' for f in fields)
    return "'{" + body.replace("'", "''") + "}'"


def _json_path(key: str) -> str:
    return "'$.\"" + key.replace("'", "''") + "\"'"


def _key(struct: str, key: str) -> str:
    return f'{struct}."{key}"'


def _number_check(field: Field, text: str) -> str:
    """True when `text` (a field read as text) is a valid value of the field's number type.

    Numbers are cast from text; an integer must also equal its value as a double, which rejects
    3.7 (cast to 4). Only for integer, double and digits fields.
    """
    if field.type == "integer":
        return f"TRY_CAST({text} AS DOUBLE) = TRY_CAST({text} AS BIGINT)"
    if field.type == "double":
        return f"isfinite(TRY_CAST({text} AS DOUBLE))"
    # digits, and small enough to be a BIGINT id
    return f"regexp_full_match({text}, '[0-9]*') AND ({text} = '' OR TRY_CAST({text} AS BIGINT) IS NOT NULL)"


def _ok_sql(field: Field) -> str:
    """True when the field is absent, null, or reads as its type.

    `s` holds every field as text (one json_transform to VARCHAR), `raw` the record.
    """
    text = _key("s", field.key)
    if field.type == "text":  # anything but an object or an array (looked at only where it starts like one)
        valid = (  # a CASE, so the JSON is parsed again only for the rare text that needs it
            f"CASE WHEN starts_with({text}, '{{') OR starts_with({text}, '[') "
            f"THEN json_type(json_extract(raw, {_json_path(field.key)})) NOT IN ('OBJECT', 'ARRAY') ELSE true END"
        )
    else:
        valid = _number_check(field, text)
    if field.type in ("text", "digits"):
        # No warehouse but DuckDB can store NUL in text: reject it here, the same for all.
        valid = f"({valid}) AND NOT (has_nul AND contains({text}, chr(0)))"
    return f"({text} IS NULL OR COALESCE({valid}, false))"


def _value_sql(field: Field, ok: str) -> str:
    text = _key("s", field.key)
    if field.type == "text":
        return text
    cast = {"integer": f"TRY_CAST({text} AS BIGINT)", "double": f"TRY_CAST({text} AS DOUBLE)", "digits": text}
    return f"CASE WHEN {ok} THEN {cast[field.type]} END"


_EXPECTED = {"text": "text", "digits": "a string of digits", "integer": "an integer", "double": "a number"}

#: DuckDB's JSON parser accepts more than RFC 8259: NaN and Infinity literals (any case, signed)
#: and trailing commas. Strict JSON has neither outside strings; all else it rejects itself.
_LENIENT_NUMBER = "[-+]?(?:[Nn][Aa][Nn]|[Ii][Nn][Ff])"
#: Cheap first looks for those, each starting with one byte RE2 can skip to (memchr): a lenient
#: token follows a comma, a colon or an opening bracket, or starts the text.
_SUSPECTS = (
    r",[ \t\r\n]*(?:[\]}]|" + _LENIENT_NUMBER + ")",
    r":[ \t\r\n]*" + _LENIENT_NUMBER,
    r"\[[ \t\r\n]*" + _LENIENT_NUMBER,
    r"^[ \t\r\n]*" + _LENIENT_NUMBER,
)
#: Every string of a record replaced by "", so what remains is structure, numbers and literals.
_STRINGS = r'"(?:[^"\\]|\\.)*"'


def lenient_suspect_sql(raw: str) -> str:
    """True when the JSON text `raw` may hold NaN/Infinity or a trailing comma (a string's text
    can look so too: lenient_reason_sql decides)."""
    return "(" + " OR ".join(f"regexp_matches({raw}, '{pattern}')" for pattern in _SUSPECTS) + ")"


def lenient_reason_sql(raw: str) -> str:
    """Why the JSON text `raw`, which DuckDB parsed, is not strict JSON, or NULL when it is."""
    bare = f"""regexp_replace({raw}, '{_STRINGS.replace("'", "''")}', '""', 'g')"""
    return (f"CASE WHEN regexp_matches({bare}, '(?i:nan|inf)') "
            "THEN 'invalid JSON: NaN and Infinity are not JSON numbers' "
            f"WHEN regexp_matches({bare}, ',[ \\t\\r\\n]*[\\]}}]') THEN 'invalid JSON: a trailing comma' END")


def parse_sql(source: Source, records_sql: str, extra_ctes: str = "") -> str:
    """SELECT of typed rows plus `reason`/`error_column` (NULL when the record is good).

    `records_sql` yields (file, line, raw, reason): one JSON record each, reason set when the
    record was already rejected while being read (e.g. bytes that are not UTF-8).
    `extra_ctes` are common table expressions `records_sql` reads from.
    DuckDB parses each record with json_transform (vectorised, all cores); each field's check is
    computed once, and the reason text only for the rare records that fail.
    """
    fields = source.fields
    as_text = _struct_literal(fields, {t: "VARCHAR" for t in _EXPECTED})
    oks = ",\n        ".join(f"{_ok_sql(f)} AS ok_{i}" for i, f in enumerate(fields))
    all_ok = " AND ".join(f"ok_{i}" for i in range(len(fields)))
    reasons = "\n                ".join(
        f"WHEN NOT ok_{i} THEN CASE WHEN contains({_key('s', f.key)}, chr(0)) "
        f"THEN '{f.key}: text contains a NUL character' "
        f"ELSE '{f.key}: expected {_EXPECTED[f.type]}, got ' || left({_key('s', f.key)}, 60) END"
        for i, f in enumerate(fields)
    )
    columns = "\n                ".join(f"WHEN NOT ok_{i} THEN '{f.key}'" for i, f in enumerate(fields))
    values = ",\n    ".join(f"{_value_sql(f, f'ok_{i}')} AS {f.column}" for i, f in enumerate(fields))
    ctes = f"{extra_ctes},\n" if extra_ctes else ""
    return f"""
WITH {ctes}records AS (
    {records_sql}
),
parsed AS (
    SELECT file, line, raw, reason,
        CASE WHEN reason IS NULL THEN try(json_transform(raw, {as_text})) END AS s,
        contains(raw, '\\u0000') AS has_nul
    FROM records
),
checked AS (
    SELECT file, line, raw, reason, s, has_nul,
        CASE WHEN s IS NOT NULL AND {lenient_suspect_sql('raw')} THEN {lenient_reason_sql('raw')} END AS lenient,
        s IS NOT NULL AND CASE WHEN s IS NULL THEN false WHEN starts_with(raw, '{{') THEN true
             ELSE json_type(raw) = 'OBJECT' END AS is_object,
        {oks}
    FROM parsed
),
judged AS (
    SELECT *,
        CASE WHEN reason IS NOT NULL THEN reason
             WHEN s IS NULL THEN 'invalid JSON'
             WHEN lenient IS NOT NULL THEN lenient
             WHEN NOT is_object THEN 'not a JSON object but ' || json_type(raw)
             WHEN {all_ok} THEN NULL
             ELSE CASE
                    {reasons}
                  END
        END AS why,
        CASE WHEN reason IS NOT NULL OR lenient IS NOT NULL OR NOT is_object OR ({all_ok}) THEN NULL
             ELSE CASE
                    {columns}
                  END
        END AS error_column
    FROM checked
)
SELECT file, line, CASE WHEN why IS NOT NULL THEN left(raw, {RAW_LIMIT}) END AS raw, why AS reason, error_column,
    {values}
FROM judged
"""


def insert_staged_sql(source: Source, load_id: str, parsed: str = "_parsed") -> str:
    """Good records of a parsed batch into the source's staging table."""
    columns = ", ".join(f.column for f in source.fields)
    return (
        f"INSERT INTO staging.{source.table} (load_id, source_file, source_line, {columns}) "
        f"SELECT {load_id}, file, line, {columns} FROM {parsed} WHERE reason IS NULL"
    )


def insert_rejects_sql(load_id: str, source_name: str, parsed: str = "_parsed") -> str:
    """Rejected records of a parsed batch into staging.load_errors."""
    return (
        'INSERT INTO staging.load_errors (load_id, source, file, line, "column", reason, raw_text) '
        f"SELECT {load_id}, {source_name}, file, line, error_column, reason, raw FROM {parsed} WHERE reason IS NOT NULL"
    )


NOT_UTF8 = "__not_utf8__"


#: Lines end at LF; only in a file without any LF do CRs end them (records.line_break).
_LINE_BREAK = "CASE WHEN NOT contains(text, chr(10)) AND contains(text, chr(13)) THEN chr(13) ELSE chr(10) END"


def line_records_sql() -> str:
    """Records of the newline-delimited files in CTE `texts` (see texts_cte): the fast path.

    A file that is not valid UTF-8 yields one marker record (line 0, reason NOT_UTF8) so the
    caller can split it in Python line by line instead.
    """
    return f"""SELECT file, line,
        CASE WHEN line = 1 AND starts_with(raw, chr(65279)) THEN substr(raw, 2) ELSE raw END AS raw,
        NULL::VARCHAR AS reason
    FROM (
        SELECT file, line, CASE WHEN ends_with(part, chr(13)) THEN part[:-2] ELSE part END AS raw
        FROM (SELECT filename AS file, generate_subscripts(parts, 1) AS line, unnest(parts) AS part
              FROM (SELECT filename, string_split(text, {_LINE_BREAK}) AS parts FROM texts WHERE text IS NOT NULL))
    ) WHERE raw <> '' AND (ascii(raw) NOT IN (9, 13, 32, 65279) OR trim(raw, ' ' || chr(9) || chr(13) || chr(65279)) <> '')
    UNION ALL
    SELECT filename, 0, NULL, '{NOT_UTF8}' FROM texts WHERE text IS NULL"""


def texts_cte(files_param: str) -> str:
    """Each file's content as text, or NULL when it is not valid UTF-8."""
    return f"texts AS MATERIALIZED (SELECT filename, try(decode(content)) AS text FROM read_blob({files_param}))"


def fast_insert_sql(source: Source, files: int, *, load_id: str = "?", file: str = "?", path: str = "?") -> str:
    """INSERT into the source's staging table of every record that surely passes, read by
    DuckDB's own newline-delimited reader (read_ndjson_objects: each line's own text, parallel,
    several times faster than parse_sql) and json_transform. A line whose text may hold NaN,
    Infinity or a trailing comma (lenient_suspect_sql, a few memchr-led regexes) is left out.

    With the default placeholders, the parameters are the load_id, then each file's URI and local
    path. Only for newline-delimited files, and only as a first try: a line the reader cannot read
    becomes an all-NULL row, and a record not sure to pass is left out, so the caller compares the
    rows inserted per file with the file's lines and gives any file that falls short to the
    careful path (parse_sql), which says why a record is rejected. row_number() numbers the
    lines: the reader yields them in order, one row per non-blank line.
    """
    fields = source.fields
    value = {"integer": "TRY_CAST({} AS BIGINT)", "double": "TRY_CAST({} AS DOUBLE)"}

    def column(f: Field) -> str:
        return f'r."{f.key}"'

    def sure(f: Field) -> str:  # numbers and digits; text is checked all at once below
        return f"({column(f)} IS NULL OR COALESCE({_number_check(f, column(f))}, false))"

    def json_text(f: Field) -> str:  # an object or array reads as its JSON text
        return f"({column(f)} IS NULL OR ascii({column(f)}) NOT IN (91, 123) OR NOT json_valid({column(f)}))"

    as_text = _struct_literal(fields, {t: "VARCHAR" for t in _EXPECTED})
    # The window sits above the parse, so filters on the fields are not pushed down into
    # json_transform (which would then parse a line once per field).
    reads = "\n    UNION ALL ".join(
        f"SELECT file, line, unnest(s) FROM (SELECT {file} AS file, row_number() OVER () AS line, s, suspect "
        f"FROM (SELECT json_transform(json, {as_text}) AS s, {lenient_suspect_sql('json')} AS suspect "
        f"FROM read_ndjson_objects({path}, ignore_errors=true))) WHERE NOT suspect"
        for _ in range(files)
    )
    names = ", ".join(f.column for f in fields)
    values = ", ".join(value.get(f.type, "{}").format(column(f)) for f in fields)
    checks = "\n  AND ".join(sure(f) for f in fields if f.type != "text")
    texts = [f for f in fields if f.type == "text"]
    # All text values at once, each after a \x01: a value that starts with { or [ shows as
    # "\x01{" or "\x01[", and only then is each value looked at alone (three scans of one
    # string cost a third of eleven per-value checks).
    joined = f"concat_ws(chr(1), '', {', '.join(column(f) for f in texts)})"
    return f"""INSERT INTO staging.{source.table} (load_id, source_file, source_line, {names})
SELECT {load_id}, file, line, {values}
FROM (
    {reads}
) AS r
WHERE COALESCE({", ".join(column(f) for f in fields)}) IS NOT NULL  -- a line the reader could not read
  AND NOT contains({joined}, chr(0))
  AND (NOT (contains({joined}, chr(1) || '{{') OR contains({joined}, chr(1) || '['))
       OR ({" AND ".join(json_text(f) for f in texts)}))
  AND {checks}"""
