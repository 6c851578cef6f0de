"""`--full-refresh` never shows readers an empty or half warehouse, and a changed file is never
taken for an unchanged one (the manifest's content hash is SHA-256, not a forgeable CRC-32)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import duckdb
import psycopg
import pytest

from tests.conftest import run_cli
from tests.pg import fresh_database

SPARKIFY = str(Path(sys.executable).with_name("sparkify"))


def forge_crc(data: bytes, target: int, at: int) -> bytes:
    """`data` with the 4 bytes at `at` replaced so that its CRC-32 is `target` (CRC-32 is affine
    in the message bits: 32 bits solve any target, a 32x32 system over GF(2))."""
    base = bytearray(data)
    base[at:at + 4] = b"\0\0\0\0"
    zero = zlib.crc32(base)
    columns = []
    for bit in range(32):
        probe = bytearray(base)
        probe[at + bit // 8] ^= 1 << (bit % 8)
        columns.append(zlib.crc32(probe) ^ zero)
    # Gaussian elimination: find bits whose columns XOR to (zero ^ target).
    rows = [(columns[b], 1 << b) for b in range(32)]
    basis: list[tuple[int, int]] = []
    for value, combo in rows:
        for bv, bc in basis:
            if value ^ bv < value:
                value, combo = value ^ bv, combo ^ bc
        if value:
            basis.append((value, combo))
            basis.sort(reverse=True)
    want, pick = zero ^ target, 0
    for bv, bc in basis:
        if want ^ bv < want:
            want, pick = want ^ bv, pick ^ bc
    assert want == 0, "CRC-32 bits not independent"
    for bit in range(32):
        if pick >> bit & 1:
            base[at + bit // 8] ^= 1 << (bit % 8)
    assert zlib.crc32(base) == target
    return bytes(base)


def etl(path: str, *args: str) -> str:
    result = run_cli("etl", "--no-check", "-w", path, *args)
    assert result.exit_code == 0, result.output
    return result.output


def touch(path: Path) -> None:
    later = time.time() + 120
    os.utime(path, (later, later))


def one_day_loaded(sample: Path, tmp_path: Path) -> tuple[Path, Path, str]:
    """(logs folder, its one day file, warehouse path), the day loaded."""
    logs = tmp_path / "logs"
    logs.mkdir()
    day = logs / "day.json"
    shutil.copy(sample / "log_data" / "2018" / "11" / "2018-11-05-events.json", day)
    path = str(tmp_path / "w.duckdb")
    etl(path, "--logs", str(logs))
    return logs, day, path


def test_a_forged_same_size_same_crc_file_is_reloaded(sample: Path, tmp_path: Path) -> None:
    logs, day, path = one_day_loaded(sample, tmp_path)
    original = day.read_bytes()
    changed = original.replace(b'"level":"free"', b'"level":"paid"', 1)
    # The 4 forged bytes replace the first 4 characters of the last line's song title.
    at = original.rindex(b'"song":"') + len(b'"song":"')
    forged = forge_crc(changed, zlib.crc32(original), at)
    assert len(forged) == len(original) and zlib.crc32(forged) == zlib.crc32(original) and forged != original
    day.write_bytes(forged)
    touch(day)
    output = etl(path, "--logs", str(logs), "--max-errors", "1")  # the forged bytes may not be UTF-8
    assert "1 files loaded" in output
    with duckdb.connect(path, read_only=True) as con:
        [(checksum,)] = con.execute("SELECT checksum FROM staging.loaded_files").fetchall()
        levels = con.execute("SELECT count(*) FILTER (WHERE level = 'paid') FROM staging.staging_events").fetchall()
    assert checksum.startswith("sha256:") and len(checksum) == len("sha256:") + 64
    before = original.count(b'"level":"paid"')
    assert levels[0][0] in (before + 1, before)  # +1 unless the forged line itself was rejected
    assert "Nothing new" in etl(path, "--logs", str(logs))


def test_an_old_crc32_manifest_reloads_once(sample: Path, tmp_path: Path) -> None:
    logs, day, path = one_day_loaded(sample, tmp_path)
    with duckdb.connect(path) as con:  # what an older sparkify recorded
        con.execute("UPDATE staging.loaded_files SET checksum = ?", [f"crc32:{zlib.crc32(day.read_bytes()):08x}"])
    touch(day)
    assert "1 files loaded" in etl(path, "--logs", str(logs))
    touch(day)
    assert "Nothing new" in etl(path, "--logs", str(logs))
    with duckdb.connect(path, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM staging.staging_events").fetchall() == [(day.read_bytes().count(b"\n") + 1,)]


def _songplays(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as con:
        return con.execute("SELECT count(*) FROM analytics.songplays").fetchone()[0]  # type: ignore[index]


def test_postgres_full_refresh_never_shows_readers_an_empty_warehouse(sample: Path) -> None:
    with fresh_database("sparkify_refresh") as url:
        songs, logs = str(sample / "song_data"), str(sample / "log_data")
        etl(url, "--songs", songs, "--logs", logs)
        expected = _songplays(url)
        seen: list[int] = []
        stop = threading.Event()

        def read() -> None:
            while not stop.is_set():
                seen.append(_songplays(url))

        reader = threading.Thread(target=read)
        reader.start()
        try:
            refresh = subprocess.run([SPARKIFY, "etl", "--no-check", "-q", "--full-refresh", "-w", url,
                                      "--songs", songs, "--logs", logs], capture_output=True, text=True, timeout=600)
        finally:
            stop.set()
            reader.join()
        assert refresh.returncode == 0, refresh.stderr
        assert len(seen) >= 2
        assert set(seen) == {expected}, f"readers saw {sorted(set(seen))} songplays during the refresh"
        assert _songplays(url) == expected


def _start_refresh(url: str, sample: Path, tmp_path: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([SPARKIFY, "etl", "--no-check", "-q", "--full-refresh", "-w", url,
                             "--songs", str(sample / "song_data"), "--logs", str(sample / "log_data")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "TMPDIR": str(tmp_path)})


def test_postgres_refresh_killed_with_sigkill_leaves_the_old_warehouse(sample: Path, tmp_path: Path) -> None:
    with fresh_database("sparkify_refresh") as url:
        etl(url, "--songs", str(sample / "song_data"))  # the old warehouse: songs only
        process = _start_refresh(url, sample, tmp_path)
        deadline = time.monotonic() + 60
        with psycopg.connect(url, autocommit=True) as con:
            while time.monotonic() < deadline and process.poll() is None:  # until the refresh holds its lock
                if con.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'").fetchone()[0]:  # type: ignore[index]
                    break
                time.sleep(0.05)
            time.sleep(0.5)
            assert process.poll() is None, "the refresh ended before it could be killed"
            process.send_signal(signal.SIGKILL)
            process.wait()
            # The server notices the dead client at its next write to it; end the session now
            # (what client_connection_check_interval does) instead of waiting for that.
            con.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()")
            songs = con.execute("SELECT count(*) FROM analytics.songs").fetchone()[0]  # type: ignore[index]
            plays = con.execute("SELECT count(*) FROM analytics.songplays").fetchone()[0]  # type: ignore[index]
        assert (songs, plays) == (71, 0)
        assert "Nothing new" in etl(url, "--songs", str(sample / "song_data"))


def test_duckdb_refresh_killed_with_sigkill_leaves_the_old_warehouse(sample: Path, tmp_path: Path) -> None:
    path = str(tmp_path / "w.duckdb")
    etl(path, "--songs", str(sample / "song_data"))
    for delay in (0.5, 1.0, 1.5):
        process = _start_refresh(path, sample, tmp_path)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        with duckdb.connect(path, read_only=True) as con:
            now = (con.execute("SELECT count(*) FROM analytics.songs").fetchall()[0][0],
                   con.execute("SELECT count(*) FROM analytics.songplays").fetchall()[0][0])
        assert now in ((71, 0), (71, 6820)), f"half a refresh after kill at {delay}s: {now}"
    assert "30 files loaded" in etl(path, "--full-refresh", "--songs", str(sample / "song_data"),
                                    "--logs", str(sample / "log_data"))
