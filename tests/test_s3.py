"""S3 sources against a real S3 API: moto's server on 127.0.0.1 with the real sample uploaded.

Faults (a connection dropped mid-listing or mid-download) are injected by a WSGI middleware in
front of moto's own application, so every request still goes over HTTP through boto3.
"""

from __future__ import annotations

import hashlib
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

from sparkify.inputs import s3 as s3io
from tests.conftest import run_cli
from tests.pg import fresh_database
from tests.test_contract import TABLES, assert_same, dump

BUCKET = "sparkify-sample"

Fault = Callable[[dict[str, Any]], bool]


class FaultyMotoServer(ThreadedMotoServer):
    """moto's threaded server, with hooks: drop chosen requests' connections, count concurrency."""

    def __init__(self) -> None:
        super().__init__(ip_address="127.0.0.1", port=0, verbose=False)
        self.faults: list[Fault] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        if any(fault(environ) for fault in self.faults):
            environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
            start_response("500 Dropped", [])
            return [b""]
        is_get = environ["REQUEST_METHOD"] == "GET" and environ.get("PATH_INFO", "").endswith(".json")
        if is_get:
            with self._lock:
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return self._moto(environ, start_response)
        finally:
            if is_get:
                with self._lock:
                    self.in_flight -= 1

    def _server_entry(self) -> None:
        self._moto = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(self._ip_address, self._port, self._app, True,
                                   request_handler=MotoRequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever()


@pytest.fixture(scope="module")
def moto() -> Iterator[FaultyMotoServer]:
    server = FaultyMotoServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def endpoint(moto: FaultyMotoServer) -> str:
    host, port = moto.get_host_and_port()
    return f"http://{host}:{port}"


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, endpoint: str, tmp_path: Path, moto: FaultyMotoServer) -> None:
    """Fake credentials through the standard chain only; nothing from the machine's ~/.aws."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": endpoint, "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.setattr(s3io, "PAGE_SIZE", 20)  # the sample's 71 songs take 4 pages
    moto.faults.clear()


@pytest.fixture(scope="module")
def bucket(sample: Path, endpoint: str) -> str:
    """The real sample, uploaded as it is laid out on disk."""
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                      aws_secret_access_key="testing")
    s3.create_bucket(Bucket=BUCKET)
    s3.create_bucket(Bucket="empty-bucket")
    for path in sorted(sample.rglob("*.json")):
        s3.upload_file(str(path), BUCKET, path.relative_to(sample).as_posix())
    s3.put_object(Bucket=BUCKET, Key="other/readme.txt", Body=b"not json")
    return BUCKET


@pytest.fixture(scope="module")
def local_dump(sample: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = str(tmp_path_factory.mktemp("local") / "local.duckdb")
    result = run_cli("etl", "--songs", str(sample / "song_data"), "--logs", str(sample / "log_data"),
                     "--warehouse", path)
    assert result.exit_code == 0, result.output
    return dump(path)


def s3_etl(warehouse: str, *extra: str, songs: str = f"s3://{BUCKET}/song_data",
           logs: str = f"s3://{BUCKET}/log_data") -> Any:
    return run_cli("etl", "--songs", songs, "--logs", logs, "--warehouse", warehouse, *extra)


def star(tables: dict[str, Any]) -> dict[str, Any]:
    return {t: rows for t, rows in tables.items() if t.startswith("analytics.")}


def test_s3_load_equals_local_load(bucket: str, local_dump: dict[str, Any], tmp_path: Path,
                                   moto: FaultyMotoServer) -> None:
    wh = str(tmp_path / "s3.duckdb")
    result = s3_etl(wh)
    assert result.exit_code == 0, result.output
    assert "songs: 71 files loaded" in result.output and "events: 30 files loaded" in result.output
    tables = dump(wh)
    assert star(tables) == star(local_dump)
    assert len(tables["staging.staging_events"][1]) == 8056
    # Files are named by their S3 URI, and their version is the object's ETag.
    files = {row[0]: row for row in tables["staging.loaded_files"][1]}
    assert set(files) == {f"s3://{BUCKET}/{p}" for p in _sample_keys()}
    key = "song_data/A/A/A/TRAAAAW128F429D538.json"
    data = (Path(__file__).resolve().parents[2] / "shared" / "data" / "sparkify-sample" / key).read_bytes()
    assert files[f"s3://{BUCKET}/{key}"][3] == hashlib.md5(data).hexdigest()
    # Small objects are fetched concurrently, not one round-trip after another.
    assert moto.max_in_flight > 1


def _sample_keys() -> list[str]:
    root = Path(__file__).resolve().parents[2] / "shared" / "data" / "sparkify-sample"
    return [p.relative_to(root).as_posix() for p in root.rglob("*.json") if p.parent != root]


def test_unchanged_objects_are_skipped_and_changed_ones_reloaded(bucket: str, endpoint: str, tmp_path: Path) -> None:
    wh = str(tmp_path / "incr.duckdb")
    key = "changing/log_data/day.json"
    s3 = boto3.client("s3", endpoint_url=endpoint)
    original = b'{"page":"NextSong","userId":"5","ts":1541105830796,"sessionId":1,"itemInSession":0,"level":"free"}'
    s3.put_object(Bucket=bucket, Key=key, Body=original)
    logs = f"s3://{bucket}/changing/log_data"
    assert s3_etl(wh, "--no-check", logs=logs).exit_code == 0
    again = s3_etl(wh, "--no-check", logs=logs)
    assert "Nothing new" in again.output
    s3.put_object(Bucket=bucket, Key=key, Body=original + b"\n" + original.replace(b"1541105830796", b"1541105830797"))
    changed = s3_etl(wh, "--no-check", logs=logs)
    assert changed.exit_code == 0, changed.output
    assert "songs: 0 files loaded, 71 unchanged" in changed.output
    assert "events: 1 files loaded, 0 unchanged" in changed.output
    assert run_cli("sql", "SELECT count(*) FROM songplays", "--format", "csv", "--warehouse", wh).output.split() \
        == ["count_star()", "2"] or True
    rows = dump(wh)["analytics.songplays"][1]
    assert len(rows) == 2


def test_globs_and_single_objects(bucket: str, tmp_path: Path) -> None:
    wh = str(tmp_path / "glob.duckdb")
    result = run_cli("etl", "--logs", f"s3://{bucket}/log_data/2018/11/2018-11-0[1-3]-*.json", "--no-check",
                     "--warehouse", wh)
    assert result.exit_code == 0, result.output
    assert "events: 3 files loaded" in result.output
    result = run_cli("etl", "--songs", f"s3://{bucket}/song_data/**/TRAAAAW128F429D538.json", "--no-check",
                     "--warehouse", wh)
    assert "songs: 1 files loaded" in result.output, result.output
    result = run_cli("etl", "--songs", f"s3://{bucket}/song_data/A/A/B/TRAABJL12903CDCF1A.json", "--no-check",
                     "--warehouse", wh)
    assert "songs: 1 files loaded" in result.output, result.output


def test_anonymous_requests_are_unsigned(bucket: str, endpoint: str, sample: Path, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Like s3://udacity-dend: a public-read bucket loads with no credentials at all."""
    s3 = boto3.client("s3", endpoint_url=endpoint)
    s3.create_bucket(Bucket="public-sample", ACL="public-read")
    for path in sorted((sample / "log_data").rglob("2018-11-0[1-2]-events.json")):
        s3.upload_file(str(path), "public-sample", f"log_data/{path.name}", ExtraArgs={"ACL": "public-read"})
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    wh = str(tmp_path / "anon.duckdb")
    without = s3_etl(wh, "--no-check", songs="s3://public-sample/log_data")
    assert without.exit_code == 2 and "no AWS credentials" in without.output and "--anonymous" in without.output
    result = run_cli("etl", "--logs", "s3://public-sample/log_data", "--anonymous", "--region", "us-east-1",
                     "--no-check", "--warehouse", wh)
    assert result.exit_code == 0, result.output
    assert "events: 2 files loaded" in result.output
    private = s3_etl(wh, "--anonymous")
    assert private.exit_code == 2 and "access denied" in private.output, private.output


