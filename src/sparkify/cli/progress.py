"""Progress bars on stderr, only when it is a terminal: bytes and MB/s while staging, items elsewhere."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)


class RichProgress:
    """A progress line per phase on stderr (only on a terminal): while staging, the bytes, MB/s and
    records/s measured batch by batch; the star schema and the checks as phases with their time."""

    def __init__(self, console: Console) -> None:
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self.task: Any = None
        self.records = 0
        self.began = 0.0

    def start(self, description: str, total_bytes: int) -> None:
        self.bar.start()
        self.records, self.began = 0, time.perf_counter()
        self.task = self.bar.add_task(description, total=total_bytes or None, rate="")

    def advance(self, nbytes: int, records: int = 0) -> None:
        self.records += records
        elapsed = time.perf_counter() - self.began
        rate = f"{self.records / elapsed:,.0f} records/s" if self.records and elapsed > 0 else ""
        self.bar.update(self.task, advance=nbytes, rate=rate)

    def finish(self) -> None:
        if self.task is not None:
            self.bar.remove_task(self.task)  # a finished phase leaves the screen
            self.task = None
        self.bar.stop()


class CountProgress(RichProgress):
    """RichProgress counting items (song files, events) instead of bytes."""

    def __init__(self, console: Console) -> None:
        from rich.progress import MofNCompleteColumn

        super().__init__(console)
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeRemainingColumn(), console=console, transient=True)
