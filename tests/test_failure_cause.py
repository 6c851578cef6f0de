"""Issue 18 item 8: when a DuckDB statement fails, the first error is what the user sees, and
the load is recorded as failed; the rollback's own error ("cannot rollback - no transaction is
active") never replaces it.

The failure is real, not injected: the `sparkify etl` process runs under a file-size limit
(RLIMIT_FSIZE, with SIGXFSZ ignored), so DuckDB's write of the write-ahead log at COMMIT fails
with "File too large" (EFBIG), exactly as it fails with "No space left on device" on a full disk.
"""

from __future__ import annotations

import resource
import signal
import subprocess
import sys
from pathlib import Path

import duckdb

from tests.test_reliable_loads import etl, star


def _etl_with_file_limit(limit: int, *args: str) -> subprocess.CompletedProcess[str]:
    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    exe = Path(sys.executable).with_name("sparkify")
    return subprocess.run([str(exe), "etl", "--no-check", *args], preexec_fn=limited,
                          capture_output=True, text=True, timeout=600)


def test_a_failed_commit_keeps_its_cause_and_its_record(sample: Path, tmp_path: Path) -> None:
    path = str(tmp_path / "w.duckdb")
    etl(path, "--songs", str(sample / "song_data"))
    failed = _etl_with_file_limit(256 * 1024, "--logs", str(sample / "log_data"), "-w", path)
    assert failed.returncode == 2, failed.stderr
    assert "File too large" in failed.stderr and "Traceback" not in failed.stderr
    assert "cannot rollback" not in failed.stderr and "invalidated" not in failed.stderr
    with duckdb.connect(path, read_only=True) as con:
        loads = con.execute("SELECT load_id, status, message FROM staging.loads ORDER BY load_id").fetchall()
        assert con.execute("SELECT count(*) FROM staging.staging_events").fetchall() == [(0,)]
    assert [(i, status) for i, status, _ in loads] == [(1, "committed"), (2, "failed")]
    assert "File too large" in loads[1][2]
    # `loads` shows it, and the next run (the disk has room again) loads everything.
    shown = subprocess.run([str(Path(sys.executable).with_name("sparkify")), "loads", "-w", path, "--format", "csv"],
                           capture_output=True, text=True, check=True).stdout
    assert ",failed," in shown and "File too large" in shown
    etl(path, "--logs", str(sample / "log_data"))
    clean = str(tmp_path / "clean.duckdb")
    etl(clean, "--songs", str(sample / "song_data"), "--logs", str(sample / "log_data"))
    assert star(path) == star(clean)
