"""One `etl` run: find the files, stage what is new or changed, rebuild the star, commit once."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from dataclasses import dataclass, field
from typing import Any, Protocol

from sparkify.config import mask_secrets
from sparkify.errors import SparkifyError
from sparkify.scratch import sweep
from sparkify.staging.parse import file_checksums
from sparkify.warehouse.repair import prune_repairs, repair_new_text
from sparkify.inputs.s3 import S3Options, is_s3
from sparkify.inputs.sources import SourceFile, batches, discover, materialize, vanished
from sparkify.staging.tables import EVENTS, SONGS, Source
from sparkify.warehouse.base import StageResult, Warehouse
from sparkify.warehouse.progress import NoProgress, Progress, Reporter


@dataclass
class SourceSummary:
    source: str
    files_found: int = 0
    files_loaded: int = 0
    result: StageResult = field(default_factory=StageResult)
    #: Files loaded before and gone from the source now: unstaged by this load …
    removed: list[str] = field(default_factory=list)
    removed_rows: int = 0
    #: … or kept (--keep-deleted, or a warehouse that cannot unstage one file).
    kept: list[str] = field(default_factory=list)

    @property
    def files_skipped(self) -> int:
        return self.files_found - self.files_loaded


@dataclass
class LoadSummary:
    load_id: int | None
    sources: list[SourceSummary]
    seconds: float
    #: Mangled text values repaired for the star schema by this load (see repair.py).
    repaired: int = 0
    #: Wall seconds per phase: discover, stage, star, audit, commit.
    timings: dict[str, float] = field(default_factory=dict)
    #: What the audit (the checks run before the commit) returned, if one ran.
    audit: Any = None
    #: Where its checks started (epoch ms: the rows the load could change), or None: every row.
    checked_since_ms: int | None = None

    @property
    def files_loaded(self) -> int:
        return sum(s.files_loaded for s in self.sources)

    @property
    def records(self) -> int:
        return sum(s.result.records for s in self.sources)

    @property
    def bytes(self) -> int:
        """Input bytes staged (the size of every file loaded): the load's MB/s."""
        return sum(c.file.size for s in self.sources for c in s.result.files)

    @property
    def rows(self) -> int:
        return sum(s.result.rows for s in self.sources)

    @property
    def rejected(self) -> int:
        return sum(s.result.rejected for s in self.sources)


