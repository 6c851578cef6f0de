"""The small interface every warehouse backend implements."""

from __future__ import annotations

import contextlib
import os
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sparkify.errors import SparkifyError
from sparkify.inputs.sources import BATCH_FILES, SourceFile
from sparkify.staging.tables import Source
from sparkify.warehouse.progress import Reporter

STAR_TABLES = ("songplays", "users", "songs", "artists", "time", "page_views")
STAGING_TABLES = ("staging_events", "staging_songs", "load_errors", "loaded_files", "loads")
#: Seconds a load waits while another load holds the warehouse (every backend).
LOCK_TIMEOUT_ENV = "SPARKIFY_LOCK_TIMEOUT"


def lock_timeout() -> float:
    return float(os.environ.get(LOCK_TIMEOUT_ENV, "600"))


def waiting_message(warehouse: str, holder: str = "") -> str:
    """What a load prints on stderr, on every backend, while another load holds the warehouse."""
    return f"waiting for the load of another process{holder} to finish: warehouse {warehouse!r} is in use by another process …"


def gave_up_message(warehouse: str) -> str:
    return f"warehouse {warehouse!r} is in use by another process; gave up waiting (${LOCK_TIMEOUT_ENV} seconds)"


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]

    @classmethod
    def of(cls, cursor: Any) -> "QueryResult":
        """A DB-API cursor's rows (DuckDB, psycopg, the dry run's recorder), or none after a
        statement that returns no rows (DDL)."""
        if cursor.description is None:
            return cls([], [])
        return cls([d[0] for d in cursor.description], cursor.fetchall())


@dataclass
class FileCounts:
    """What one staged file gave: records read = rows staged + rows rejected."""

    file: SourceFile
    records: int = 0
    rows: int = 0
    rejected: int = 0


@dataclass
class StageResult:
    files: list[FileCounts] = field(default_factory=list)

    @property
    def records(self) -> int:
        return sum(f.records for f in self.files)

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)


