"""Demo data: realistic song files and event logs in the original layout, at any scale.

Writes `song_data/A/B/C/TRABC….json` (one Million-Song-Dataset-style object per file) and
`log_data/YYYY/MM/YYYY-MM-DD-events.json` (eventsim-style events, one per line, sorted by `ts`).

Behaviour follows eventsim rather than uniform noise: heavy-tailed song popularity, artists with
several songs, users with their own activity level who listen in sessions (more in the evening
and at weekends), the real page mix, logged-out events, and users who upgrade and downgrade.

The modules, in the order data is made: vocabulary (words and names) → catalogue (artists,
songs) → users (profiles, session clock) → events (each user's sessions) → writers (the files:
a heap merges the users' streams in `ts` order, so only one pending event per user is held).
"""

from __future__ import annotations

import itertools
import os
import random
import shutil
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from sparkify.errors import SparkifyError
from sparkify.generate.catalogue import make_catalogue
from sparkify.generate.events import KINDS, SongPicker, user_events
from sparkify.generate.users import EVENTS_PER_USER_DAY, Clock, make_users
from sparkify.generate.writers import DayFiles, log_json, prepare_out, publish_out, write_logs, write_songs
from sparkify.pipeline.load import NoProgress, Progress

__all__ = ["GenerateSummary", "Progress", "generate", "log_json"]

DEFAULT_SONGS = 2000
DEFAULT_USERS = 1000
DEFAULT_DAYS = 30
DEFAULT_SEED = 42
DEFAULT_START = date(2018, 11, 1)


@dataclass
class GenerateSummary:
    """What was written, with the counts a warehouse built from it must reconcile with."""

    out_dir: Path
    seed: int
    songs: int = 0
    artists: int = 0
    users: int = 0
    first_day: date | None = None
    last_day: date | None = None
    log_files: int = 0
    events: int = 0
    next_song_events: int = 0
    catalogue_plays: int = 0
    logged_out_events: int = 0
    sessions: int = 0
    level_changes: int = 0
    song_bytes: int = 0
    log_bytes: int = 0
    seconds: float = 0.0
    log_seconds: float = 0.0  # of `seconds`, the time spent on the event logs (not the song files)
    pages: dict[str, int] = field(default_factory=dict)

    @property
    def events_per_second(self) -> float:
        """Event-log throughput: events over the time spent writing the logs."""
        return self.events / self.log_seconds if self.log_seconds else 0.0

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1 if self.first_day and self.last_day else 0


def _check_options(songs: int, users: int | None, days: int | None, events: int | None) -> None:
    if days is not None and events is not None:
        raise SparkifyError("give --days or --events, not both: --days fixes the time span, --events the count")
    for name, value in (("--songs", songs), ("--users", users), ("--days", days), ("--events", events)):
        if value is not None and value < 1:
            raise SparkifyError(f"{name} must be at least 1, got {value}")


def generate(
    out_dir: str | os.PathLike[str],
    *,
    songs: int = DEFAULT_SONGS,
    users: int | None = None,
    days: int | None = None,
    events: int | None = None,
    seed: int = DEFAULT_SEED,
    start: date = DEFAULT_START,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> GenerateSummary:
    """Write a song catalogue and event logs under `out_dir`; the same arguments give the same bytes.

    `days` fixes the time span (default 30) and the event count follows from the users' activity;
    `events` fixes the exact count and the span follows. Without `users` there are 1000 users or,
    with `events`, one per ~100 events, so any size spans about a month, like the real data.
    """
    _check_options(songs, users, days, events)
    began = time.perf_counter()
    progress = progress or NoProgress()
    out = Path(out_dir)
    work = prepare_out(out, overwrite)
    try:
        summary = _write(work, songs, users, days, events, seed, start, progress)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    publish_out(work, out)
    summary.out_dir = out
    summary.seconds = time.perf_counter() - began
    return summary


def _write(out: Path, songs: int, users: int | None, days: int | None, events: int | None, seed: int,
           start: date, progress: Progress) -> GenerateSummary:
    if users is None:
        users = DEFAULT_USERS if events is None else max(1, round(events / (EVENTS_PER_USER_DAY * DEFAULT_DAYS)))
    if events is None and days is None:
        days = DEFAULT_DAYS

    catalogue, unknown = make_catalogue(songs, seed)
    summary = GenerateSummary(out, seed, songs=len(catalogue), artists=len({s.artist.artist_id for s in catalogue}))
    summary.song_bytes = write_songs(catalogue, out / "song_data", progress)

    logs_began = time.perf_counter()
    rng = random.Random(f"{seed}:events")
    start_s = int(datetime(start.year, start.month, start.day, tzinfo=timezone.utc).timestamp())
    user_list = make_users(users, rng, start_s)
    clock, picker, session_ids = Clock(rng), SongPicker(rng, catalogue, unknown), itertools.count(1)
    streams = [user_events(u, rng, clock, picker, session_ids, start_s) for u in user_list]
    end_ms = None if days is None else (start_s + days * 86400) * 1000
    expected = events or round(users * days * EVENTS_PER_USER_DAY)  # type: ignore[operator]
    progress.start("writing events", expected)
    files, tally = write_logs(out / "log_data", streams, codes=2 * len(KINDS), end_ms=end_ms, limit=events,
                              progress=progress)
    progress.finish()
    _summarise(summary, files, tally)
    summary.users = users
    summary.log_seconds = time.perf_counter() - logs_began
    return summary


def _summarise(summary: GenerateSummary, files: DayFiles, tally: list[int]) -> None:
    summary.log_files, summary.log_bytes, summary.first_day, summary.last_day = (
        files.files, files.bytes, files.first, files.last)
    pages: dict[str, int] = {}
    for code, (page, logged_in, known) in enumerate(KINDS):
        count = tally[2 * code] + tally[2 * code + 1]
        pages[page] = pages.get(page, 0) + count
        summary.logged_out_events += 0 if logged_in else count
        summary.catalogue_plays += count if known else 0
    summary.pages = {p: n for p, n in sorted(pages.items(), key=lambda kv: -kv[1]) if n}
    summary.events = sum(tally)
    summary.next_song_events = pages.get("NextSong", 0)
    summary.sessions = sum(tally[1::2])
    summary.level_changes = pages.get("Submit Upgrade", 0) + pages.get("Submit Downgrade", 0)