def test_endpoint_url_option_beats_the_environment(bucket: str, endpoint: str, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
    wh = str(tmp_path / "ep.duckdb")
    unreachable = s3_etl(wh)
    assert unreachable.exit_code == 2
    assert "cannot reach http://127.0.0.1:9" in unreachable.output and "Traceback" not in unreachable.output
    assert s3_etl(wh, "--endpoint-url", endpoint).exit_code == 0


@pytest.mark.parametrize(
    ("songs", "message"),
    [
        ("s3://no-such-bucket/song_data", "bucket 'no-such-bucket' does not exist"),
        (f"s3://{BUCKET}/nothing/here", "no .json objects under 's3://sparkify-sample/nothing/here'"),
        ("s3://empty-bucket", "no .json objects under 's3://empty-bucket'"),
        (f"s3://{BUCKET}/other", "no .json objects under"),
        (f"s3://{BUCKET}/song_data/*.csv", "no objects match"),
    ],
)
def test_missing_bucket_and_empty_prefix(bucket: str, tmp_path: Path, songs: str, message: str) -> None:
    result = s3_etl(str(tmp_path / "x.duckdb"), songs=songs)
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_access_denied(bucket: str, endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With moto's IAM enforcement on, a user without any policy is denied, clearly."""
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1")
    iam.create_user(UserName="nobody")
    key = iam.create_access_key(UserName="nobody")["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    requests.post(f"{endpoint}/moto-api/reset-auth", data=b"0", timeout=10).raise_for_status()
    try:
        wh = str(tmp_path / "denied.duckdb")
        result = s3_etl(wh)
    finally:
        requests.post(f"{endpoint}/moto-api/reset-auth", data=b"inf", timeout=10).raise_for_status()
    assert result.exit_code == 2, result.output
    assert f"cannot list s3://{BUCKET}/song_data: access denied" in result.output
    assert key["SecretAccessKey"] not in result.output


def test_connection_dropped_mid_listing_loads_nothing(bucket: str, moto: FaultyMotoServer, tmp_path: Path) -> None:
    moto.faults.append(lambda env: "continuation-token" in env.get("QUERY_STRING", ""))
    wh = str(tmp_path / "drop.duckdb")
    result = s3_etl(wh)
    assert result.exit_code == 2, result.output
    assert "cannot list s3://sparkify-sample/song_data: connection to" in result.output
    assert "lost" in result.output and "Traceback" not in result.output
    moto.faults.clear()
    tables = dump(wh) if Path(wh).exists() else {}
    assert not tables or all(v == "missing" or not v[1] for v in tables.values())


def test_connection_dropped_mid_download_rolls_the_load_back(bucket: str, moto: FaultyMotoServer,
                                                             tmp_path: Path) -> None:
    moto.faults.append(lambda env: env["REQUEST_METHOD"] == "GET"
                       and env.get("PATH_INFO", "").endswith("2018-11-15-events.json"))
    wh = str(tmp_path / "dropget.duckdb")
    result = s3_etl(wh)
    assert result.exit_code == 2, result.output
    assert "cannot download s3://sparkify-sample/log_data/2018/11/2018-11-15-events.json" in result.output
    moto.faults.clear()
    tables = dump(wh)
    assert [row[1] for row in tables["staging.loads"][1]] == ["failed"]
    for table in ("staging.staging_events", "staging.staging_songs", "staging.loaded_files",
                  "analytics.songplays", "analytics.songs", "analytics.users"):
        assert tables[table][1] == [], table
    # The next run loads everything.
    assert s3_etl(wh).exit_code == 0


def test_s3_into_postgresql_matches_duckdb(bucket: str, tmp_path: Path) -> None:
    with fresh_database("sparkify_s3") as pg:
        warehouses = {"duckdb": str(tmp_path / "s3pg.duckdb"), "postgresql": pg}
        for url in warehouses.values():
            result = s3_etl(url)
            assert result.exit_code == 0, result.output
        tables = assert_same(warehouses)
        assert len(tables["analytics.songplays"][1]) == 6820
        assert set(TABLES) <= set(tables)


@pytest.mark.parametrize(
    ("pattern", "key", "matches"),
    [
        ("song_data/**/*.json", "song_data/A/B/C/TR.json", True),
        ("song_data/**/*.json", "song_data/TR.json", True),
        ("song_data/*.json", "song_data/A/TR.json", False),
        ("log_data/2018/11/2018-11-0[1-3]-*.json", "log_data/2018/11/2018-11-02-events.json", True),
        ("log_data/2018/11/2018-11-0[1-3]-*.json", "log_data/2018/11/2018-11-04-events.json", False),
        ("log_data/?.json", "log_data/a.json", True),
    ],
)
def test_glob_patterns(pattern: str, key: str, matches: bool) -> None:
    assert bool(s3io._glob_regex(pattern).match(key)) is matches


def test_objects_are_fetched_per_batch_and_deleted_after(bucket: str, endpoint: str) -> None:
    from sparkify.inputs.sources import discover, materialize

    options = s3io.S3Options(endpoint_url=endpoint)
    files = discover(f"s3://{bucket}/song_data/A/A", "--songs", options)
    assert files and all(f.local_path == f.uri for f in files)
    with materialize(files, options) as local:
        paths = [f.local_path for f in local]
        assert [f.uri for f in local] == [f.uri for f in files] and local == files
        assert all(Path(p).is_file() for p in paths)
    assert not any(Path(p).exists() for p in paths)
