"""What Redshift refuses, checked on every statement the stand-in receives, and the few Redshift-only
DDL clauses it strips before PostgreSQL runs the statement.

Sources (AWS Redshift Database Developer Guide): "Reserved words" (reserved_words.txt), "Unsupported
PostgreSQL features" and "... functions", MERGE (both WHEN clauses; the source is a table, never a
view or subquery; no WITH), the aggregate window functions ("If an ORDER BY clause is used for an
aggregate function, an explicit frame clause is required"), and string literals (no E'' syntax;
a backslash escapes the next character, as QUOTE_LITERAL's doubling of backslashes shows).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

logging.getLogger("sqlglot").setLevel(logging.ERROR)  # "falling back to Command" is not news here

RESERVED = frozenset(
    word.upper()
    for line in (Path(__file__).with_name("reserved_words.txt")).read_text().splitlines()
    if not line.startswith("#")
    for word in line.split()
)
#: Not reserved, but AWS warns they fail as bare table aliases.
BAD_ALIASES = frozenset({"START", "CONNECT"})

#: PostgreSQL functions AWS lists as unsupported (CONVERT is left out: Redshift has its own).
UNSUPPORTED_FUNCTIONS = (
    "STRING_AGG ARRAY_AGG EVERY XMLAGG CORR COVAR_POP COVAR_SAMP GENERATE_SERIES GENERATE_SUBSCRIPTS "
    "REGEXP_MATCHES REGEXP_SPLIT_TO_ARRAY REGEXP_SPLIT_TO_TABLE CLOCK_TIMESTAMP TRANSACTION_TIMESTAMP "
    "PG_SLEEP JUSTIFY_DAYS JUSTIFY_HOURS JUSTIFY_INTERVAL WIDTH_BUCKET DIV SETSEED OVERLAY CONVERT_FROM "
    "CONVERT_TO FORMAT QUOTE_NULLABLE BIT_LENGTH NEXTVAL CURRVAL SETVAL UNNEST"
).split()
_FUNCTION = re.compile(r"\b(" + "|".join(UNSUPPORTED_FUNCTIONS) + r")\s*\(", re.IGNORECASE)
#: PostgreSQL features AWS lists as unsupported, as they are spelled.
UNSUPPORTED_SYNTAX = {
    r"\bIS\s+(NOT\s+)?DISTINCT\s+FROM\b": "IS [NOT] DISTINCT FROM",
    r"\bON\s+CONFLICT\b": "INSERT ... ON CONFLICT",
    r"\bRETURNING\b": "RETURNING",
    r"\bDISTINCT\s+ON\s*\(": "DISTINCT ON",
    r"\bFILTER\s*\(\s*WHERE\b": "aggregate FILTER (WHERE ...)",
    r"\bLATERAL\b": "LATERAL",
    r"\bCREATE\s+(UNIQUE\s+)?INDEX\b": "indexes",
    r"\bCREATE\s+SEQUENCE\b": "sequences",
    r"\b(SAVEPOINT|ROLLBACK\s+TO)\b": "savepoints",
    r"\bARRAY\s*\[": "array constructors",
    r"\b(FROM|JOIN)\s*\(\s*VALUES\b": "a VALUES list used as a constant table",
    r"\bGENERATED\s+(ALWAYS|BY\s+DEFAULT)\s+AS\s+IDENTITY\b": "GENERATED … AS IDENTITY (Redshift: IDENTITY(s, n))",
    r"\b(BIG|SMALL)?SERIAL\b": "serial types",
    r"\bJSONB\b": "jsonb",
}
#: "The maximum size for a single Amazon Redshift SQL statement is 16 MB"; names are at most 127 bytes.
MAX_STATEMENT_BYTES = 16 * 1024 * 1024
MAX_NAME_BYTES = 127
#: VARCHAR holds at most 65535 bytes, CHAR 4096.
MAX_LENGTH = {"VARCHAR": 65535, "CHAR": 4096}
#: Aggregate functions that need a frame clause when their window has an ORDER BY.
_FRAMED = (exp.Sum, exp.Count, exp.Avg, exp.Min, exp.Max, exp.Stddev, exp.StddevPop, exp.StddevSamp,
           exp.Variance, exp.VariancePop, exp.FirstValue, exp.LastValue, exp.NthValue)


@dataclass(frozen=True)
class Piece:
    kind: str  # "code", "string", "ident", "comment"
    text: str
    start: int


def lex(sql: str) -> list[Piece]:
    """Split SQL into code, string literals, quoted identifiers and comments, the Redshift way:
    in a '...' literal a backslash escapes the next character and '' is a quote."""
    pieces: list[Piece] = []
    i, start, n = 0, 0, len(sql)

    def flush(end: int) -> None:
        if end > start:
            pieces.append(Piece("code", sql[start:end], start))

    while i < n:
        c = sql[i]
        if c == "'" or (c == "$" and sql.startswith("$$", i)):
            flush(i)
            j = i + (2 if c == "$" else 1)
            if c == "$":
                end = sql.find("$$", j)
                j = n if end < 0 else end + 2
            else:
                while j < n:
                    if sql[j] == "\\":
                        j += 2
                    elif sql[j] == "'" and sql.startswith("''", j):
                        j += 2
                    elif sql[j] == "'":
                        j += 1
                        break
                    else:
                        j += 1
            pieces.append(Piece("string", sql[i:j], i))
            i = start = min(j, n)
        elif c == '"':
            flush(i)
            j = i + 1
            while j < n and not (sql[j] == '"' and not sql.startswith('""', j)):
                j += 2 if sql.startswith('""', j) else 1
            pieces.append(Piece("ident", sql[i:j + 1], i))
            i = start = j + 1
        elif sql.startswith("--", i) or sql.startswith("/*", i):
            flush(i)
            end = sql.find("\n", i) if c == "-" else sql.find("*/", i)
            j = n if end < 0 else (end if c == "-" else end + 2)
            pieces.append(Piece("comment", sql[i:j], i))
            i = start = j
        else:
            i += 1
    flush(n)
    return pieces


def masked(sql: str) -> str:
    """The statement with literals, quoted identifiers and comments blanked (same length)."""
    out = []
    for piece in lex(sql):
        if piece.kind == "code":
            out.append(piece.text)
        elif piece.kind == "comment":
            out.append(" " * len(piece.text))
        else:  # keep the quotes, so `x = ''` still reads as a comparison
            out.append(piece.text[0] + " " * (len(piece.text) - 2) + piece.text[-1])
    return "".join(out)


def escape_literals(sql: str) -> list[str]:
    """E'…' (and U&'…') literals: PostgreSQL's escape strings, which Redshift has no syntax for."""
    found = []
    for previous, piece in zip([None, *lex(sql)], lex(sql)):
        if piece.kind == "string" and previous is not None and previous.kind == "code":
            head = previous.text
            prefix = re.search(r"(?:^|[^\w$])([eE]|[uU]&)$", head)
            if prefix:
                found.append(prefix.group(1) + piece.text[:40])
    return found