def run_etl(
    warehouse: Warehouse,
    songs: str | None,
    logs: str | None,
    *,
    max_errors: int = 0,
    full_refresh: bool = False,
    progress: Progress | None = None,
    s3: S3Options | None = None,
    audit: Audit | None = None,
    keep_deleted: bool = False,
) -> LoadSummary:
    """Load the song and log files at these paths; a no-op for files already loaded unchanged.

    The warehouse mirrors the current files: a file loaded before that the path no longer names
    is unstaged, with everything it gave the star, unless `keep_deleted` (an append-only source
    whose old files are archived away). Either way the summary names them.

    `audit` runs after the star schema is built and before the commit, inside the load's
    transaction (write-audit-publish): it raises SparkifyError to block the load, which then
    commits nothing and is recorded as failed, with its rejects."""
    started = time.perf_counter()
    timings: dict[str, float] = {}
    clock = _Clock(timings)
    progress = progress or NoProgress()
    reporter = Reporter(progress)
    specs = [(source, spec, flag) for source, spec, flag in ((SONGS, songs, "songs"), (EVENTS, logs, "logs")) if spec]
    inputs: list[tuple[Source, list[SourceFile]]] = [(source, discover(spec, flag, s3)) for source, spec, flag in specs]
    clock.lap("discover")
    if not full_refresh and not warehouse.tables_exist():
        warehouse.create_tables()
    warehouse.lock()  # before the manifest is read: a run that waited sees what the other loaded
    try:
        sweep()  # the temp folders of runs that were killed
        if full_refresh:  # every file, into tables re-created inside the load's own transaction
            todo = inputs
        else:
            known = warehouse.loaded_versions()
            todo = [(source, [f for f in files if known.get(f.uri) != (f.size, f.version)]) for source, files in inputs]
            todo = [(source, _skip_same_content(warehouse, files, known)) for source, files in todo]
        summaries = [SourceSummary(source.name, len(files)) for source, files in inputs]
        recorded = [] if full_refresh else _recorded(warehouse)  # a refresh re-creates the tables
        for (source, spec, _), (_, files), summary in zip(specs, inputs if not full_refresh else [], summaries):
            gone = vanished(spec, [p for p, s in recorded if s == source.name], files)
            if keep_deleted or not warehouse.stages_by_file:
                summary.kept = gone
            else:
                summary.removed = gone
        if not any(files for _, files in todo) and not any(s.removed for s in summaries) \
                and not full_refresh:
            warehouse.unlock()
            return LoadSummary(None, summaries, time.perf_counter() - started, timings=timings)
    except BaseException:
        warehouse.unlock(commit=False)
        raise

    load_id = warehouse.begin_refresh() if full_refresh else warehouse.begin_load()
    try:
        total = StageResult()
        for (source, _), summary in zip(todo, summaries):
            if summary.removed:
                summary.removed_rows = warehouse.remove_files(source, summary.removed, load_id)
        for (source, files), summary in zip(todo, summaries):
            summary.files_loaded = len(files)
            progress.start(f"staging {source.name}", sum(f.size for f in files))
            for batch in batches(files, warehouse.batch_bytes, warehouse.batch_files):
                reporter.begin_batch(sum(f.size for f in batch))  # the warehouse may report within it
                # S3 objects are fetched per batch, then deleted (unless the warehouse reads S3 itself).
                with warehouse.reporting(reporter), materialize(batch, s3, fetch=not warehouse.copies_from_s3) as local:
                    result = warehouse.stage(source, local, load_id)
                summary.result.files.extend(result.files)
                reporter.end_batch(result.records)
            progress.finish()
            total.files.extend(summary.result.files)
        _reconcile(total)
        clock.lap("stage")
        if total.rejected > max_errors:
            raise SparkifyError(
                f"load {load_id} rejected {total.rejected} record(s), more than --max-errors {max_errors}; "
                f"nothing was committed (see `sparkify errors --load {load_id}`)",
                exit_code=1,
            )
        took_away = not full_refresh and (any(s.removed for s in summaries)
                                          or any(f.uri in known for _, files in todo for f in files))
        if took_away:
            prune_repairs(warehouse)  # a file replaced or removed may take values away
        songs_changed = any(files or summary.removed for (source, files), summary in zip(todo, summaries)
                            if source is SONGS)
        progress.start("building the star schema", 0)
        repaired = repair_new_text(warehouse, load_id)
        with warehouse.reporting(reporter):  # which model (Reporter.building)
            warehouse.build_star(songs_changed=songs_changed or repaired > 0)
        progress.finish()
        clock.lap("star")
        if audit:
            progress.start("checking it before the commit", 0)
        audited, since = None, None
        if audit:
            whole = full_refresh or took_away or songs_changed or repaired > 0
            since = None if whole else checks_window(warehouse, load_id)
            with warehouse.reporting(reporter):  # which check (run_checks)
                audited = audit(warehouse, load_id, since)
        progress.finish()
        clock.lap("audit")
        checked = audited is not None and all(getattr(r, "status", None) == "pass" for r in audited)
        warehouse.commit_load(load_id, sum(len(files) for _, files in todo), total, checked)
        clock.lap("commit")
    except BaseException as exc:
        _abort(warehouse, load_id, exc)
        raise
    return LoadSummary(load_id, summaries, time.perf_counter() - started, repaired, timings, audited, since)


class Audit(Protocol):
    """Checks the built, uncommitted star schema; raises SparkifyError to block the commit.
    With `since_ms`, only the rows at or after that time need checking (checks_window); it
    returns results with a `status`, and the load counts as checked when every one is "pass"."""

    def __call__(self, warehouse: Warehouse, load_id: int, since_ms: int | None = None) -> Any: ...


