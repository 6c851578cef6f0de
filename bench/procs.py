"""What every benchmark scenario needs: whole processes timed with their peak RSS, disk sampling,
PostgreSQL databases to throw away, generated data reused between runs, and the machine's facts."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SPARKIFY = str(Path(sys.executable).with_name("sparkify"))
ADMIN = os.environ.get("SPARKIFY_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")  # --postgres
MARKER = ".generated"  # written last by generate_data: a folder without it is incomplete


class Failed(Exception):
    """A measured process failed, or did not do what the scenario needs: that scenario's figures are
    lost, the others' are still worth recording."""


@dataclass
class Run:
    """One whole process: wall seconds from fork to exit, its own peak RSS (wait4), what it printed."""

    seconds: float
    rss_mb: float
    stdout: str


def run(cmd: list[str], env: dict[str, str] | None = None) -> Run:
    """Run `cmd` to the end; wait4 gives the child's own ru_maxrss, not the bench's or an earlier child's."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env={**os.environ, **(env or {})})
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        raise Failed(f"{' '.join(cmd)} failed (exit {proc.returncode}):\n{stdout[-3000:]}\n{stderr[-3000:]}")
    return Run(elapsed, usage.ru_maxrss / 1024, stdout)


def du(*paths: Path) -> int:
    """Bytes allocated on disk under these paths (missing ones count 0), as `du` counts them."""
    total = 0
    for path in paths:
        if path.is_file():
            total += path.stat().st_blocks * 512
        elif path.is_dir():
            total += sum(f.stat().st_blocks * 512 for f in path.rglob("*") if f.is_file() and not f.is_symlink())
    return total


class DiskPeak:
    """The largest `du` of some paths while a block runs, sampled every half second (spill files come
    and go within a load, so the end state would miss them)."""

    def __init__(self, *paths: Path) -> None:
        self.paths, self.peak, self._stop = paths, 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while True:
            try:
                self.peak = max(self.peak, du(*self.paths))
            except OSError:  # a spill file removed while counted
                pass
            if self._stop.wait(0.5):
                return

    def __enter__(self) -> "DiskPeak":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, du(*self.paths))


def duckdb_files(db: Path) -> list[Path]:
    """A DuckDB warehouse on disk: the file, its WAL and its spill folder."""
    return [db, Path(f"{db}.wal"), Path(f"{db}.tmp")]


def remove_duckdb(db: Path) -> None:
    for path in duckdb_files(db):
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)


def psql(sql: str, url: str) -> str:
    done = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
                          capture_output=True, text=True)
    if done.returncode:
        raise Failed(f"psql {sql[:200]!r} failed (exit {done.returncode}): {done.stderr.strip()}")
    return done.stdout


class Databases:
    """PostgreSQL databases made for one bench run on the server of `admin` (a URL whose user may
    create databases), each dropped at the end."""

    def __init__(self, admin: str) -> None:
        self.admin = admin
        self.made: list[str] = []

    def url(self, name: str) -> str:
        return self.admin.rsplit("/", 1)[0] + "/" + name

    def fresh(self, template: str | None = None) -> str:
        """A new empty database (or a copy of `template`'s URL); its URL."""
        name = f"sparkify_bench_{uuid.uuid4().hex[:8]}"
        copy = ""
        if template:  # FILE_COPY (PostgreSQL 15+): a file copy, not every page of a big database through WAL
            fast = int(psql("SHOW server_version_num", self.admin)) >= 150000
            copy = f" TEMPLATE {template.rsplit('/', 1)[1]}" + (" STRATEGY FILE_COPY" if fast else "")
        psql(f"CREATE DATABASE {name}{copy}", self.admin)
        self.made.append(name)
        return self.url(name)

    def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", self.admin)
        if name in self.made:
            self.made.remove(name)

    def drop_all(self) -> None:
        for name in list(self.made):
            self.drop(self.url(name))


def dataset(data: Path, events: int, songs: int, seed: int) -> Path:
    """The folder of `sparkify generate --events N` output (song_data/, log_data/)."""
    suffix = "" if (songs, seed) == (15_000, 42) else f"-songs-{songs}-seed-{seed}"
    return data / f"events-{events}{suffix}"


def generate_data(data: Path, events: int, songs: int, seed: int) -> dict[str, Any]:
    """Generate the data set once with `sparkify generate`; later runs reuse it (the marker says it is
    complete and how it was made). Returns the marker: events, songs, seed, seconds, reused."""
    root = dataset(data, events, songs, seed)
    marker = root / MARKER
    wanted = {"events": events, "songs": songs, "seed": seed}
    if marker.is_file():
        made = json.loads(marker.read_text())
        if {k: made.get(k) for k in wanted} == wanted:
            return {**made, "reused": True}
    shutil.rmtree(root, ignore_errors=True)
    print(f"generating {events:,} events, {songs:,} songs into {root} …", flush=True)
    took = run([SPARKIFY, "generate", "--out", str(root), "--events", str(events), "--songs", str(songs),
                "--seed", str(seed), "-q"])
    made = {**wanted, "seconds": took.seconds}
    marker.write_text(json.dumps(made) + "\n")
    return {**made, "reused": False}


def json_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*.json"))


def machine(data: Path, postgres: str | None) -> dict[str, Any]:
    """CPU, cores, RAM, load average at start and the versions that matter for the figures."""
    import duckdb

    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []:
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    version = psql("SHOW server_version", postgres).strip() if postgres else "not used"
    commit = subprocess.run(["git", "-C", str(HERE), "describe", "--always", "--dirty"], capture_output=True,
                            text=True).stdout.strip()
    return {
        "cpu": cpu, "cores": os.cpu_count(), "ram_gib": round(os.sysconf("SC_PAGE_SIZE") *
                                                              os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_average": [round(x, 2) for x in os.getloadavg()], "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(), "duckdb": duckdb.__version__, "postgresql": version,
        "commit": commit, "disk_free_gb": round(shutil.disk_usage(data).free / 1e9, 1),
    }
