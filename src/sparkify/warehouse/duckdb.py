"""The embedded DuckDB warehouse: one file, no server. DuckDB itself reads and parses the JSON."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import sys
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import duckdb

from sparkify.errors import SparkifyError
from sparkify.scratch import ScratchDir
from sparkify.staging.parse import FileFacts, PrivateParser, fast_files, file_facts_of
from sparkify.inputs.sources import SourceFile
from sparkify.warehouse.sqlfiles import MATCHES_VIEW, REMATCH, is_prune, model_statements, read_sql, split_statements, star_statements
from sparkify.staging.tables import SOURCES, Source, duckdb_staging_ddl, fast_insert_sql
from sparkify.warehouse.base import FileCounts, QueryResult, StageResult, Warehouse
from sparkify.warehouse.base import gave_up_message, lock_timeout, waiting_message
from sparkify.warehouse.duckdb_careful import CarefulStaging
from sparkify.warehouse.duckdb_queries import DuckDBQueries, _first_line
from sparkify.warehouse.migrate import rename_old_columns

#: DuckDB's memory budget for the warehouse connection; past it, sorts and joins spill to disk.
MEMORY_LIMIT_ENV = "SPARKIFY_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "2GB"
#: The separate in-memory DuckDB that parses one batch at a time (512 MB of input at most).
PARSER_MEMORY_LIMIT = "2GB"


def utc_now() -> dt.datetime:
    """Wall-clock UTC (DuckDB's now() is the transaction's start, the same for a whole load)."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _is_lock_error(exc: Exception) -> bool:
    return "lock" in str(exc).lower()


