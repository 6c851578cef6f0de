"""Redshift's COPY … FORMAT AS JSON, as AWS documents it, in pure functions: the statement's
options, JSONPath expressions, the root JSON values of a file and each value's conversion to its
column's type (or the reject that STL_LOAD_ERRORS records).

Documented behaviour followed here (Redshift Database Developer Guide, "COPY from JSON format",
"Data conversion parameters", "Data load operations", "Load error reference"):
- a file holds root-level JSON objects or arrays, one after another, whatever the line breaks;
- a JSONPath is bracket or dot notation to one element; a path that is not found loads NULL; an
  object or array found loads as its JSON text;
- EMPTYASNULL / BLANKSASNULL load "" / blank CHAR and VARCHAR fields as NULL; empty fields of
  other types always load NULL;
- MAXERROR n: "If the load returns the error_count number of errors or greater, the load fails";
  0 (the default) and 1 both fail on the first error; the limit is 100000;
- VARCHAR(n) counts bytes; rejects carry the error codes of the load error reference.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

MAXERROR_LIMIT = 100000


class CopyError(Exception):
    """The COPY fails as a whole (Redshift's error for the statement)."""


class NotEmulated(Exception):
    """Something the stand-in does not emulate: the test must not pass by accident."""


@dataclass
class Copy:
    table: str
    columns: list[str]
    source: str
    iam_role: str | None = None
    region: str | None = None
    manifest: bool = False
    jsonpaths: str | None = None
    empty_as_null: bool = False
    blanks_as_null: bool = False
    max_error: int = 0
    #: How many objects it read (its manifest's entries that exist), once run.
    objects: int = 0

    def fails(self, errors: int) -> bool:
        return errors >= max(self.max_error, 1)


_TOKEN = re.compile(r"\s*(?:('(?:[^'\\]|\\.|'')*')|(\()|(\))|([^\s()']+))", re.DOTALL)
_SWITCHES = {"MANIFEST": "manifest", "EMPTYASNULL": "empty_as_null", "BLANKSASNULL": "blanks_as_null"}
_ON_OFF = {"COMPUPDATE": ("ON", "OFF", "TRUE", "FALSE", "PRESET"), "STATUPDATE": ("ON", "OFF", "TRUE", "FALSE")}


def _unquote(token: str) -> str:
    return re.sub(r"\\(.)", r"\1", token[1:-1].replace("''", "'"))


def parse_copy(sql: str) -> Copy:
    """The options of `COPY table [(columns)] FROM 's3://…' …` (CopyError if Redshift would refuse)."""
    tokens = [next(g for g in m.groups() if g is not None) for m in _TOKEN.finditer(sql.strip().rstrip(";"))]
    if len(tokens) < 4 or tokens[0].upper() != "COPY":
        raise CopyError("syntax error in COPY")
    table, i, columns = tokens[1], 2, []
    if tokens[i] == "(":
        end = tokens.index(")", i)
        columns = [c.strip() for c in " ".join(tokens[i + 1:end]).split(",") if c.strip()]
        i = end + 1
    if tokens[i].upper() != "FROM" or not tokens[i + 1].startswith("'"):
        raise CopyError("syntax error at or near FROM: COPY needs FROM 's3://…'")
    copy = Copy(table, columns, _unquote(tokens[i + 1]))
    i += 2
    while i < len(tokens):
        word = tokens[i].upper()
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        if word in ("IAM_ROLE", "REGION"):
            i += 1 + (following.upper() == "AS")
            setattr(copy, word.lower(), _unquote(tokens[i]))
        elif word in _SWITCHES:
            setattr(copy, _SWITCHES[word], True)
        elif word in ("FORMAT", "JSON"):
            i += (word == "FORMAT") + (word == "FORMAT" and following.upper() == "AS")
            if tokens[i].upper() != "JSON":
                raise NotEmulated(f"COPY … FORMAT {tokens[i]}: the stand-in emulates JSON only")
            i += 1
            copy.jsonpaths = _unquote(tokens[i])
            if copy.jsonpaths.lower().startswith("auto") or copy.jsonpaths == "noshred":
                raise NotEmulated("FORMAT AS JSON 'auto': the stand-in emulates a JSONPaths file only")
        elif word == "MAXERROR":
            i += 1 + (following.upper() == "AS")
            copy.max_error = int(tokens[i])
            if not 0 <= copy.max_error <= MAXERROR_LIMIT:
                raise CopyError(f"MAXERROR {copy.max_error}: must be between 0 and {MAXERROR_LIMIT}")
        elif word in _ON_OFF:
            i += following.upper() in _ON_OFF[word]
        else:
            raise NotEmulated(f"COPY option {tokens[i]}: not emulated by the stand-in")
        i += 1
    if copy.iam_role is None:
        raise CopyError("COPY from Amazon S3 needs authorization: IAM_ROLE or CREDENTIALS")
    if copy.jsonpaths is None:
        raise NotEmulated("COPY without FORMAT AS JSON: the stand-in emulates JSON only")
    return copy


def parse_jsonpath(expression: str) -> list[str | int]:
    """`$['a']['b'][0]` or `$.a.b[0]` as steps; CopyError for what Redshift does not support."""
    bracket = re.fullmatch(r"\$((?:\['[^']*'\]|\[\d+\])+)", expression)
    dot = re.fullmatch(r"\$((?:\.[^.'\[\]]+(?:\[\d+\])*)+)", expression)
    if bracket:
        parts = re.findall(r"\['([^']*)'\]|\[(\d+)\]", bracket.group(1))
    elif dot:
        parts = re.findall(r"\.([^.'\[\]]+)|\[(\d+)\]", dot.group(1))
    else:
        raise CopyError(f"Invalid JSONPath format: {expression}")
    return [int(index) if index else name for name, index in parts]


def apply(steps: list[str | int], value: Any) -> Any:
    """The element a JSONPath names, or None when it is not there."""
    for step in steps:
        if isinstance(step, int) and isinstance(value, list) and step < len(value):
            value = value[step]
        elif isinstance(step, str) and isinstance(value, dict) and step in value:
            value = value[step]
        else:
            return None
    return value


class Number(str):
    """A JSON number, kept as it is written (1540919166796.0 is not 1540919166796)."""


_DECODER = json.JSONDecoder(parse_int=Number, parse_float=Number,
                            parse_constant=lambda name: (_ for _ in ()).throw(ValueError(f"{name} is not JSON")))


@dataclass
class Record:
    value: Any  # a dict or list; None when the text is not a JSON object or array
    line: int  # the last line of the record (STL_LOAD_ERRORS.line_number for JSON)
    text: str
    error: str = ""


def records(text: str) -> Iterator[Record]:
    """The root JSON values of a file; a malformed one is a record with an error, and reading
    resumes on the next line (the stand-in's choice: AWS does not document resynchronisation)."""
    pos, line, n = 0, 1, len(text)
    while True:
        while pos < n and text[pos] in " \t\r\n":
            line += text[pos] == "\n"
            pos += 1
        if pos >= n:
            return
        try:
            value, end = _DECODER.raw_decode(text, pos)
            error = "" if isinstance(value, (dict, list)) else "Invalid JSON: a root value must be an object or array"
        except ValueError as exc:
            end = text.find("\n", pos)
            end = n if end < 0 else end
            value, error = None, f"Invalid JSON: {getattr(exc, 'msg', str(exc))}"
        chunk = text[pos:end]
        line += chunk.count("\n")
        yield Record(value if not error else None, line, chunk, error)
        pos = end


@dataclass
class Column:
    name: str
    pg_type: str  # as format_type() spells it
    not_null: bool = False
    kind: str = field(init=False)
    length: int | None = field(init=False)

    def __post_init__(self) -> None:
        t = self.pg_type.lower()
        size = re.search(r"\((\d+)\)", t)
        self.length = int(size.group(1)) if size else None
        for prefix, kind in (("character varying", "varchar"), ("character", "char"), ("bigint", "int8"),
                             ("integer", "int4"), ("smallint", "int2"), ("double precision", "float8"),
                             ("real", "float4"), ("boolean", "bool")):
            if t.startswith(prefix):
                self.kind = kind
                return
        raise NotEmulated(f"COPY into a {self.pg_type} column ({self.name}): not emulated by the stand-in")


@dataclass
class Reject:
    code: int
    reason: str
    column: Column | None = None
    value: str = ""


_INT_RANGE = {"int2": (2**15, "Short"), "int4": (2**31, "Integer"), "int8": (2**63, "Long")}
_FLOAT = re.compile(r"-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_BOOLS = {"t": True, "true": True, "1": True, "y": True, "yes": True,
          "f": False, "false": False, "0": False, "n": False, "no": False}


def field_text(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def convert(value: Any, column: Column, copy: Copy) -> Any:
    """The value COPY stores in `column` (None for NULL), or a Reject."""
    if value is None:
        return Reject(1213, "Missing data for not-null field", column) if column.not_null else None
    text = field_text(value)
    if "\x00" in text:
        raise NotEmulated(f"a NUL character in {column.name}: PostgreSQL cannot store it")
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        return Reject(1220, "String contains invalid or unsupported UTF8 codepoints", column, text)
    if column.kind in ("varchar", "char"):
        if (copy.empty_as_null and text == "") or (copy.blanks_as_null and text and not text.strip()):
            return None if not column.not_null else Reject(1213, "Missing data for not-null field", column)
        if column.length is not None and len(text.encode()) > column.length:
            return Reject(1204, "String length exceeds DDL length", column, text)
        return text
    if text == "" and isinstance(value, str) and not isinstance(value, Number):
        return None if not column.not_null else Reject(1213, "Missing data for not-null field", column)
    if isinstance(value, (dict, list, bool)) and column.kind != "bool":
        return Reject(1207, f"Invalid digit, Value '{text[:1]}', Pos 0, Type: {column.kind}", column, text)
    if column.kind in _INT_RANGE:
        limit, name = _INT_RANGE[column.kind]
        bad = re.search(r"[^0-9]", text[1:] if text[:1] in "+-" else text) if text else None
        if bad or not text or text in "+-":
            pos = (bad.start() + (text[:1] in "+-")) if bad else 0
            return Reject(1207, f"Invalid digit, Value '{text[pos:pos + 1]}', Pos {pos}, Type: {name}", column, text)
        number = int(text)
        if not -limit <= number < limit:
            return Reject(1204, f"Overflow, Value '{text}', Type: {name}", column, text)
        return number
    if column.kind in ("float8", "float4"):
        if not _FLOAT.fullmatch(text):
            return Reject(1208, f"Invalid digit, Value '{text[:1]}', Pos 0, Type: Double", column, text)
        return float(text)
    if column.kind == "bool":
        if isinstance(value, bool):
            return value
        if text.lower() not in _BOOLS:
            return Reject(1210, "Invalid Boolean format", column, text)
        return _BOOLS[text.lower()]
    raise NotEmulated(column.pg_type)
