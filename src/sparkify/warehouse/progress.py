"""How far a load is: what run_etl reports, and what a warehouse reports from inside its work.

run_etl reports the phases (staging a source, building the star schema, checking it) and what
each batch staged. A batch can be 1 GiB staged by one statement, and the star schema takes
seconds, so the warehouse reports from inside them too: DuckDB polls its INSERT's own progress,
and every backend's build_star says which model it builds. It does so through the Reporter that
run_etl lends it (Warehouse.reporting), so this layer never knows what shows the progress (the
CLI's bars on a terminal, a test's recorder, nothing).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol


class Progress(Protocol):
    """Where a load reports how far it is: a phase (staging a source, with its bytes; building the
    star schema and checking it, with total 0: no size known) and what each step added.

    An object may also have `step(item, number, of)`: which of a phase's counted steps begins (a
    model of the star schema, a check). Without it, the load runs all the same."""

    def start(self, description: str, total_bytes: int) -> None: ...
    def advance(self, nbytes: int, records: int = 0) -> None: ...
    def finish(self) -> None: ...


class NoProgress:
    def start(self, description: str, total_bytes: int) -> None:
        pass

    def advance(self, nbytes: int, records: int = 0) -> None:
        pass

    def finish(self) -> None:
        pass

    def step(self, item: str, number: int, of: int) -> None:
        pass


class Reporter:
    """What a warehouse reports to during a load (Warehouse.progress), passed on to a Progress.

    Within a staging batch what the warehouse reports never goes past the batch's bytes, and
    end_batch reports the rest: a phase's advances always sum to its bytes, whatever (and from
    whichever thread) the warehouse reported meanwhile."""

    def __init__(self, progress: Progress | None = None) -> None:
        self.progress: Progress = progress or NoProgress()
        self._left = 0  # bytes of the current batch not reported yet
        self._records = 0  # records reported within it
        self._lock = threading.Lock()

    @property
    def shown(self) -> bool:
        """Whether something shows the reports: only then is it worth polling a statement."""
        return not isinstance(self.progress, NoProgress)

    def begin_batch(self, nbytes: int) -> None:
        self._left, self._records = nbytes, 0

    def advance(self, nbytes: int, records: int = 0) -> None:
        """`nbytes` more of the batch staged (at most what is left of it), `records` more records."""
        with self._lock:
            nbytes, records = max(0, min(nbytes, self._left)), max(0, records)
            if not nbytes and not records:
                return
            self._left -= nbytes
            self._records += records
            self.progress.advance(nbytes, records)

    def end_batch(self, records: int) -> None:
        """The batch is staged, with `records` records read: report what was not reported yet."""
        with self._lock:
            nbytes, records = self._left, max(0, records - self._records)
            self._left = self._records = 0
        if nbytes or records:
            self.progress.advance(nbytes, records)

    def step(self, item: str, number: int, of: int) -> None:
        step = getattr(self.progress, "step", None)
        if step is not None:
            step(item, number, of)

    def building(self, statements: Sequence[tuple[str, str]]) -> Iterator[tuple[str, str]]:
        """Each (model, statement) of sqlfiles.star_statements, saying first when a model begins
        and which of how many it is: the one way every backend's build_star reports."""
        models = list(dict.fromkeys(model for model, _ in statements))
        current = None
        for model, statement in statements:
            if model != current:
                current = model
                self.step(model, models.index(model) + 1, len(models))
            yield model, statement

    @contextlib.contextmanager
    def polling(self, fraction: Callable[[], float], nbytes: int, records: Callable[[], int | None],
                interval: float) -> Iterator[None]:
        """While the block runs (one long statement), report from a thread every `interval`
        seconds `fraction()` (0 to 1, below 0 when unknown) of `nbytes`, and of `records()` (None
        while not known yet): a 1 GiB batch then moves the bar instead of jumping at its end.
        The thread only reads; it is stopped and joined before the block's result is used."""
        if not self.shown or nbytes <= 0:
            yield
            return
        stop = threading.Event()

        def poll() -> None:
            sent_bytes = sent_records = 0
            try:
                while not stop.wait(interval):
                    done = min(fraction(), 1.0)
                    if done <= 0:
                        continue
                    total = records()
                    now_bytes = max(sent_bytes, int(done * nbytes))
                    now_records = max(sent_records, int(done * total)) if total is not None else sent_records
                    if now_bytes > sent_bytes or now_records > sent_records:
                        self.advance(now_bytes - sent_bytes, now_records - sent_records)
                        sent_bytes, sent_records = now_bytes, now_records
            except Exception:  # noqa: BLE001 -- a display that fails stops showing; the load goes on
                return

        thread = threading.Thread(target=poll, name="sparkify-progress", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
