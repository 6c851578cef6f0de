"""`sparkify export`: the star schema as Hive-partitioned Parquet, read back with DuckDB.

Real warehouses (DuckDB files, a real PostgreSQL), the real CLI, and moto's S3 server on loopback.
"""

from __future__ import annotations

import datetime
import json
import shutil
from pathlib import Path
from typing import Any

import boto3
import duckdb
import pytest

from sparkify.generate import generate
from sparkify.pipeline.export import MANIFEST
from tests.conftest import run_cli
from tests.pg import fresh_database
from tests.test_s3 import endpoint, moto  # noqa: F401  (moto's server on 127.0.0.1)

STAR = ("songplays", "users", "songs", "artists", "time", "page_views")
#: The columns that live in folder names, not in the files.
PARTITIONED = {"songplays": ("year", "month"), "time": ("year", "month"), "songs": ("year", "artist_id")}


def etl(warehouse: str, songs: Path, logs: Path, *extra: str) -> None:
    result = run_cli("etl", "--songs", str(songs), "--logs", str(logs), "--warehouse", warehouse, "--quiet", *extra)
    assert result.exit_code == 0, result.output


def export(warehouse: str, target: str, *extra: str) -> dict[str, dict[str, int]]:
    result = run_cli("export", "--to", target, "--warehouse", warehouse, "--format", "json", *extra)
    assert result.exit_code == 0, result.output
    return {t["table"]: t for t in json.loads(result.output)["tables"]}


def warehouse_rows(warehouse: str, table: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(warehouse, read_only=True) as con:
        select = "*, year(start_time), month(start_time)" if table in ("songplays", "page_views") else "*"
        return sorted(con.execute(f'SELECT {select} FROM analytics."{table}"').fetchall(), key=repr)


def lake_rows(root: Path, table: str, columns: list[str]) -> list[tuple[Any, ...]]:
    """A table read back from the lake as Spark or Athena would: Hive partitions from folder names."""
    names = ", ".join(f'"{c}"' for c in columns)
    with duckdb.connect() as con:
        rows = con.execute(
            f"SELECT {names} FROM read_parquet('{root / table}/**/*.parquet', hive_partitioning = true, "
            "hive_types_autocast = false)"
        ).fetchall()
    return sorted(rows, key=repr)


def columns_of(warehouse: str, table: str) -> list[str]:
    with duckdb.connect(warehouse, read_only=True) as con:
        return [r[0] for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'analytics' AND table_name = ? "
            "ORDER BY column_index", [table]).fetchall()]


