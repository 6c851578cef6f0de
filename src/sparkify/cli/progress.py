"""Progress bars on stderr, only when it is a terminal: bytes and MB/s while staging, items elsewhere."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


class RichProgress:
    """A progress line per phase on stderr (only on a terminal): while staging, the MB staged, MB/s
    and records/s since the phase began (the warehouse reports within a batch, so they move while
    one 1 GiB statement runs); building the star schema and checking it, which model or check of
    how many runs."""

    def __init__(self, console: Console) -> None:
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[speed]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self.task: Any = None
        self.phase = ""
        self.total = self.done = self.records = 0
        self.began = 0.0

    def start(self, description: str, total_bytes: int) -> None:
        self.bar.start()
        self.phase, self.total, self.done, self.records = description, total_bytes, 0, 0
        self.began = time.perf_counter()
        self.task = self.bar.add_task(description, total=total_bytes or None, speed="")

    def advance(self, nbytes: int, records: int = 0) -> None:
        self.done += nbytes
        self.records += records
        self.bar.update(self.task, advance=nbytes, speed=self.speed())

    def step(self, item: str, number: int, of: int) -> None:
        """Which of the phase's counted steps runs: "building the star schema: songplays (4/6)"."""
        self.bar.update(self.task, description=f"{self.phase}: {item} ({number}/{of})")

    def speed(self) -> str:
        """What is staged and how fast, measured from the phase's start: "233/466 MB, 95.2 MB/s, …"."""
        seconds = time.perf_counter() - self.began
        if not self.done or seconds <= 0:
            return ""
        text = f"{self.done / 1e6:,.0f}/{self.total / 1e6:,.0f} MB, {self.done / 1e6 / seconds:,.1f} MB/s"
        return text + (f", {self.records / seconds:,.0f} records/s" if self.records else "")

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
