"""Temporary folders that never outlive their run, even one killed with `kill -9`.

Each folder holds an `.owner` file that its process keeps locked (flock) while it lives. The
kernel drops the lock when the process dies, however it dies, so a later run's sweep() tells a
dead run's folder (a 261 MB CSV, a parser's spill files) from a live one and removes it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
from types import TracebackType

PREFIX = "sparkify-"
OWNER = ".owner"


class ScratchDir:
    """A private temp folder (`with ScratchDir(prefix) as path:`), removed on exit or by sweep()."""

    def __init__(self, prefix: str = PREFIX, dir: str | None = None) -> None:
        self.name = tempfile.mkdtemp(prefix=prefix, dir=dir)
        # Locked before it is visible as `.owner`: a sweep never sees an unlocked owner file.
        pending = os.path.join(self.name, OWNER + ".new")
        self._owner: int | None = os.open(pending, os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(self._owner, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.rename(pending, os.path.join(self.name, OWNER))

    def cleanup(self) -> None:
        shutil.rmtree(self.name, ignore_errors=True)
        if self._owner is not None:
            os.close(self._owner)
            self._owner = None

    def __enter__(self) -> str:
        return self.name

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.cleanup()


def sweep(root: str | None = None) -> int:
    """Remove the scratch folders of runs that died (their owner lock is free); return how many."""
    root = root or tempfile.gettempdir()
    removed = 0
    try:
        entries = [e for e in os.scandir(root) if e.name.startswith(PREFIX)]
    except OSError:
        return 0
    for entry in entries:
        owner = os.path.join(entry.path, OWNER)
        try:
            fd = os.open(owner, os.O_RDWR)
        except OSError:
            continue  # not one of ours, or being created: never touched
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue  # its run is alive
        with contextlib.suppress(OSError):
            shutil.rmtree(entry.path)
            removed += 1
        os.close(fd)
    return removed