def window_text(since_ms: int) -> str:
    """A checks window's start as people and JSON read it: UTC, to the millisecond."""
    moment = datetime.fromtimestamp(since_ms / 1000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{since_ms % 1000:03d}Z"


def checks_window(warehouse: Warehouse, load_id: int) -> int | None:
    """Where the checks of a load that only added events may start: the earliest event time it
    staged (epoch ms), when the load before it was checked in full or in turn (staging.loads.checked);
    None, for every row, otherwise (a check skipped or failed before, or an older warehouse)."""
    if not warehouse.scoped_checks:
        return None
    mark = warehouse.placeholder
    before = warehouse.query(f"SELECT checked FROM staging.loads WHERE status = 'committed' AND load_id < {mark} "
                             "ORDER BY load_id DESC LIMIT 1", [load_id]).rows
    if not before or before[0][0] is not True:
        return None
    first = warehouse.query(f"SELECT min(ts) FROM staging.staging_events WHERE load_id = {mark}", [load_id]).rows
    return int(first[0][0]) if first and first[0][0] is not None else None


class _Clock:
    """Wall time per phase, into `timings`."""

    def __init__(self, timings: dict[str, float]) -> None:
        self.timings = timings
        self.last = time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.timings[phase] = round(now - self.last, 3)
        self.last = now


def _recorded(warehouse: Warehouse) -> list[tuple[str, str]]:
    """(path, source) of every file in the load manifest."""
    return [(str(p), str(s)) for p, s in warehouse.query("SELECT path, source FROM staging.loaded_files").rows]


def _abort(warehouse: Warehouse, load_id: int, cause: BaseException) -> None:
    """Record the load as failed with its cause. Should that fail too (the disk is still full),
    the cause is still what the user sees, with a word that the record could not be written."""
    message = mask_secrets(str(cause).strip() or type(cause).__name__)
    try:
        warehouse.abort_load(load_id, message)
    except Exception as later:
        if isinstance(cause, Exception):
            first = message.splitlines()[0]
            why = mask_secrets((str(later).strip() or type(later).__name__).splitlines()[0])
            raise SparkifyError(  # a read-only folder: the record fails as the load did, say it once
                f"{first} (load {load_id} failed and could not be recorded, "
                + ("for the same reason)" if why == first else f"either: {why})"),
                exit_code=getattr(cause, "exit_code", 2),
            ) from cause


def _skip_same_content(warehouse: Warehouse, files: list[SourceFile],
                       known: dict[str, tuple[int, str]]) -> list[SourceFile]:
    """Drop local files that were only touched: same size and checksum as when loaded.

    Their manifest row takes the new modification time, so the next run skips them at once.
    """
    touched = [f for f in files if f.uri in known and known[f.uri][0] == f.size and not is_s3(f.uri)]
    if not touched:
        return files
    mark = warehouse.placeholder
    recorded = dict(warehouse.query(
        f"SELECT path, checksum FROM staging.loaded_files WHERE path IN ({', '.join([mark] * len(touched))})",
        [f.uri for f in touched],
    ).rows)
    now = file_checksums(touched)
    same = {f.uri for f in touched if recorded.get(f.uri) and recorded[f.uri] == now.get(f.uri)}
    for f in touched:
        if f.uri in same:
            warehouse.query(f"UPDATE staging.loaded_files SET modified = {mark} WHERE path = {mark}",
                            [f.version, f.uri])
    return [f for f in files if f.uri not in same]


def _reconcile(result: StageResult) -> None:
    """Every record read is either staged or rejected; anything else is a bug worth stopping for."""
    for counts in result.files:
        if counts.records != counts.rows + counts.rejected:
            raise SparkifyError(
                f"{counts.file.uri}: {counts.records} records read but {counts.rows} staged "
                f"+ {counts.rejected} rejected",
                exit_code=1,
            )