def check(sql: str, relkind: Callable[[str], str | None] | None = None) -> list[str]:
    """Why Redshift would refuse `sql` (empty when it would not). `relkind` looks a relation up
    ('r' table, 'v' view, None unknown) for the checks that need the catalog."""
    if len(sql.encode()) > MAX_STATEMENT_BYTES:
        return [f"{len(sql.encode())} bytes: more than Redshift's 16 MB statement limit"]
    problems = [f"{literal}…: an E'' escape-string literal; Redshift has no E'' syntax"
                for literal in escape_literals(sql)]
    code = masked(sql)
    for pattern, feature in UNSUPPORTED_SYNTAX.items():
        if re.search(pattern, code, re.IGNORECASE):
            problems.append(f"{feature}: not supported by Redshift")
    for match in _FUNCTION.finditer(code):
        problems.append(f"{match.group(1).upper()}(): a PostgreSQL function Redshift does not support")
    if re.match(r"\s*COPY\b", code, re.IGNORECASE):
        return problems + _reserved_in_tokens(sql)
    try:
        tree = sqlglot.parse_one(sql, read="redshift")
    except SqlglotError:
        return problems + _reserved_in_tokens(sql)
    if isinstance(tree, exp.Command):
        return problems + _reserved_in_tokens(sql)
    problems += _reserved_in_tree(tree)
    problems += _windows(tree)
    problems += _sizes(tree)
    if isinstance(tree, exp.Merge):
        problems += _merge(tree, relkind)
    return problems


def _reserved_in_tree(tree: exp.Expression) -> list[str]:
    problems = []
    for ident in tree.find_all(exp.Identifier):
        if ident.args.get("quoted"):
            continue
        word = ident.name.upper()
        if word in RESERVED:
            problems.append(f"{word} is a Redshift reserved word, used here as an identifier (quote or rename it)")
        elif word in BAD_ALIASES and isinstance(ident.parent, exp.TableAlias):
            problems.append(f"{word} as a bare table alias fails on Redshift (AWS's note on reserved words)")
    return problems


def _reserved_in_tokens(sql: str) -> list[str]:
    """For statements sqlglot keeps opaque (LOCK, SET, COPY): reserved words in dotted names
    (`staging.raw`, `raw.x`), and COPY's table and column list; elsewhere in such commands they
    are the command's own keywords."""
    code = masked(sql)
    names = re.findall(r"\b(\w+)\s*\.\s*(\w+)\b", code)
    words = [w for pair in names for w in pair]
    head = re.match(r"\s*COPY\s+([\w.]+)\s*(?:\(([^)]*)\))?", code, re.IGNORECASE)
    if head:
        words += [head.group(1).split(".")[-1], *(head.group(2) or "").split(",")]
    return [f"{w.strip().upper()} is a Redshift reserved word, used here as an identifier"
            for w in words if w.strip().upper() in RESERVED]