def normalise(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Partition values come back as text (hive_types_autocast off): compare everything as text."""
    return sorted((tuple(None if v is None else str(v) for v in row) for row in rows), key=repr)


def assert_lake_equals_warehouse(root: Path, warehouse: str) -> None:
    for table in STAR:
        columns = columns_of(warehouse, table) + (["year", "month"] if table in ("songplays", "page_views") else [])
        assert normalise(lake_rows(root, table, columns)) == normalise(warehouse_rows(warehouse, table)), table


def test_layout_and_contents_on_the_real_sample(sample_warehouse: str, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    summary = export(sample_warehouse, str(lake))
    assert (lake / "songplays" / "year=2018" / "month=11" / "data.parquet").is_file()
    assert (lake / "time" / "year=2018" / "month=11" / "data.parquet").is_file()
    assert (lake / "users" / "data.parquet").is_file() and (lake / "artists" / "data.parquet").is_file()
    song_parts = list((lake / "songs").glob("year=*/artist_id=*/data.parquet"))
    assert song_parts and (lake / "songs" / "year=__HIVE_DEFAULT_PARTITION__").is_dir()  # songs of unknown year
    assert summary["songplays"]["rows"] == 6820 and summary["songs"]["rows"] == 71
    assert_lake_equals_warehouse(lake, sample_warehouse)
    # partition columns live in the folder names only, as Hive lays them out
    with duckdb.connect() as con:
        inside = [r[0] for r in con.execute(
            f"DESCRIBE SELECT * FROM read_parquet('{lake}/time/year=2018/month=11/data.parquet', hive_partitioning = false)").fetchall()]
    assert "year" not in inside and "month" not in inside and "hour" in inside
    assert not list(lake.rglob("*.tmp")), "no temporary file is left behind"


def test_a_second_export_writes_nothing(sample_warehouse: str, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    export(sample_warehouse, str(lake))
    before = {p: p.stat().st_mtime_ns for p in lake.rglob("data.parquet")}
    again = export(sample_warehouse, str(lake))
    assert all(t["written"] == 0 and t["removed"] == 0 for t in again.values()), again
    assert {p: p.stat().st_mtime_ns for p in lake.rglob("data.parquet")} == before


@pytest.fixture(scope="module")
def two_months(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated data from 2018-11-25 over 10 days: plays in November and in December."""
    root = tmp_path_factory.mktemp("two-months")
    generate(root, songs=200, users=40, days=10, seed=3, start=datetime.datetime(2018, 11, 25))
    return root


def test_only_partitions_touched_by_a_new_load_are_written(two_months: Path, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    shutil.copytree(two_months / "log_data", logs)
    held_back = tmp_path / "december"
    shutil.move(logs / "2018" / "12", held_back)
    warehouse = str(tmp_path / "w.duckdb")
    lake = tmp_path / "lake"
    etl(warehouse, two_months / "song_data", logs)
    first = export(warehouse, str(lake))
    assert first["songplays"]["written"] == 1  # November only
    november = lake / "songplays" / "year=2018" / "month=11" / "data.parquet"
    stamp = november.stat().st_mtime_ns
    shutil.move(held_back, logs / "2018" / "12")  # December's files arrive
    etl(warehouse, two_months / "song_data", logs)
    second = export(warehouse, str(lake))
    assert second["songplays"]["written"] == 1 and second["songplays"]["unchanged"] == 1  # December only
    assert second["time"]["written"] == 1 and second["songs"]["written"] == 0
    assert november.stat().st_mtime_ns == stamp
    assert_lake_equals_warehouse(lake, warehouse)


def test_an_interrupted_export_is_finished_by_the_next(two_months: Path, tmp_path: Path) -> None:
    """The manifest is written last: an export that died before it leaves the old one, and the
    next export rewrites what differs from it."""
    warehouse, lake = str(tmp_path / "w.duckdb"), tmp_path / "lake"
    etl(warehouse, two_months / "song_data", two_months / "log_data")
    export(warehouse, str(lake))
    stale = (lake / MANIFEST).read_text()
    with duckdb.connect(warehouse) as con:
        con.execute("UPDATE analytics.users SET gender = 'X' WHERE user_id = (SELECT min(user_id) FROM analytics.users)")
    export(warehouse, str(lake))
    (lake / MANIFEST).write_text(stale)  # as if the second export had died before its manifest
    third = export(warehouse, str(lake))
    assert third["users"]["written"] == 1
    assert_lake_equals_warehouse(lake, warehouse)


def test_partitions_that_are_gone_are_removed(sample_warehouse: str, tmp_path: Path) -> None:
    warehouse = str(tmp_path / "copy.duckdb")
    shutil.copyfile(sample_warehouse, warehouse)
    lake = tmp_path / "lake"
    export(warehouse, str(lake))
    with duckdb.connect(warehouse) as con:
        artist, year = con.execute(
            "SELECT artist_id, year FROM analytics.songs WHERE year IS NOT NULL AND song_id NOT IN "
            "(SELECT song_id FROM analytics.songplays WHERE song_id IS NOT NULL) ORDER BY 1 LIMIT 1").fetchall()[0]
        con.execute("DELETE FROM analytics.songs WHERE artist_id = ? AND year = ?", [artist, year])
    after = export(warehouse, str(lake))
    assert after["songs"]["removed"] == 1
    assert not (lake / "songs" / f"year={year}" / f"artist_id={artist}").exists()
    assert_lake_equals_warehouse(lake, warehouse)


def test_postgresql_exports_the_same_lake(sample: Path, sample_warehouse: str, tmp_path: Path) -> None:
    with fresh_database() as url:
        etl(url, sample / "song_data", sample / "log_data")
        export(url, str(tmp_path / "pg"))
    export(sample_warehouse, str(tmp_path / "duck"))
    for table in STAR:
        columns = columns_of(sample_warehouse, table) + (["year", "month"] if table in ("songplays", "page_views") else [])
        assert lake_rows(tmp_path / "pg", table, columns) == lake_rows(tmp_path / "duck", table, columns), table


def test_export_to_s3(sample_warehouse: str, endpoint: str, tmp_path: Path,  # noqa: F811
                      monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": str(tmp_path / "none"),
                        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}.items():
        monkeypatch.setenv(name, value)
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket="lake")
    first = export(sample_warehouse, "s3://lake/sparkify", "--endpoint-url", endpoint)
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="lake", Prefix="sparkify/")["Contents"]}
    assert "sparkify/songplays/year=2018/month=11/data.parquet" in keys and f"sparkify/{MANIFEST}" in keys
    assert len(keys) == 1 + sum(t["written"] for t in first.values())
    local = tmp_path / "downloaded"
    for key in keys:
        target = local / key.removeprefix("sparkify/")
        target.parent.mkdir(parents=True, exist_ok=True)
        s3.download_file("lake", key, str(target))
    assert_lake_equals_warehouse(local, sample_warehouse)
    again = export(sample_warehouse, "s3://lake/sparkify", "--endpoint-url", endpoint)
    assert all(t["written"] == 0 for t in again.values())


def test_export_errors_are_one_line(sample_warehouse: str, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = run_cli("export", "--to", str(blocker / "lake"), "--warehouse", sample_warehouse)
    assert result.exit_code == 2 and result.output.startswith("Error: cannot write to "), result.output
    missing = run_cli("export", "--to", str(tmp_path / "lake"), "--warehouse", str(tmp_path / "none.duckdb"))
    assert missing.exit_code == 2 and "no warehouse" in missing.output
