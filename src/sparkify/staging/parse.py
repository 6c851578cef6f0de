"""Reading input files into typed rows with DuckDB: the one parser every backend stages through.

DuckDB splits and parses newline-delimited files itself (fast, multi-core). Song files (one
object, several, or an array) and files that are not valid UTF-8 are split in Python instead
(sparkify.staging.records), then parsed by the same SQL, so every path accepts and rejects the same.
"""

from __future__ import annotations

import glob
import hashlib
import mmap
import os
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import duckdb

from sparkify.staging import records
from sparkify.errors import SparkifyError
from sparkify.inputs.sources import SourceFile
from sparkify.scratch import ScratchDir
from sparkify.staging.tables import NOT_UTF8, Source, line_records_sql, parse_sql, texts_cte

PARSED = "_parsed"

_NO_RECORDS = (
    "SELECT NULL::VARCHAR AS file, NULL::BIGINT AS line, NULL::VARCHAR AS raw, NULL::VARCHAR AS reason "
    "WHERE false"
)
_RECORD_COLUMNS = "{'file': 'VARCHAR', 'line': 'BIGINT', 'raw': 'VARCHAR', 'reason': 'VARCHAR'}"


class PrivateParser:
    """An in-memory DuckDB of our own for parsing, created on first use: each batch is parsed,
    handed over and forgotten there, and it spills to a private temp folder, so no warehouse
    transaction ever holds a batch's raw text."""

    def __init__(self, memory_limit: str = "2GB") -> None:
        self.memory_limit = memory_limit
        self._con: duckdb.DuckDBPyConnection | None = None
        self._scratch: ScratchDir | None = None
        self.scratch: str | None = None

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            self._scratch = ScratchDir("sparkify-parse-")  # swept by a later run if this one is killed
            self.scratch = self._scratch.name
            self._con = duckdb.connect(config={"temp_directory": self.scratch, "memory_limit": self.memory_limit})
        return self._con

    def workdir(self) -> tempfile.TemporaryDirectory[str]:
        """A folder for one batch's hand-over files, inside the parser's own temp folder."""
        self.con  # noqa: B018 -- creates the temp folder
        return tempfile.TemporaryDirectory(prefix="sparkify-batch-", dir=self.scratch)

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
        if self._scratch:
            self._scratch.cleanup()
            self._scratch = None
            self.scratch = None


def split_by_duckdb(source: Source, f: SourceFile) -> bool:
    """Whether parse_files has DuckDB split `f` into records (newline-delimited event logs, whose
    name read_blob would not glob); the others (song files) are split in Python, holding the GIL."""
    return source.name == "events" and not glob.has_magic(f.local_path)


def parse_files(con: duckdb.DuckDBPyConnection, source: Source, files: Sequence[SourceFile]) -> None:
    """(Re)create temp table _parsed: one row per record of `files`, with `file` = the file's URI.

    Columns: file, line, raw, reason, error_column, then the source's typed columns; `reason` is
    NULL for a good record. Every file in `files` must be readable at its `local_path`.
    """
    fast = [f for f in files if split_by_duckdb(source, f)]
    if fast:
        sql = parse_sql(source, line_records_sql(), texts_cte("?"))
        con.execute(f"CREATE OR REPLACE TEMP TABLE {PARSED} AS {sql}", [[f.local_path for f in fast]])
    else:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {PARSED} AS {parse_sql(source, _NO_RECORDS)}")
    not_utf8 = {row[0] for row in con.execute(f"SELECT file FROM {PARSED} WHERE reason = ?", [NOT_UTF8]).fetchall()}
    if not_utf8:
        con.execute(f"DELETE FROM {PARSED} WHERE reason = ?", [NOT_UTF8])
    slow = [f for f in files if f not in fast or f.local_path in not_utf8]
    if slow:
        _parse_in_python(con, source, slow)
    renamed = [f for f in files if f.local_path != f.uri]
    if renamed:
        con.execute(
            f"UPDATE {PARSED} SET file = m.uri FROM (SELECT unnest(?::VARCHAR[]) AS local, "
            f"unnest(?::VARCHAR[]) AS uri) AS m WHERE {PARSED}.file = m.local",
            [[f.local_path for f in renamed], [f.uri for f in renamed]],
        )