class Warehouse(ABC):
    """A place the star schema lives. A load runs between begin_load() and commit_load()."""

    dialect: str
    url: str
    #: Opened for read commands: nothing sent through query() can change the warehouse.
    read_only: bool = False
    #: How query() marks a parameter: "?" (DuckDB) or "%s" (psycopg).
    placeholder: str = "?"
    #: True where the warehouse reads s3:// inputs itself (Redshift's COPY): nothing is downloaded.
    copies_from_s3: bool = False
    #: Staged rows name their input file, so a file gone from the source can be unstaged
    #: (Redshift's rows name their COPY manifest instead).
    stages_by_file: bool = True
    #: Input bytes staged per batch (at most): big enough to keep every core busy, small enough
    #: that memory (and the temp space of S3 downloads) stays flat whatever the size of the input.
    batch_bytes: int = 512 * 2**20
    #: Input files staged per batch (at most).
    batch_files: int = BATCH_FILES
    #: staging.loads records whether each load's checks all passed (`checked`), so that a load
    #: that only adds events after such a load checks only the rows it changed (answers/checks.py).
    scoped_checks: bool = False
    #: Where stage() and build_star() report how far they are from inside (a long INSERT, each
    #: model): nowhere, but while run_etl lends its own (reporting()).
    progress: Reporter = Reporter()

    @contextlib.contextmanager
    def reporting(self, reporter: Reporter) -> Iterator[None]:
        """Report to `reporter` while the block runs (one batch, the star build, the checks)."""
        before, self.progress = self.progress, reporter
        try:
            yield
        finally:
            self.progress = before

    @abstractmethod
    def tables_exist(self) -> bool: ...

    @abstractmethod
    def create_tables(self) -> None:
        """Drop and create every table of the warehouse (all data is lost)."""

    @abstractmethod
    def loaded_versions(self) -> dict[str, tuple[int, str]]:
        """(size, version) of every file loaded so far, by URI."""

    def lock(self) -> None:
        """Wait while another load runs here (saying so), then keep others out until this run ends.

        run_etl takes it before reading the manifest, so of two concurrent runs the second sees
        what the first loaded. DuckDB's file lock (held from the open) and Redshift's LOCK in
        begin_load need nothing here.
        """

    def unlock(self, commit: bool = True) -> None:
        """End a run that took lock() and loads nothing (committing its manifest updates or not)."""

    @abstractmethod
    def begin_load(self) -> int:
        """Start a load's transaction (under lock(), if taken) and return its load_id."""

    def begin_refresh(self) -> int:
        """`--full-refresh`: start a load whose transaction first drops and creates every table,
        so readers see the old warehouse until the commit and a killed refresh leaves it whole.
        This fallback (for a backend without transactional DDL) re-creates the tables first."""
        self.create_tables()
        return self.begin_load()

    @abstractmethod
    def stage(self, source: Source, files: Sequence[SourceFile], load_id: int) -> StageResult:
        """Replace these files' staged rows with their current content; record rejects."""

    def remove_files(self, source: Source, uris: Sequence[str], load_id: int) -> int:
        """Unstage files gone from the source: their rows and manifest entries go, and
        staging.removed_files records them (`sparkify loads --removed`). Returns the rows unstaged.
        build_star then takes their plays, users, time rows and songs away."""
        mark, removed = self.placeholder, 0
        for start in range(0, len(uris), 500):
            part = list(uris[start:start + 500])
            marks = ", ".join([mark] * len(part))
            removed += self.query(f"SELECT COALESCE(sum(rows), 0) FROM staging.loaded_files WHERE path IN ({marks})",
                                  part).rows[0][0]
            self.query(f"INSERT INTO staging.removed_files (load_id, source, path, rows) SELECT {mark}, {mark}, "
                       f"path, rows FROM staging.loaded_files WHERE path IN ({marks})", [load_id, source.name, *part])
            self.query(f"DELETE FROM staging.{source.table} WHERE source_file IN ({marks})", part)
            self.query(f"DELETE FROM staging.loaded_files WHERE path IN ({marks})", part)
        return int(removed)

    @abstractmethod
    def build_star(self, songs_changed: bool) -> None:
        """Bring the star schema up to date with staging."""

    @abstractmethod
    def commit_load(self, load_id: int, files: int, result: StageResult, checked: bool = False) -> None:
        """Publish the load; `checked`: every data-quality check passed on it before the commit."""

    @abstractmethod
    def abort_load(self, load_id: int, message: str) -> None:
        """Roll the load back, keeping a record of it (and its rejects) as failed."""

    @abstractmethod
    def query(self, sql: str, params: Sequence[Any] = ()) -> QueryResult:
        """Run SQL. On a warehouse opened read-only it cannot change anything (warehouse/readonly.py)."""

    def run_script(self, sql: str) -> list[QueryResult]:
        """Each statement's result, in order (`sparkify sql`). Read-only: every statement alone,
        where writes are impossible; otherwise all in one transaction, rolled back at the first
        error. A failure's message is the database's whole message (hints, the caret line).

        This default (a backend without its own) runs the text as query() does: one result."""
        return [self.query(sql)]

    def can_read(self, table: str) -> bool:
        """Whether this session may read `table` (a PostgreSQL analyst cannot read staged data)."""
        return True

    def audit(self, sql: str) -> QueryResult:
        """Run a data-quality check's query, possibly inside a load's open transaction.

        Backends make sure a check cannot change what the load publishes, and that a check that
        fails to run does not break the load's transaction."""
        return self.query(sql)

    def write_parquet(self, select: str, path: str) -> None:
        """Write the rows of `select` to the local Parquet file `path`, streamed (for `export`)."""
        raise SparkifyError(f"export from a {self.dialect} warehouse is not supported (DuckDB and PostgreSQL are)")

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> "Warehouse":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
