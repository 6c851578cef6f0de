"""Splitting files into JSON records in Python, where DuckDB's line reader cannot.

Song files may hold one object, several objects (one per line, concatenated or pretty-printed)
or a JSON array, and any file may hold bytes that are not UTF-8. Python only *splits* here, by
scanning the structure (strings, brackets, commas), never by parsing values: each record's own
text goes to the warehouse unchanged, which parses and type-checks it, so a record is staged or
rejected the same whatever the file's layout, and both paths reject the same things.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

import orjson

BOM = "\ufeff"
#: A record longer than this is rejected, not parsed (DuckDB reads these records back with a
#: matching maximum_object_size; a bigger buffer would cost memory on every batch).
MAX_RECORD_CHARS = 16 * 2**20
#: JSON's own whitespace (RFC 8259); any other character, even one Python calls a line break or
#: a space (form feed, U+2028, U+00A0 …), makes a line a reject.
JSON_SPACE = " \t\r\n"
#: A string (to its closing quote, or the end of its line when it has none), a bracket, a comma.
_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"?|[\[\]{},]')


@dataclass(frozen=True)
class Record:
    """One input record: the physical line it starts on, its text, and why it was rejected early."""

    line: int
    raw: str
    reason: str | None = None


def not_json_text(data: bytes) -> str | None:
    """Why a whole file cannot be JSON text (RFC 8259 §8.1: UTF-8), or None."""
    if data.startswith(b"\x1f\x8b"):
        return "the file is gzip-compressed, not JSON text: decompress it first"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(data) > 1 and b"\x00" in data[:2]):
        return "the file is UTF-16 text: JSON files must be UTF-8"
    return None


def line_break(data: bytes) -> bytes:
    """Lines end at LF; only in a file without any LF, CRs end them (old Mac line endings)."""
    return b"\r" if b"\n" not in data and b"\r" in data else b"\n"


def _decode_lines(data: bytes) -> Iterator[Record]:
    """Every physical line, decoded on its own, so one bad byte rejects one line, not a file."""
    for number, chunk in enumerate(data.split(line_break(data)), start=1):
        yield decode_line(number, chunk)


def decode_line(number: int, chunk: bytes) -> Record:
    """Physical line `number` as text (its CR and, on line 1, a BOM dropped); bytes that are not
    UTF-8 shown as escapes, with the reason (also how Redshift's rejected lines are read back)."""
    chunk = chunk.removesuffix(b"\r")
    if number == 1:
        chunk = chunk.removeprefix(BOM.encode())
    try:
        return Record(number, chunk.decode("utf-8"))
    except UnicodeDecodeError as exc:
        text = chunk.decode("utf-8", errors="backslashreplace")
        return Record(number, text, f"invalid UTF-8 at byte {exc.start + 1} of the line")


def split_lines(data: bytes) -> Iterator[Record]:
    """One record per line that holds more than JSON whitespace (newline-delimited JSON)."""
    trouble = not_json_text(data)
    if trouble:
        yield _whole_file_reject(data, trouble)
        return
    for record in _decode_lines(data):
        if record.raw.strip(JSON_SPACE):
            yield record


def split_documents(data: bytes) -> Iterator[Record]:
    """Every JSON value in a file of objects: one, several, pretty-printed or an array's elements."""
    trouble = not_json_text(data)
    if trouble:
        yield _whole_file_reject(data, trouble)
        return
    try:
        text = data.decode("utf-8").removeprefix(BOM)
    except UnicodeDecodeError:
        yield from split_lines(data)
        return
    if line_break(data) == b"\r":
        text = text.replace("\r", "\n")  # same length: positions and line numbers hold
    yield from _values(text)


def _whole_file_reject(data: bytes, reason: str) -> Record:
    return Record(1, data[:200].decode("utf-8", errors="backslashreplace"), reason)


def _values(text: str) -> Iterator[Record]:
    """Consecutive top-level values: an object is a record, an array gives one per element, and
    anything else is a record to the end of its line (the warehouse says why it is bad)."""
    pos, line, end = 0, 1, len(text)
    while True:
        start = pos
        while pos < end and text[pos] in JSON_SPACE:
            pos += 1
        line += text.count("\n", start, pos)
        if pos >= end:
            return
        if text[pos] == "[":
            stop = yield from _elements(text, pos, line)
        elif text[pos] == "{":
            stop = _close(text, pos)
            yield Record(line, text[pos:stop])
        else:
            eol = text.find("\n", pos)
            stop = end if eol < 0 else eol
            yield Record(line, text[pos:stop].rstrip("\r"))
        line += text.count("\n", pos, stop)
        pos = stop


def _close(text: str, pos: int) -> int:
    """Where the value opened at `pos` ends (just past its closing bracket), or the text's end."""
    depth = 0
    for token in _TOKEN.finditer(text, pos):
        char = token.group()[0]
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth == 0:
                return token.end()
    return len(text)


def _elements(text: str, pos: int, line: int) -> Iterator[Record]:
    """The elements of the array opened at `pos`, each its own record; returns where it ends.
    An empty element (`[1,,2]`, `[1,]`) is a reject: RFC 8259 has no trailing commas."""
    depth, start, count, stop = 0, pos + 1, 0, len(text)
    for token in _TOKEN.finditer(text, pos):
        char = token.group()[0]
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        if depth == 1 and char == "," or depth == 0:
            element = text[start:token.start()]
            value = element.strip(JSON_SPACE)
            at = line + text.count("\n", pos, start + len(element) - len(element.lstrip(JSON_SPACE)))
            if value:
                yield Record(at, value)
            elif count or char == ",":  # `[]` is an empty array, `[,` or `,]` or `,,` an empty element
                yield Record(at, text[max(pos, start - 1):token.end()].strip(JSON_SPACE),
                             "invalid JSON: an empty array element (a trailing or doubled comma)")
            count += 1
            start = token.end()
            if depth == 0:
                stop = token.end()
                break
    else:  # never closed: the rest is one last element, a reject whatever it holds
        rest = text[start:]
        at = line + text.count("\n", pos, len(text) - len(rest.lstrip(JSON_SPACE)))
        yield Record(at, rest.strip(JSON_SPACE) or text[pos:].strip(JSON_SPACE),
                     "invalid JSON: the array is never closed (no `]`)")
    return stop


def write_ndjson(out: IO[bytes], file: str, records: Iterator[Record]) -> int:
    """Append records as {"file", "line", "raw", "reason"} lines for the warehouse to read back."""
    count = 0
    for record in records:
        if len(record.raw) > MAX_RECORD_CHARS:
            record = Record(record.line, record.raw[:MAX_RECORD_CHARS // 1024],
                            f"record longer than {MAX_RECORD_CHARS // 2**20} Mi characters")
        out.write(
            orjson.dumps({"file": file, "line": record.line, "raw": record.raw, "reason": record.reason})
        )
        out.write(b"\n")
        count += 1
    return count