@dataclass(frozen=True)
class FileFacts:
    """What one pass over a file's bytes tells, before DuckDB reads it."""

    #: Physical lines, blank ones included (a last line without a newline counts). Lines end at
    #: LF; only a file without any LF but with CRs (old Mac line endings) has its lines end at CR.
    lines: int
    #: A SHA-256 of the content, recorded in the load manifest to spot touched-but-unchanged files.
    checksum: str


_CHUNK = 8 * 2**20
#: The manifest's content hash. SHA-256: no collision has ever been found, one takes ~2**128
#: work, so a changed file is never taken for an unchanged one (a CRC-32 is forged with 4 bytes).
#: Older manifests hold "crc32:…"; such a file no longer matches and is reloaded once.
CHECKSUM_PREFIX = "sha256:"


def file_facts(path: str) -> FileFacts:
    """Line count and content hash in one streaming pass (hashlib releases the GIL)."""
    lines, crs, digest, last = 0, 0, hashlib.sha256(), b"\n"
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                lines += chunk.count(b"\n")
                if not lines:  # CRs matter only in a file without LF
                    crs += chunk.count(b"\r")
                digest.update(chunk)
                last = chunk[-1:]
    except OSError as exc:
        raise SparkifyError(f"cannot read {path!r}: {exc.strerror}") from exc
    if not lines and crs:
        return FileFacts(crs + (last != b"\r"), CHECKSUM_PREFIX + digest.hexdigest())
    return FileFacts(lines + (last != b"\n"), CHECKSUM_PREFIX + digest.hexdigest())


def has_long_line(path: str) -> bool:
    """True when some aligned 8 MiB stretch of the file holds no newline: a line of 8 MiB or more
    (every line of 16 MiB or more is caught). DuckDB's JSON reader stops the whole read at a line
    over 32 MiB instead of skipping it, so such files are parsed the careful way. Only the first
    newline of each stretch is looked for, through mmap: a few pages per 8 MiB."""
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size < _CHUNK:
                return False
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as view:
                return any(view.find(b"\n", start, start + _CHUNK) < 0 for start in range(0, size - _CHUNK + 1, _CHUNK))
    except OSError as exc:
        raise SparkifyError(f"cannot read {path!r}: {exc.strerror}") from exc


def fast_files(source: Source, files: Sequence[SourceFile]) -> list[SourceFile]:
    """The files DuckDB's own JSON reader may stage first (staging.fast_insert_sql), on every
    backend: event logs only, and never a name read_json would glob ("a[1].json") nor a file with
    a line it cannot read (it stops the whole read at a line over 32 MiB: has_long_line): of the
    files DuckDB splits (split_by_duckdb), those without such a line."""
    return [f for f in files if split_by_duckdb(source, f) and not has_long_line(f.local_path)]


def file_facts_of(files: Sequence[SourceFile]) -> dict[str, FileFacts]:
    """file_facts of every file (each readable at its local_path), keyed by URI: big files on
    two threads, small ones (a song file is 300 bytes) in this one, where threads only cost."""
    big = [f for f in files if f.size >= 2**20]
    with ThreadPoolExecutor(max_workers=2) as pool:
        facts = dict(zip([f.uri for f in big], pool.map(file_facts, [f.local_path for f in big])))
    return facts | {f.uri: file_facts(f.local_path) for f in files if f.size < 2**20}


def file_checksums(files: Sequence[SourceFile]) -> dict[str, str]:
    """Each file's content checksum, as recorded in the load manifest."""
    return {uri: fact.checksum for uri, fact in file_facts_of(files).items()}


def _parse_in_python(con: duckdb.DuckDBPyConnection, source: Source, files: Sequence[SourceFile]) -> None:
    split = records.split_lines if source.name == "events" else records.split_documents
    with ScratchDir() as tmp:
        ndjson = os.path.join(tmp, "records.ndjson")
        with open(ndjson, "wb") as out:
            for f in files:
                records.write_ndjson(out, f.local_path, split(_read_bytes(f.local_path)))
        records_sql = (
            f"SELECT file, line, raw, reason FROM read_json(?, format='newline_delimited', "
            f"columns={_RECORD_COLUMNS}, maximum_object_size={6 * records.MAX_RECORD_CHARS + 2**20})"
        )
        con.execute(f"INSERT INTO {PARSED} {parse_sql(source, records_sql)}", [ndjson])


def _read_bytes(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise SparkifyError(f"cannot read {path!r}: {exc.strerror}") from exc
