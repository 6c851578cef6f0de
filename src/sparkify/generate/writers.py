"""The files of the real layout: JSON text escaped as the real logs escape it, one file per song,
and one event log per UTC day, merged from every user's stream in `ts` order."""

from __future__ import annotations

import heapq
import json
import os
import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import IO

from sparkify.errors import SparkifyError
from sparkify.generate.catalogue import Song
from sparkify.pipeline.load import Progress  # the load's shape, counted here in items (files, events)

Event = tuple[int, str, int]  # ts in ms, the line, kind * 2 + (1 if it opens a session)


def log_json(value: str | None) -> str:
    """A string as the real event logs write it: ASCII-only with \\uXXXX, and `/` escaped as `\\/`."""
    if value is None:
        return "null"
    return json.dumps(value, ensure_ascii=True).replace("/", "\\/")


def num_json(value: float) -> str:
    """A number as the logs write it (at most 5 decimals, as the real `length`)."""
    return repr(round(value, 5))


def write_songs(catalogue: list[Song], song_dir: Path, progress: Progress) -> int:
    """One file per song at song_data/A/B/C/TRABC….json, one line, no trailing newline. Returns bytes."""
    total = 0
    made: set[Path] = set()
    progress.start("writing song files", len(catalogue))
    for i, song in enumerate(catalogue, start=1):
        folder = song_dir / song.track_id[2] / song.track_id[3] / song.track_id[4]
        if folder not in made:
            folder.mkdir(parents=True, exist_ok=True)
            made.add(folder)
        data = song.json().encode("ascii")
        (folder / f"{song.track_id}.json").write_bytes(data)
        total += len(data)
        if i % 1000 == 0:
            progress.advance(1000)
    progress.advance(len(catalogue) % 1000)
    progress.finish()
    return total

class DayFiles:
    """log_data/YYYY/MM/YYYY-MM-DD-events.json, one per UTC day, lines joined without a final newline."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.day = -1
        self.handle: IO[str] | None = None
        self.started = False
        self.files = 0
        self.bytes = 0
        self.first: date | None = None
        self.last: date | None = None

    def open_day(self, day: int) -> None:
        self.close()
        d = date(1970, 1, 1) + timedelta(days=day)
        folder = self.log_dir / f"{d.year:04d}" / f"{d.month:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        self.handle = open(folder / f"{d.isoformat()}-events.json", "w", encoding="ascii", newline="")
        self.day, self.started, self.files = day, False, self.files + 1
        self.first = self.first or d
        self.last = d

    def write(self, lines: list[str]) -> None:
        if lines and self.handle:
            text = "\n".join(lines)
            if self.started:
                text = "\n" + text
            self.handle.write(text)
            self.bytes += len(text)
            self.started = True

    def close(self) -> None:
        if self.handle:
            self.handle.close()
            self.handle = None


def write_logs(log_dir: Path, streams: list[Iterator[Event]], *, codes: int, end_ms: int | None,
               limit: int | None, progress: Progress) -> tuple[DayFiles, list[int]]:
    """Merge the users' streams in `ts` order into one file per UTC day; stop at end_ms or after limit.

    Returns the files and the tally of written events per code (`codes` of them: events.KINDS).
    """
    heap = [(ts, index, line, kind, stream) for index, stream in enumerate(streams)
            for ts, line, kind in (next(stream),)]
    heapq.heapify(heap)
    files = DayFiles(log_dir)
    tally = [0] * codes
    lines: list[str] = []
    remaining = limit if limit is not None else -1
    end = end_ms if end_ms is not None else 1 << 62
    next_day_ms = -1
    report = 0
    replace = heapq.heapreplace
    while remaining and heap[0][0] < end:
        ts, index, line, kind, stream = heap[0]
        if ts >= next_day_ms:
            files.write(lines)
            lines = []
            files.open_day(ts // 86_400_000)
            next_day_ms = (files.day + 1) * 86_400_000
        lines.append(line)
        tally[kind] += 1
        remaining -= 1
        if len(lines) == 20_000:
            files.write(lines)
            lines = []
            progress.advance(20_000)
            report += 20_000
        ts, line, kind = next(stream)
        replace(heap, (ts, index, line, kind, stream))
    files.write(lines)
    files.close()
    progress.advance(sum(tally) - report)
    return files, tally


#: Where a run writes before its data is complete (a hidden folder inside --out).
WORK_PREFIX = ".sparkify-generating-"


def prepare_out(out_dir: Path, overwrite: bool) -> Path:
    """Refuse to mix with existing data; return the hidden folder this run writes into.

    Nothing appears under song_data/ and log_data/ until the run is complete (publish_out):
    an interrupted run leaves no half dataset. --overwrite replaces only song_data/ and log_data/.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise SparkifyError(f"--out {str(out_dir)!r} is a file, not a folder")
    if out_dir.is_dir():
        for stale in out_dir.glob(f"{WORK_PREFIX}*"):  # left by a killed run
            shutil.rmtree(stale, ignore_errors=True)
        if any(out_dir.iterdir()) and not overwrite:
            raise SparkifyError(
                f"--out {str(out_dir)!r} is not empty: choose a new folder, or pass --overwrite "
                "to replace its song_data/ and log_data/"
            )
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        work = out_dir / f"{WORK_PREFIX}{os.getpid()}"
        work.mkdir()
    except OSError as exc:
        raise SparkifyError(f"cannot create --out {str(out_dir)!r}: {exc.strerror}") from exc
    return work


def publish_out(work: Path, out_dir: Path) -> None:
    """Move a complete run's song_data/ and log_data/ into place (replacing older ones)."""
    for sub in ("song_data", "log_data"):
        shutil.rmtree(out_dir / sub, ignore_errors=True)
        os.replace(work / sub, out_dir / sub)
    work.rmdir()
