"""Progress bars on stderr, only when it is a terminal: bytes and MB/s while staging, items elsewhere."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn


class RichProgress:
    """A progress bar per phase on stderr (only on a terminal): bytes and MB/s while staging."""

    def __init__(self, console: Console) -> None:
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self.task: Any = None

    def start(self, description: str, total_bytes: int) -> None:
        self.bar.start()
        self.task = self.bar.add_task(description, total=total_bytes)

    def advance(self, nbytes: int) -> None:
        self.bar.advance(self.task, nbytes)

    def finish(self) -> None:
        self.bar.stop()


class CountProgress(RichProgress):
    """RichProgress counting items (song files, events) instead of bytes."""

    def __init__(self, console: Console) -> None:
        from rich.progress import MofNCompleteColumn

        super().__init__(console)
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeRemainingColumn(), console=console, transient=True)
