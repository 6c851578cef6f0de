"""Splitting files into JSON records in Python, where DuckDB's line reader cannot.

Song files may hold one object, several objects (one per line, concatenated or pretty-printed)
or a JSON array, and any file may hold bytes that are not UTF-8. Python only *splits* here; the
warehouse still parses and type-checks every record, so both paths reject the same things.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

import orjson

BOM = "\ufeff"
#: A record longer than this is rejected, not parsed (DuckDB reads these records back with a
#: matching maximum_object_size; a bigger buffer would cost memory on every batch).
MAX_RECORD_CHARS = 16 * 2**20
_decoder = json.JSONDecoder()


@dataclass(frozen=True)
class Record:
    """One input record: the physical line it starts on, its text, and why it was rejected early."""

    line: int
    raw: str
    reason: str | None = None


def _decode_lines(data: bytes) -> Iterator[Record]:
    """Every physical line, decoded on its own, so one bad byte rejects one line, not a file."""
    for number, chunk in enumerate(data.split(b"\n"), start=1):
        chunk = chunk.removesuffix(b"\r")
        if number == 1:
            chunk = chunk.removeprefix(BOM.encode())
        try:
            yield Record(number, chunk.decode("utf-8"))
        except UnicodeDecodeError as exc:
            text = chunk.decode("utf-8", errors="backslashreplace")
            yield Record(number, text, f"invalid UTF-8 at byte {exc.start + 1} of the line")


def split_lines(data: bytes) -> Iterator[Record]:
    """One record per non-blank line (newline-delimited JSON, as in the event logs)."""
    for record in _decode_lines(data):
        if record.raw.strip():
            yield record


def split_documents(data: bytes) -> Iterator[Record]:
    """Every JSON value in a file of objects: one, several, pretty-printed or an array."""
    try:
        text = data.decode("utf-8").removeprefix(BOM)
    except UnicodeDecodeError:
        yield from split_lines(data)
        return
    stripped = text.strip()
    if not stripped:
        return
    first_line = text[: len(text) - len(text.lstrip())].count("\n") + 1
    try:
        whole = orjson.loads(stripped)
    except orjson.JSONDecodeError:
        yield from _scan(text)
        return
    if isinstance(whole, list):
        for item in whole:
            yield Record(first_line, orjson.dumps(item).decode())
    else:
        yield Record(first_line, stripped)


def _scan(text: str) -> Iterator[Record]:
    """Consecutive JSON values; text that does not parse is rejected one line at a time."""
    pos, line, end = 0, 1, len(text)
    while True:
        start = pos
        while pos < end and text[pos] in " \t\r\n":
            pos += 1
        line += text.count("\n", start, pos)
        if pos >= end:
            return
        try:
            value, stop = _decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            eol = text.find("\n", pos)
            eol = end if eol < 0 else eol
            yield Record(line, text[pos:eol].rstrip("\r"), f"invalid JSON: {exc.msg}")
            pos = eol
            continue
        if isinstance(value, list):
            for item in value:
                yield Record(line, orjson.dumps(item).decode())
        else:
            yield Record(line, text[pos:stop])
        line += text.count("\n", pos, stop)
        pos = stop


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