class DuckDBWarehouse(CarefulStaging, DuckDBQueries, Warehouse):
    dialect = "duckdb"
    scoped_checks = True
    #: Try DuckDB's own JSON reader first for event logs (see _insert_fast); off only in tests
    #: that compare it with the careful path.
    fast_events = True
    #: The fast path streams a batch (no file is held in memory), and bigger batches mean fewer,
    #: fuller row groups: 1 GiB stages 10 M events in 21 s where 512 MiB took 27 s. The careful
    #: path still parses at most CAREFUL_BYTES at a time.
    batch_bytes = 2**30
    #: Seconds between two readings of the fast INSERT's progress, when something shows it.
    poll_seconds = 0.1

    def __init__(self, url: str, *, read_only: bool = False) -> None:
        self.url = url
        self.read_only = read_only
        self.path = url.removeprefix("duckdb://")
        if read_only and not os.path.exists(self.path):
            raise SparkifyError(
                f"no warehouse at {self.path!r}: run `sparkify create-tables` or `sparkify etl` first"
            )
        self.con = self._open(read_only)
        if not read_only:
            self._migrate()
        #: This load deleted the old rows of a changed event file (so some plays may lose their event).
        self._replaced_events = False
        self._parser = PrivateParser(PARSER_MEMORY_LIMIT)

    @classmethod
    def planned(cls, url: str, con: Any) -> "DuckDBWarehouse":
        """This backend on a stand-in connection (the dry run's Recorder): nothing is opened."""
        self = cls.__new__(cls)
        self.url, self.path, self.con = url, url.removeprefix("duckdb://"), con
        self._replaced_events = False
        return self

    def _open(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        """Open the file, waiting while another process (another `sparkify etl`) holds it."""
        deadline = time.monotonic() + lock_timeout()
        told = False
        while True:
            try:
                return duckdb.connect(
                    self.path, read_only=read_only,
                    config={"memory_limit": os.environ.get(MEMORY_LIMIT_ENV, DEFAULT_MEMORY_LIMIT)},
                )
            except duckdb.IOException as exc:
                if not _is_lock_error(exc):
                    raise SparkifyError(f"cannot open warehouse {self.path!r}: {_first_line(exc)}") from exc
                if time.monotonic() > deadline:
                    raise SparkifyError(gave_up_message(self.path)) from exc
                if not told:
                    holder = re.search(r"\(PID (\d+)\)", str(exc))
                    print(waiting_message(self.path, f" (PID {holder.group(1)})" if holder else ""), file=sys.stderr)
                    told = True
                time.sleep(0.25)
            except duckdb.Error as exc:
                raise SparkifyError(f"cannot open warehouse {self.path!r}: {_first_line(exc)}") from exc

    def _migrate(self) -> None:
        """Rename what an older Sparkify named differently (see migrate.py), in one transaction."""
        self.con.execute("BEGIN")
        try:
            rename_old_columns(self.con.execute, lambda sql: self.con.execute(sql).fetchall(), self.dialect)
            self.con.execute("COMMIT")
        except Exception:
            self.con.execute("ROLLBACK")
            raise

    # -- schema -------------------------------------------------------------------------------

    def tables_exist(self) -> bool:
        row = self.con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'analytics' AND table_name = 'songplays'"
        ).fetchall()
        return row[0][0] > 0

    def create_tables(self) -> None:
        self.con.execute("BEGIN")
        try:
            self._create_tables()
            self.con.execute("COMMIT")
        except Exception:
            self.con.execute("ROLLBACK")
            raise

    def _create_tables(self) -> None:
        for name in ("duckdb/drop_tables", "duckdb/create_tables"):
            self._run_file(name)
        for source in SOURCES.values():
            self.con.execute(duckdb_staging_ddl(source))
        for statement in model_statements(MATCHES_VIEW, self.dialect):
            self.con.execute(statement)

    def _run_file(self, name: str) -> None:
        for statement in split_statements(read_sql(name, self.dialect)):
            self.con.execute(statement)

    # -- loading ------------------------------------------------------------------------------

    def loaded_versions(self) -> dict[str, tuple[int, str]]:
        rows = self.con.execute("SELECT path, size, modified FROM staging.loaded_files").fetchall()
        return {path: (size, modified) for path, size, modified in rows}

    def begin_load(self) -> int:
        self._replaced_events = False
        self.con.execute("BEGIN")
        return self._start_load()

    def begin_refresh(self) -> int:
        self._replaced_events = False
        self.con.execute("BEGIN")
        try:
            # The refresh's load_id continues the old numbering: if it fails, its record joins the
            # old (rolled back to) history without taking another load's id.
            first = self.con.execute(
                "SELECT greatest(nextval('staging.load_id_seq'), (SELECT COALESCE(max(load_id), 0) + 1 FROM staging.loads))"
            ).fetchall()[0][0] if self.tables_exist() else 1
            self._create_tables()
            self.con.execute("SELECT max(nextval('staging.load_id_seq')) FROM range(?)", [first - 1])
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        return self._start_load()

    def _start_load(self) -> int:
        # Past every recorded load: a load whose COMMIT failed is recorded as failed, but the
        # sequence's step was never written (its transaction is gone).
        load_id = self.con.execute(
            "SELECT greatest(nextval('staging.load_id_seq'), "
            "(SELECT COALESCE(max(load_id), 0) + 1 FROM staging.loads))"
        ).fetchall()[0][0]
        self.con.execute(
            "INSERT INTO staging.loads (load_id, started_at, status) VALUES (?, ?, 'running')",
            [load_id, utc_now()],
        )
        return load_id

    def stage(self, source: Source, files: Sequence[SourceFile], load_id: int) -> StageResult:
        table = f"staging.{source.table}"
        uris = [f.uri for f in files]
        if self._any_loaded_before(uris):  # a changed file: its old rows make way for the new
            self.con.execute(f"DELETE FROM {table} WHERE source_file IN (SELECT unnest(?::VARCHAR[]))", [uris])
            self._replaced_events = self._replaced_events or source.name == "events"
        fast = fast_files(source, files) if self.fast_events else []
        with ThreadPoolExecutor(max_workers=1) as pool:
            reading = pool.submit(file_facts_of, files)  # line counts and checksums, read meanwhile
            inserted = self._insert_fast(source, fast, load_id, reading)
            facts = reading.result()
        staged = self._keep_whole_files(source, fast, facts, load_id, inserted)
        result = StageResult([FileCounts(f, facts[f.uri].lines, facts[f.uri].lines, 0) for f in fast if f.uri in staged])
        careful = [f for f in files if f.uri not in staged]
        if careful:
            result.files += self._stage_carefully(source, careful, load_id)
        self._record_files(source, result, load_id, {uri: fact.checksum for uri, fact in facts.items()})
        return result

    def _insert_fast(self, source: Source, files: Sequence[SourceFile], load_id: int,
                     reading: Future[dict[str, FileFacts]]) -> int:
        """Stage `files` with DuckDB's own JSON reader (staging.fast_insert_sql); return the rows
        inserted. _keep_whole_files then decides which files keep them.

        One statement stages up to 1 GiB: while a progress display looks on, its own progress
        (query_progress(), read from another thread) is reported as bytes of `files` and, once
        `reading` has counted them, lines."""
        if not files:
            return 0
        params: list[Any] = [load_id]
        for f in files:
            params += [f.uri, f.local_path]
        # Row order inside the table does not matter (row_number() has already numbered each
        # file's lines); without it the INSERT runs on every core. query_progress() is kept up to
        # date only with the progress bar on (never printed).
        settings = ["preserve_insertion_order = false"]
        settings += ["enable_progress_bar_print = false", "enable_progress_bar = true"] if self.progress.shown else []
        for setting in settings:
            self.con.execute(f"SET {setting}")

        def lines() -> int | None:  # the files' lines, once `reading` has counted them
            return sum(reading.result()[f.uri].lines for f in files) if reading.done() else None

        try:
            with self.progress.polling(lambda: self.con.query_progress() / 100, sum(f.size for f in files), lines,
                                       self.poll_seconds):
                return self.con.execute(fast_insert_sql(source, len(files)), params).fetchall()[0][0]
        finally:
            for setting in settings:
                with contextlib.suppress(duckdb.Error):  # never hide why the INSERT failed
                    self.con.execute(f"RESET {setting.split()[0]}")

    def _keep_whole_files(self, source: Source, files: Sequence[SourceFile], facts: dict[str, FileFacts],
                          load_id: int, inserted: int) -> set[str]:
        """The URIs of `files` that the fast INSERT staged whole: one row per physical line.

        A file that gave fewer rows than it has lines (a blank line, a line the reader could
        not read, a value not sure to pass) loses its rows here and is left to the careful path,
        which finds and records why."""
        uris = [f.uri for f in files]
        if inserted == sum(facts[uri].lines for uri in uris):  # also when there were none
            return set(uris)
        table = f"staging.{source.table}"
        rows = dict(self.con.execute(
            f"SELECT source_file, count(*) FROM {table} WHERE load_id = ? "
            "AND source_file IN (SELECT unnest(?::VARCHAR[])) GROUP BY source_file",
            [load_id, uris],
        ).fetchall())
        short = [uri for uri in uris if rows.get(uri, 0) != facts[uri].lines]
        self.con.execute(
            f"DELETE FROM {table} WHERE load_id = ? AND source_file IN (SELECT unnest(?::VARCHAR[]))", [load_id, short]
        )
        return set(uris) - set(short)

    def remove_files(self, source: Source, uris: Sequence[str], load_id: int) -> int:
        self._replaced_events = self._replaced_events or source.name == "events"  # plays may lose events
        return super().remove_files(source, uris, load_id)

    def _any_loaded_before(self, uris: list[str]) -> bool:
        return self.con.execute(
            "SELECT count(*) FROM staging.loaded_files WHERE path IN (SELECT unnest(?::VARCHAR[]))", [uris]
        ).fetchall()[0][0] > 0

    def _record_files(self, source: Source, result: StageResult, load_id: int, checksums: dict[str, str]) -> None:
        """The manifest row of each file, and the load's per-source reconciliation."""
        self.con.execute(
            """
            INSERT OR REPLACE INTO staging.loaded_files
                (path, source, size, modified, checksum, load_id, records, rows, rejected, loaded_at)
            SELECT unnest(?::VARCHAR[]), ?, unnest(?::BIGINT[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), ?,
                   unnest(?::BIGINT[]), unnest(?::BIGINT[]), unnest(?::BIGINT[]), ?
            """,
            [
                [c.file.uri for c in result.files],
                source.name,
                [c.file.size for c in result.files],
                [c.file.version for c in result.files],
                [checksums.get(c.file.uri) for c in result.files],
                load_id,
                [c.records for c in result.files],
                [c.rows for c in result.files],
                [c.rejected for c in result.files],
                utc_now(),
            ],
        )
        self.con.execute(
            """
            INSERT INTO staging.load_sources AS s (load_id, source, files, records, staged, rejected)
            VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (load_id, source) DO UPDATE SET
                files = s.files + excluded.files, records = s.records + excluded.records,
                staged = s.staged + excluded.staged, rejected = s.rejected + excluded.rejected
            """,
            [load_id, source.name, len(result.files), result.records, result.rows, result.rejected],
        )

    def build_star(self, songs_changed: bool) -> None:
        had_plays = self.con.execute("SELECT count(*) > 0 FROM analytics.songplays").fetchall()[0][0]
        # A play loses its event only when this load replaced an event file of an earlier load
        # (stage() deleted the file's old rows). Only then does songplays' first statement, the
        # prune (an anti-join of every play with staging), run.
        replaced = self._replaced_events
        for model, statement in self.progress.building(star_statements(self.dialect, songs_changed)):
            if is_prune(statement) and not replaced:
                continue  # the prunes: no play or view lost its event
            if model == REMATCH and not had_plays:
                continue  # every play is new: matched as it was inserted
            self.con.execute(statement)

    def commit_load(self, load_id: int, files: int, result: StageResult, checked: bool = False) -> None:
        self.con.execute(
            "UPDATE staging.loads SET finished_at = ?, status = 'committed', files = ?, "
            "records = ?, staged = ?, rejected = ?, checked = ? WHERE load_id = ?",
            [utc_now(), files, result.records, result.rows, result.rejected, checked, load_id],
        )
        self.con.execute("COMMIT")

    def abort_load(self, load_id: int, message: str) -> None:
        """Roll back, then keep the failed load's record and rejects: they say why it failed.

        The rollback's own trouble is not the story: a COMMIT that failed (disk full) has already
        ended the transaction, and a fatal error leaves the connection invalidated, so it is opened
        again to record the load. An error here is raised; run_etl keeps the first one.
        """
        with ScratchDir() as tmp:
            saved = os.path.join(tmp, "kept.parquet").replace("'", "''")
            kept = {"load_errors": "staging.load_errors", "load_sources": "staging.load_sources",
                    "loads": "staging.loads"}
            files: dict[str, str] = {}
            for name, table in kept.items():
                path = saved.replace("kept", name)
                try:  # files outlive the rollback; the transaction's rows do not
                    self.con.execute(f"COPY (SELECT * FROM {table} WHERE load_id = {int(load_id)}) TO '{path}' "
                                     "(FORMAT parquet)")
                    files[table] = path
                except duckdb.Error:
                    pass
            self._rollback()
            self.con.execute("BEGIN")
            for table, path in files.items():
                self.con.execute(f"INSERT INTO {table} SELECT * FROM read_parquet('{path}')")
            self.con.execute(
                "INSERT OR REPLACE INTO staging.loads (load_id, started_at, finished_at, status, files, records, "
                "staged, rejected, message) SELECT ?, COALESCE((SELECT started_at FROM staging.loads WHERE "
                "load_id = ?), ?), ?, 'failed', sum(files), sum(records), sum(staged), sum(rejected), ? "
                "FROM staging.load_sources WHERE load_id = ?",
                [load_id, load_id, utc_now(), utc_now(), message, load_id],
            )
            try:
                self.con.execute("COMMIT")
            except duckdb.Error:
                self._rollback()
                raise

    def _rollback(self) -> None:
        """End whatever transaction is left; reopen the file if an error invalidated the connection."""
        with contextlib.suppress(duckdb.Error):  # "no transaction is active" after a failed COMMIT
            self.con.execute("ROLLBACK")
        try:
            self.con.execute("SELECT 1").fetchall()
        except duckdb.Error:  # "database has been invalidated because of a previous fatal error"
            with contextlib.suppress(duckdb.Error):
                self.con.close()
            self.con = self._open(read_only=False)

    def close(self) -> None:
        self.con.close()
        self._parser.close()
