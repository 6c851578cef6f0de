"""Finding input files never skips one silently: every path named like an input is loaded, a
warning with its path, or (an unreadable folder, a name that is not UTF-8) a clear error."""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import orjson
import pytest

from tests.oddities import song
from tests.pg import fresh_database

SPARKIFY = str(Path(sys.executable).with_name("sparkify"))


def songs_json(song_id: str) -> bytes:
    return orjson.dumps(song(song_id=song_id))


@pytest.fixture
def world() -> Iterator[Path]:
    """A folder of odd paths, removed afterwards (unreadable folders included)."""
    folder = Path(tempfile.mkdtemp(prefix="sparkify-inputs-"))
    try:
        yield folder
    finally:
        for root, dirs, _ in os.walk(folder):
            for d in dirs:
                if not os.path.islink(os.path.join(root, d)):
                    os.chmod(os.path.join(root, d), 0o755)
        shutil.rmtree(folder, ignore_errors=True)


def _without_read_override() -> None:
    """Root reads every folder: drop CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from the bounding
    set, so the program exec'd next obeys permissions like any user."""
    if os.geteuid() == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
            if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
                raise OSError(ctypes.get_errno(), "cannot drop a capability")


def sparkify(*args: str, obey_permissions: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SPARKIFY, *args], capture_output=True, text=True, timeout=300,
                          preexec_fn=_without_read_override if obey_permissions else None)


def test_odd_paths_are_warnings_with_their_path(world: Path) -> None:
    songs = world / "songs"
    (songs / "A").mkdir(parents=True)
    (songs / "A" / "good.json").write_bytes(songs_json("SO1"))
    (songs / "folder.json").mkdir()
    (songs / "folder.json" / "inside.json").write_bytes(songs_json("SO2"))
    (songs / "dangling.json").symlink_to(songs / "nowhere.json")
    (songs / "self.json").symlink_to(songs / "self.json")
    (songs / "A" / "loop").symlink_to(songs)
    os.mkfifo(songs / "pipe.json")
    path = str(world / "w.duckdb")
    result = sparkify("etl", "--no-check", "--songs", str(songs), "-w", path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 5, result.stderr
    for name, why in [("dangling.json", "dangling or looping symbolic link"),
                      ("self.json", "dangling or looping symbolic link"),
                      ("pipe.json", "not a regular file (a FIFO"),
                      ("loop", "a symbolic link to a folder already searched"),
                      ("folder.json", "is a folder, not a file; searched it")]:
        assert any(name in w and why in w for w in warnings), (name, warnings)
    with duckdb.connect(path, read_only=True) as con:
        assert sorted(r[0] for r in con.execute("SELECT song_id FROM analytics.songs").fetchall()) == ["SO1", "SO2"]


def test_a_glob_that_matches_a_folder_or_fifo_says_so(world: Path) -> None:
    logs = world / "logs"
    logs.mkdir()
    (logs / "a.json").mkdir()
    os.mkfifo(logs / "b.json")
    (logs / "c.json").write_bytes(b"")
    result = sparkify("etl", "--no-check", "--logs", str(logs / "*.json"), "-w", str(world / "w.duckdb"))
    assert result.returncode == 0, result.stderr
    assert "a.json' : a folder" not in result.stderr
    assert f"skipped {str(logs / 'a.json')!r}: a folder, not a file" in result.stderr
    assert f"skipped {str(logs / 'b.json')!r}: not a regular file" in result.stderr


def test_an_unreadable_folder_fails_the_load(world: Path) -> None:
    songs = world / "songs"
    (songs / "secret").mkdir(parents=True)
    (songs / "good.json").write_bytes(songs_json("SO1"))
    (songs / "secret" / "hidden.json").write_bytes(songs_json("SO2"))
    (songs / "secret").chmod(0o000)
    result = sparkify("etl", "--no-check", "--songs", str(songs), "-w", str(world / "w.duckdb"), obey_permissions=True)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().endswith(f"--songs: cannot read folder {str(songs / 'secret')!r}: Permission denied")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("backend", ["duckdb", "postgresql"])
def test_a_file_name_that_is_not_utf8_is_a_clear_error(world: Path, backend: str) -> None:
    logs = world / "logs"
    logs.mkdir()
    with open(os.path.join(os.fsencode(logs), b"caf\xe9.json"), "wb") as handle:
        handle.write(b'{"ts": 1541105830796, "page": "Home"}\n')
    if backend == "duckdb":
        result = sparkify("etl", "--no-check", "--logs", str(logs), "-w", str(world / "w.duckdb"))
    else:
        with fresh_database("sparkify_names") as url:
            result = sparkify("etl", "--no-check", "--logs", str(logs), "-w", url)
    assert result.returncode == 2, result.stderr
    assert "--logs: file name is not UTF-8: " in result.stderr and "caf\\xe9.json" in result.stderr
    assert "rename the file" in result.stderr and "Traceback" not in result.stderr


def test_an_unreadable_song_file_is_one_clear_error(world: Path) -> None:
    songs = world / "songs"
    songs.mkdir()
    (songs / "good.json").write_bytes(songs_json("SO1"))
    (songs / "secret.json").write_bytes(songs_json("SO2"))
    (songs / "secret.json").chmod(0o000)
    path = world / "w.duckdb"
    result = sparkify("etl", "--no-check", "--songs", str(songs), "-w", str(path), obey_permissions=True)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert f"cannot read {str(songs / 'secret.json')!r}: Permission denied" in result.stderr
