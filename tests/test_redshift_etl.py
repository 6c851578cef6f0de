"""`sparkify etl --warehouse redshift://…` end to end, through the strict Redshift stand-in
(tests/redshift_standin): the real CLI, the real sample in moto's S3 on loopback, COPY run from
the manifests and JSONPaths files the tool writes, every statement checked against what Redshift
refuses. The star schema must be exactly DuckDB's, table by table, column by column."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from sparkify.warehouse import redshift as rs
from tests.conftest import run_cli
from tests.redshift_standin.fixtures import (DATA, ROLE, STAGING, aws, aws_env, cloud, moto_endpoint,  # noqa: F401
                                             standin)
from tests.redshift_standin.standin import Standin
from tests.test_contract import TABLES, dump

STAR = [t for t in TABLES if t.startswith("analytics.")]
BAD = "bad-lines"


def star(url: str) -> dict[str, Any]:
    tables = dump(url)
    return {t: tables[t] for t in STAR}


def etl(warehouse: str, *extra: str, songs: str | None = f"s3://{DATA}/song_data",
        logs: str | None = f"s3://{DATA}/log_data") -> Any:
    args = ["etl", "--warehouse", warehouse, *extra]
    args += ["--songs", songs] if songs else []
    args += ["--logs", logs] if logs else []
    return run_cli(*args)


@pytest.fixture(scope="module")
def duckdb_star(cloud: str, sample: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = str(tmp_path_factory.mktemp("duck") / "sample.duckdb")
    result = run_cli("etl", "--songs", str(sample / "song_data"), "--logs", str(sample / "log_data"),
                     "--warehouse", path)
    assert result.exit_code == 0, result.output
    return star(path)


def test_the_sample_loads_into_the_same_star_as_duckdb_and_a_rerun_changes_nothing(
        standin: Standin, duckdb_star: dict[str, Any]) -> None:
    url = standin.url(iam_role=ROLE, staging=STAGING)
    result = etl(url)
    assert result.exit_code == 0, result.output
    assert "71 records read = 71 staged + 0 rejected" in result.output
    assert "8056 records read = 8056 staged + 0 rejected" in result.output
    # the loads really went through COPY: one per batch and source, from the tool's own manifests
    assert standin.copies and all(c.manifest and c.source.startswith(f"{STAGING}/manifests/") for c in standin.copies)
    first = star(url)
    assert first == duckdb_star
    assert len(first["analytics.songplays"][1]) == 6820

    again = etl(url)
    assert again.exit_code == 0, again.output
    assert "Nothing new" in again.output
    assert star(url) == first
    standin.assert_accepted()


def test_each_copy_reads_a_multiple_of_the_cluster_slices(standin: Standin, monkeypatch: pytest.MonkeyPatch) -> None:
    """AWS: the number of files a COPY loads should be a multiple of the slices. The stand-in has
    three; with at most 10 objects a batch, the 71 song files go as seven COPYs of 9 and one of 8."""
    monkeypatch.setattr(rs, "BATCH_FILES", 10)
    result = etl(standin.url(iam_role=ROLE, staging=STAGING), "--no-check", logs=None)  # songs only
    assert result.exit_code == 0, result.output
    assert [c.objects for c in standin.copies] == [9] * 7 + [8]
    assert standin.rows("SELECT count(*) FROM analytics.songs") == [(71,)]
    standin.assert_accepted()


def _upload_logs(endpoint: str, prefix: str, files: dict[str, bytes]) -> str:
    s3 = aws("s3", endpoint)
    for name, body in files.items():
        s3.put_object(Bucket=DATA, Key=f"{prefix}/{name}", Body=body)
    return f"s3://{DATA}/{prefix}"


def _write_local(root: Path, files: dict[str, bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, body in files.items():
        (root / name).write_bytes(body)
    return root


def test_an_incremental_run_gives_the_same_star_as_duckdb(standin: Standin, sample: Path, tmp_path: Path) -> None:
    """Half the days first, then the rest: the second run loads only the new objects."""
    days = sorted((sample / "log_data").rglob("*.json"))
    first, rest = days[:15], days[15:]
    s3 = aws("s3", standin.s3_endpoint)
    for i, group in enumerate((first, rest)):
        for path in group:
            s3.upload_file(str(path), DATA, f"incremental/log_data/{path.name}")
        local = tmp_path / "logs"
        local.mkdir(exist_ok=True)
        for path in group:
            (local / path.name).write_bytes(path.read_bytes())
        url = standin.url(iam_role=ROLE, staging=STAGING)
        remote = etl(url, logs=f"s3://{DATA}/incremental/log_data")
        assert remote.exit_code == 0, remote.output
        assert f"events: {len(group)} files loaded, {15 if i else 0} unchanged" in remote.output
        duck = run_cli("etl", "--songs", str(sample / "song_data"), "--logs", str(local),
                       "--warehouse", str(tmp_path / "incremental.duckdb"))
        assert duck.exit_code == 0, duck.output
    assert star(url) == star(str(tmp_path / "incremental.duckdb"))
    standin.assert_accepted()


BAD_EVENTS = [
    b"this line is not JSON",
    json.dumps({"page": "NextSong", "userId": "39", "sessionId": "abc", "itemInSession": 1, "ts": 1541105830796,
                "level": "free", "song": "x", "artist": "y"}).encode(),
    json.dumps({"page": "NextSong", "userId": "39", "sessionId": 5, "itemInSession": 2, "ts": "yesterday",
                "level": "free"}).encode(),
]


def _bad_day(sample: Path) -> bytes:
    """A real day of events with three bad lines among them."""
    day = (sample / "log_data" / "2018" / "11" / "2018-11-05-events.json").read_bytes().splitlines()
    return b"\n".join(day[:10] + BAD_EVENTS[:1] + day[10:20] + BAD_EVENTS[1:] + day[20:]) + b"\n"


def test_bad_lines_are_rejected_like_duckdb_within_max_errors_and_fail_the_load_beyond(
        standin: Standin, sample: Path, tmp_path: Path) -> None:
    files = {"2018-11-05-events.json": _bad_day(sample)}
    logs = _upload_logs(standin.s3_endpoint, BAD, files)
    local = _write_local(tmp_path / "bad", files)
    url = standin.url(iam_role=ROLE, staging=STAGING)
    duck = str(tmp_path / "bad.duckdb")

    # one fewer allowed than there are: nothing is committed, the failed load keeps its rejects
    for warehouse, where in ((url, logs), (duck, str(local))):
        failed = etl(warehouse, "--max-errors", "2", songs=None, logs=where)
        assert failed.exit_code == 1, failed.output
        assert "rejected 3 record(s), more than --max-errors 2" in failed.output
    assert standin.rows("SELECT count(*) FROM analytics.songplays") == [(0,)]
    assert standin.rows("SELECT load_id, status FROM staging.loads") == [(1, "failed")]
    duck_lines = sorted(row[3] for row in dump(duck)["staging.load_errors"][1])
    assert sorted(line for _, line in standin.rows("SELECT file, line FROM staging.load_errors")) == duck_lines

    # exactly as many as allowed: the load commits, with the same star and the same rejected lines
    for warehouse, where in ((url, logs), (duck, str(local))):
        done = etl(warehouse, "--max-errors", "3", songs=f"s3://{DATA}/song_data" if warehouse == url else
                   str(sample / "song_data"), logs=where)
        assert done.exit_code == 0, done.output
        assert "records read" in done.output and "+ 3 rejected" in done.output
    assert star(url) == star(duck)
    rejected = standin.rows("SELECT file, line FROM staging.load_errors WHERE load_id = 2 ORDER BY line")
    assert rejected == [(f"{logs}/2018-11-05-events.json", n) for n in (11, 22, 23)]
    standin.assert_accepted()


def _one_day(sample: Path, *extra: bytes) -> bytes:
    day = (sample / "log_data" / "2018" / "11" / "2018-11-05-events.json").read_bytes().splitlines()
    return b"\n".join(day + list(extra)) + b"\n"


def _same_as_duckdb(standin: Standin, sample: Path, tmp_path: Path, prefix: str, files: dict[str, bytes],
                    *extra: str, **url_options: str) -> Any:
    """Load the songs and these log files into the stand-in and into DuckDB; the stars must match."""
    logs = _upload_logs(standin.s3_endpoint, prefix, files)
    local = _write_local(tmp_path / prefix, files)
    url = standin.url(iam_role=ROLE, staging=STAGING, **url_options)
    remote = etl(url, *extra, logs=logs)
    duck = str(tmp_path / f"{prefix}.duckdb")
    assert run_cli("etl", "--songs", str(sample / "song_data"), "--logs", str(local), "--warehouse", duck,
                   *extra).exit_code == 0
    assert remote.exit_code == 0, remote.output
    assert star(url) == star(duck)
    return remote


def test_the_sys_views_serverless_reads_give_the_same_rejects(standin: Standin, sample: Path, tmp_path: Path) -> None:
    """sys_load_error_detail has no raw_line: the rejected lines' text is read back from the
    objects, and is exactly what DuckDB keeps (multi-byte text, a backslash, bytes not UTF-8, CRLF)."""
    odd = "not JSON: café \\ 'q' ".encode() + b"\xff\r"
    _same_as_duckdb(standin, sample, tmp_path, "sys", {"day.json": _one_day(sample, BAD_EVENTS[0], odd)},
                    "--max-errors", "2", errors="sys")
    first = _one_day(sample).count(b"\n") + 1
    rejects = standin.rows("SELECT file, line, raw_text FROM staging.load_errors ORDER BY line")
    assert [(line, text) for _, line, text in rejects] == [(first, "this line is not JSON"),
                                                          (first + 1, "not JSON: café \\ 'q' \\xff")]
    assert {file for file, _, _ in rejects} == {f"s3://{DATA}/sys/day.json"}
    with duckdb.connect(str(tmp_path / "sys.duckdb"), read_only=True) as con:
        assert con.execute("SELECT line, raw_text FROM staging.load_errors ORDER BY line").fetchall() == \
            [(line, text) for _, line, text in rejects]
    standin.assert_accepted()


def test_a_user_id_that_is_not_a_number_is_rejected_not_fatal(standin: Standin, sample: Path, tmp_path: Path) -> None:
    odd = json.dumps({"page": "NextSong", "userId": "x39", "sessionId": 5, "itemInSession": 9, "ts": 1541405830796,
                      "level": "free", "song": "x", "artist": "y"}).encode()
    _same_as_duckdb(standin, sample, tmp_path, "userid", {"day.json": _one_day(sample, odd)}, "--max-errors", "1")
    standin.assert_accepted()


@pytest.mark.parametrize("view", ["stl", "sys"])
def test_a_failed_load_keeps_the_rejects_the_tool_found_itself(standin: Standin, sample: Path, view: str) -> None:
    """A userId that is no id is rejected by the tool, not by COPY: no system view has it, so the
    failed load's rollback would take it away; it is kept, as DuckDB and PostgreSQL keep it. COPY's
    rejects are copied back from the system views after the rollback (on SYS, their text from S3)."""
    odd = json.dumps({"page": "NextSong", "userId": "x39", "sessionId": 5, "itemInSession": 9, "ts": 1541405830796,
                      "level": "free", "song": "x", "artist": "y"}).encode()
    logs = _upload_logs(standin.s3_endpoint, "kept", {"day.json": _one_day(sample, BAD_EVENTS[0], odd)})
    failed = etl(standin.url(iam_role=ROLE, staging=STAGING, errors=view), "--max-errors", "1", songs=None, logs=logs)
    assert failed.exit_code == 1, failed.output
    assert "rejected 2 record(s), more than --max-errors 1" in failed.output
    assert standin.rows("SELECT load_id, status FROM staging.loads") == [(1, "failed")]
    assert standin.rows('SELECT "column", reason, raw_text FROM staging.load_errors ORDER BY "column" NULLS FIRST') == [
        (None, "Invalid JSON: Expecting value", "this line is not JSON"),
        ("userId", "userId: expected a string of digits, got x39", None)]
    assert standin.rows("SELECT count(*) FROM staging.staging_events") == [(0,)]
    standin.assert_accepted()


def test_text_with_backslashes_and_mojibake_is_repaired_alike(standin: Standin, sample: Path, tmp_path: Path) -> None:
    """A mangled name with a backslash: its repair is inserted with parameters (psycopg would write E'')."""
    mangled = "Björk \\ Sigur Rós".encode().decode("latin-1")
    play = json.dumps({"page": "NextSong", "userId": "39", "sessionId": 5, "itemInSession": 9, "ts": 1541405830796,
                       "level": "free", "song": "Jóga \\ live", "artist": mangled, "firstName": "Zo\\ë",
                       "location": mangled}).encode()
    _same_as_duckdb(standin, sample, tmp_path, "backslash", {"day.json": _one_day(sample, play)})
    standin.assert_accepted()
