"""What a real Redshift refuses and a local PostgreSQL accepts, checked on a statement's text:
unquoted reserved words used as names (AWS's list, kept in sparkify/sql/redshift/reserved_words.txt)
and `E'…'` escape-string literals (Redshift has no such syntax). Shared by the SQL tests and the
Redshift stand-in."""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp

from sparkify.warehouse.redshift import reserved_words


def _code(statement: str) -> str:
    """The statement with string literals, quoted identifiers and comments blanked out."""
    return re.sub(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*""", lambda m: " " * len(m.group()), statement)


def unquoted_reserved(statement: str) -> list[str]:
    """Names in `statement` that are Redshift reserved words and are not double-quoted."""
    words = reserved_words()
    hits: list[str] = []
    for tree in sqlglot.parse(statement, read="redshift"):
        if tree is None:
            continue
        if isinstance(tree, exp.Command):  # LOCK t, SET x TO a, b: the names follow the keyword
            rest = tree.expression
            text = rest.name if isinstance(rest, exp.Literal) else str(rest or "")
            names = re.split(r"[\s,.;]+", _code(text))
            hits += [n for n in names if n.upper() in words - {"TO"}]
            continue
        for identifier in tree.find_all(exp.Identifier):
            if not identifier.quoted and identifier.name.upper() in words:
                hits.append(identifier.name)
    return hits


def _literal_end(text: str, start: int, quote: str) -> int:
    """Index just past the literal or quoted name opening at `start` (doubled quotes stay inside)."""
    i = start + 1
    while i < len(text):
        if text[i] == quote:
            if i + 1 < len(text) and text[i + 1] == quote:
                i += 2
                continue
            return i + 1
        i += 1
    return len(text)


def e_literals(statement: str) -> list[str]:
    """`E'…'` literals outside strings, names and comments (psycopg writes them for a backslash)."""
    found: list[str] = []
    i = 0
    while i < len(statement):
        if statement.startswith("--", i):
            end = statement.find("\n", i)
            i = len(statement) if end < 0 else end
        elif statement[i] in "'\"":
            end = _literal_end(statement, i, statement[i])
            before = statement[i - 2] if i >= 2 else " "
            if statement[i] == "'" and i >= 1 and statement[i - 1] in "Ee" and not (before.isalnum() or before == "_"):
                found.append(statement[i - 1:end])
            i = end
        else:
            i += 1
    return found
