"""`sparkify etl --full-refresh` on Redshift is atomic for readers (issue 13 item 3), through the
strict Redshift stand-in: a reader never sees an empty or half warehouse, a refresh that fails or is
killed leaves the old one, and a successful refresh gives DuckDB's star."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from tests.redshift_standin.fixtures import (DATA, ROLE, STAGING, aws, aws_env, cloud, moto_endpoint,  # noqa: F401
                                             standin)
from tests.redshift_standin.standin import Standin
from tests.test_redshift_etl import (BAD_EVENTS, _one_day, _upload_logs, duckdb_star, etl,  # noqa: F401
                                     star)
from tests.test_refresh_and_manifest import SPARKIFY


class Reader(threading.Thread):
    """Counts songs and songplays through the stand-in, over and over, until stopped."""

    def __init__(self, standin: Standin) -> None:
        super().__init__(daemon=True)
        self.standin, self.seen, self.errors = standin, set[tuple[Any, ...]](), list[str]()
        self.stop = threading.Event()

    def run(self) -> None:
        with self.standin.connect() as con:
            while not self.stop.is_set():
                try:
                    self.seen.add(con.execute("SELECT (SELECT count(*) FROM analytics.songs), "
                                              "(SELECT count(*) FROM analytics.songplays)").fetchone() or ())
                except Exception as exc:  # noqa: BLE001 - what a reader would see is the finding
                    self.errors.append(str(exc))

    def __enter__(self) -> "Reader":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.join()


def test_a_full_refresh_never_shows_readers_an_empty_warehouse_and_a_failed_one_keeps_the_old(
        standin: Standin, sample: Path, duckdb_star: dict[str, Any]) -> None:
    url = standin.url(iam_role=ROLE, staging=STAGING)
    assert etl(url).exit_code == 0
    old = star(url)
    full = (71, 6820)

    bad = _upload_logs(standin.s3_endpoint, "refresh-bad", {"day.json": _one_day(sample, BAD_EVENTS[0])})
    with Reader(standin) as reader:
        failed = etl(url, "--full-refresh", logs=bad)
    assert failed.exit_code == 1, failed.output
    assert "more than --max-errors 0" in failed.output
    assert not reader.errors and reader.seen == {full}, (reader.seen, reader.errors[:3])
    assert star(url) == old
    assert standin.rows("SELECT load_id, status FROM staging.loads ORDER BY 1") == [(1, "committed"), (2, "failed")]

    with Reader(standin) as reader:
        done = etl(url, "--full-refresh")
    assert done.exit_code == 0, done.output
    assert not reader.errors and reader.seen == {full}, (reader.seen, reader.errors[:3])
    assert star(url) == duckdb_star
    # a new warehouse: the old history went with the old tables, and the numbering goes on
    assert standin.rows("SELECT load_id, status FROM staging.loads") == [(3, "committed")]
    standin.assert_accepted()


def test_a_killed_full_refresh_leaves_the_old_warehouse(standin: Standin, tmp_path: Path) -> None:
    url = standin.url(iam_role=ROLE, staging=STAGING)
    old = etl(url, "--no-check", logs=None)  # the old warehouse: songs only
    assert old.exit_code == 0, old.output
    start = len(standin.statements)
    process = subprocess.Popen([SPARKIFY, "etl", "--no-check", "-q", "--full-refresh", "-w", url,
                                "--songs", f"s3://{DATA}/song_data", "--logs", f"s3://{DATA}/log_data"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None and not any(
                s.startswith("COPY") for s in standin.statements[start:]):  # past the drop, before the commit
            time.sleep(0.02)
        assert process.poll() is None, "the refresh ended before it could be killed"
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()
    while time.monotonic() < deadline and standin.rows(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND application_name = 'sparkify'")[0][0]:
        time.sleep(0.05)  # the relay closes the dead client's session: PostgreSQL rolls it back
    assert not any(s.strip().upper() == "COMMIT" for s in standin.statements[start:])
    assert standin.rows("SELECT (SELECT count(*) FROM analytics.songs), (SELECT count(*) FROM analytics.songplays)"
                        ) == [(71, 0)]
    assert "Nothing new" in etl(url, "--no-check", logs=None).output
    standin.assert_accepted()