def _sizes(tree: exp.Expression) -> list[str]:
    problems = [f"{ident.name[:40]}…: a name longer than Redshift's {MAX_NAME_BYTES} bytes"
                for ident in tree.find_all(exp.Identifier) if len(ident.name.encode()) > MAX_NAME_BYTES]
    for kind in tree.find_all(exp.DataType):
        name = kind.this.name.replace("NCHAR", "CHAR").replace("NVARCHAR", "VARCHAR")
        if name in MAX_LENGTH and kind.expressions:
            size = kind.expressions[0].sql()
            if size.isdigit() and int(size) > MAX_LENGTH[name]:
                problems.append(f"{name}({size}): longer than Redshift's {name}({MAX_LENGTH[name]})")
    return problems


def _windows(tree: exp.Expression) -> list[str]:
    return [
        f"{window.this.sql('redshift')} OVER (… ORDER BY …) needs an explicit frame clause on Redshift "
        "(ROWS BETWEEN …)"
        for window in tree.find_all(exp.Window)
        if isinstance(window.this, _FRAMED) and window.args.get("order") and not window.args.get("spec")
    ]


def _merge(tree: exp.Merge, relkind: Callable[[str], str | None] | None) -> list[str]:
    problems = []
    source = tree.args.get("using")
    if not isinstance(source, exp.Table):
        problems.append("MERGE … USING (subquery): Redshift's MERGE source must be a table")
    elif relkind is not None and relkind(".".join(p for p in (source.db, source.name) if p)) == "v":
        problems.append(f"MERGE … USING {source.name}: a view; Redshift's MERGE source must be a table")
    if tree.args.get("with"):
        problems.append("MERGE with a WITH clause: not supported by Redshift")
    whens = tree.args.get("whens")
    kinds = [bool(w.args.get("matched")) for w in (whens.expressions if whens else [])]
    if sorted(kinds) != [False, True]:
        problems.append("MERGE needs exactly one WHEN MATCHED and one WHEN NOT MATCHED clause on Redshift")
    return problems


_REDSHIFT_DDL = re.compile(
    r"\bDISTSTYLE\s+(EVEN|ALL|KEY|AUTO)\b|\bDISTKEY\s*\([^)]*\)"
    r"|\b(COMPOUND\s+|INTERLEAVED\s+)?SORTKEY\s*(\([^)]*\)|AUTO\b)"
    r"|\bENCODE\s+\w+|\bBACKUP\s+(YES|NO)\b|\bDISTKEY\b|\bSORTKEY\b",
    re.IGNORECASE,
)


_COLUMN_TYPE = re.compile(
    r"(?P<name>\b[A-Za-z_]\w*|\"[^\"]+\")\s+(?P<type>CHARACTER\s+VARYING|VARCHAR|NVARCHAR|CHARACTER|NCHAR|CHAR|TEXT)"
    r"\b(?:\s*\(\s*(?P<size>\d+|MAX)\s*\))?", re.IGNORECASE)


_HASH_TABLE = re.compile(r'^(\s*CREATE\s+)(TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?"#)', re.IGNORECASE)


def to_postgres(sql: str) -> str:
    """The statement as PostgreSQL runs it. In CREATE TABLE: no Redshift physical clauses, and text
    columns as Redshift has them: TEXT and a bare VARCHAR are VARCHAR(256), VARCHAR(MAX) is
    VARCHAR(65535), and the length counts bytes (a CHECK on octet_length: PostgreSQL counts
    characters)."""
    if _HASH_TABLE.match(sql):  # Redshift: "a table name that begins with # is a temporary table"
        sql = _HASH_TABLE.sub(r"\1TEMP \2", sql, count=1)
    code = masked(sql)
    table = r"\s*CREATE\s+(TEMP\s+|TEMPORARY\s+)?TABLE\b(?!.*\bAS\s+SELECT\b)"
    if not re.match(table, code, re.IGNORECASE | re.DOTALL):
        return sql
    edits: list[tuple[int, int, str]] = [(m.start(), m.end(), "") for m in _REDSHIFT_DDL.finditer(code)]
    for match in _COLUMN_TYPE.finditer(code):
        depth = code.count("(", 0, match.start()) - code.count(")", 0, match.start())
        kind = match.group("type").upper().split()[0]
        varying = kind in ("VARCHAR", "NVARCHAR", "TEXT") or "VARYING" in match.group("type").upper()
        if depth != 1 or not varying:  # column definitions only; CHAR(n) is left as it is
            continue
        size = match.group("size")
        length = 65535 if (size or "").upper() == "MAX" else int(size) if size and kind != "TEXT" else 256
        name = sql[match.start("name"):match.end("name")]
        edits.append((match.start("type"), match.end(), f"VARCHAR({length}) CHECK (octet_length({name}) <= {length})"))
    out, last = [], 0
    for start, end, text in sorted(edits):
        out += [sql[last:start], text or " " * (end - start)]
        last = end
    return "".join(out) + sql[last:]


def split(sql: str) -> list[str]:
    """The statements of a multi-statement string (semicolons outside literals and comments)."""
    code, statements, last = masked(sql), [], 0
    for match in re.finditer(";", code):
        statements.append(sql[last:match.start()])
        last = match.end()
    statements.append(sql[last:])
    return [s for s in statements if masked(s).strip()]
