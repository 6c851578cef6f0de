"""One contract, every backend: DuckDB, PostgreSQL and Redshift must build identical warehouses.

Every scenario runs the real CLI against a DuckDB file, a fresh PostgreSQL database, and a second
PostgreSQL database whose star schema is built by the Redshift spelling of the models (MERGE,
`TIMESTAMP 'epoch'` arithmetic, no planner hints: sparkify.warehouse.dialects), then compares
every star table and the staging bookkeeping row for row. (Redshift stages with COPY from S3,
which PostgreSQL cannot run, so that third warehouse stages as PostgreSQL does.)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from sparkify.errors import SparkifyError
from sparkify.warehouse import connect
from sparkify.warehouse.postgres import PostgresWarehouse
from tests.conftest import run_cli
from tests.oddities import event, write_late_songs, write_oddities
from tests.pg import fresh_database

#: Table → columns compared (timestamps of when a load ran are left out: they differ by nature).
TABLES: dict[str, str] = {
    "analytics.songplays": "*",
    "analytics.page_views": "*",
    "analytics.users": "*",
    "analytics.users_current": "*",
    "analytics.songs": "*",
    "analytics.artists": "*",
    'analytics."time"': "*",
    "staging.staging_events": "*",
    "staging.staging_songs": "*",
    "staging.load_errors": "*",
    "staging.loaded_files": "path, source, size, modified, checksum, load_id, records, rows, rejected",
    "staging.loads": "load_id, status, files, records, staged, rejected",
    "staging.load_sources": "*",
    "staging.text_repairs": "*",
}


def _key(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((v is None, "" if v is None else v) for v in row)


def dump(url: str) -> dict[str, Any]:
    """Every compared table's rows, sorted; a table the backend lacks is recorded as missing."""
    tables: dict[str, Any] = {}
    with connect(url, read_only=True) as wh:
        for table, columns in TABLES.items():
            try:
                result = wh.query(f"SELECT {columns} FROM {table}")
            except SparkifyError:
                tables[table] = "missing"
                continue
            tables[table] = (result.columns, sorted(result.rows, key=_key))
    return tables


@pytest.fixture
def warehouses(tmp_path: Path) -> Iterator[dict[str, str]]:
    """An empty DuckDB file, an empty PostgreSQL database, and one for the Redshift models."""
    with fresh_database("sparkify_contract") as pg, fresh_database("sparkify_contract_rs") as rs:
        yield {"duckdb": str(tmp_path / "contract.duckdb"), "postgresql": pg, "redshift": rs}


def run_redshift_models() -> ExitStack:
    """While open, PostgreSQL warehouses build the star with the Redshift models."""
    stack = ExitStack()
    patch = stack.enter_context(pytest.MonkeyPatch.context())
    patch.setattr(PostgresWarehouse, "model_dialect", "redshift")
    return stack


def run_both(warehouses: dict[str, str], *args: str) -> dict[str, Any]:
    """The same command against every warehouse; all must end alike."""
    results = {}
    for kind, url in warehouses.items():
        with run_redshift_models() if kind == "redshift" else ExitStack():
            results[kind] = run_cli(*args, "--warehouse", url)
    codes = {kind: r.exit_code for kind, r in results.items()}
    assert len(set(codes.values())) == 1, {kind: (r.exit_code, r.output) for kind, r in results.items()}
    return results


def assert_same(warehouses: dict[str, str]) -> dict[str, Any]:
    duck = dump(warehouses["duckdb"])
    for kind in ("postgresql", "redshift"):
        if kind in warehouses:
            other = dump(warehouses[kind])
            for table in TABLES:
                assert other[table] == duck[table], f"{table} differs between {kind} and DuckDB"
    return duck


def test_real_sample_is_identical(sample: Path, warehouses: dict[str, str]) -> None:
    results = run_both(warehouses, "etl", "--songs", str(sample / "song_data"), "--logs", str(sample / "log_data"))
    assert results["duckdb"].exit_code == 0, results["duckdb"].output
    tables = assert_same(warehouses)
    assert len(tables["analytics.songplays"][1]) == 6820
    assert len(tables["analytics.users"][1]) == 106
    assert len(tables['analytics."time"'][1]) == 6813
    # Running again changes nothing, on both.
    again = run_both(warehouses, "etl", "--songs", str(sample / "song_data"), "--logs", str(sample / "log_data"))
    assert all("Nothing new" in r.output for r in again.values())
    assert_same(warehouses)


def test_odd_dataset_and_incremental_loads_are_identical(tmp_path: Path, warehouses: dict[str, str]) -> None:
    songs, logs = write_oddities(tmp_path / "data")
    first = run_both(warehouses, "etl", "--songs", str(songs), "--logs", str(logs), "--max-errors", "100")
    assert first["duckdb"].exit_code == 0, first["duckdb"].output
    tables = assert_same(warehouses)
    assert tables["staging.load_errors"][1], "the odd dataset must produce rejects"
    assert any(row[3] for row in tables["analytics.songplays"][1] if row[4] is not None)

    # A changed log file, a new one, and songs that arrive after their plays.
    (logs / "2018" / "day3.json").write_text(
        "\n".join(__import__("json").dumps(e) for e in [
            event(page="NextSong", artist="Later", song="Late", length=10.0, itemInSession=7, ts=1541105830796 + 90_000_000),
        ])
    )
    run_both(warehouses, "etl", "--logs", str(logs), "--max-errors", "100")
    assert_same(warehouses)
    write_late_songs(songs)
    run_both(warehouses, "etl", "--songs", str(songs), "--max-errors", "100")
    tables = assert_same(warehouses)
    assert any(row[4] == "SOH" for row in tables["analytics.songplays"][1])
    # Removing events removes their plays.
    (logs / "2018" / "day2.json").write_text("")
    run_both(warehouses, "etl", "--logs", str(logs), "--max-errors", "100")
    assert_same(warehouses)


def test_failed_load_keeps_its_record_and_rejects(tmp_path: Path, warehouses: dict[str, str]) -> None:
    songs, logs = write_oddities(tmp_path / "data")
    results = run_both(warehouses, "etl", "--songs", str(songs), "--logs", str(logs))
    assert results["duckdb"].exit_code == 1
    tables = assert_same(warehouses)
    assert [row[1] for row in tables["staging.loads"][1]] == ["failed"]
    assert tables["staging.load_errors"][1]
    assert tables["analytics.songplays"][1] == []
    assert tables["staging.staging_events"][1] == []


@pytest.mark.parametrize("kind", ["duckdb", "postgresql"])
def test_status_sql_and_create_tables_work_the_same(kind: str, sample: Path, warehouses: dict[str, str]) -> None:
    url = warehouses[kind]
    missing = run_cli("status", "--warehouse", url)
    assert missing.exit_code != 0 and "sparkify create-tables" in missing.output
    assert run_cli("create-tables", "--warehouse", url, "--yes").exit_code == 0
    load = run_cli("etl", "--songs", str(sample / "song_data"), "--logs", str(sample / "log_data"), "--warehouse", url)
    assert load.exit_code == 0, load.output
    status = run_cli("status", "--warehouse", url)
    assert status.exit_code == 0, status.output
    assert "6820" in status.output
    query = run_cli("sql", "SELECT level, count(*) AS n FROM songplays GROUP BY level ORDER BY level",
                    "--format", "csv", "--warehouse", url)
    assert query.exit_code == 0, query.output
    assert query.output.splitlines()[1:] == ["free,1229", "paid,5591"]
    bad = run_cli("sql", "SELECT nope FROM songplays", "--warehouse", url)
    assert bad.exit_code != 0 and "Traceback" not in bad.output
    # `sql` is read-only on both backends.
    assert run_cli("sql", "DELETE FROM songplays", "--warehouse", url).exit_code != 0
    assert run_cli("create-tables", "--warehouse", url, "--yes").exit_code == 0
    assert dump(url)["analytics.songplays"][1] == []


def test_generated_dataset_is_identical(tmp_path: Path, warehouses: dict[str, str]) -> None:
    generate_module = pytest.importorskip("sparkify.generate")
    out = tmp_path / "generated"
    generate_module.generate(out, songs=300, users=60, days=5, seed=7)
    results = run_both(warehouses, "etl", "--songs", str(out / "song_data"), "--logs", str(out / "log_data"),
                       "--max-errors", "1000000")
    assert results["duckdb"].exit_code in (0, 1), results["duckdb"].output
    tables = assert_same(warehouses)
    assert len(tables["analytics.songplays"][1]) > 100
    assert any(row[4] is not None for row in tables["analytics.songplays"][1])


def test_nul_characters_in_text_are_rejected_alike(tmp_path: Path, warehouses: dict[str, str]) -> None:
    """PostgreSQL text cannot hold NUL, so the shared parser rejects it for every backend."""
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "nul.json").write_text(
        '{"page":"NextSong","userId":"5","ts":1541105830796,"sessionId":1,"itemInSession":0,"song":"a\\u0000b"}\n'
        '{"page":"NextSong","userId":"99999999999999999999","ts":1541105830796,"sessionId":1,"itemInSession":1}\n'
        '{"page":"NextSong","userId":"5","ts":1541105830796,"sessionId":1,"itemInSession":2,"song":"fine"}\n'
    )
    run_both(warehouses, "etl", "--logs", str(logs), "--max-errors", "10", "--no-check")
    assert_same(warehouses)
    for url in warehouses.values():
        result = run_cli("errors", "-w", url, "--all")
        assert "song: text contains a NUL character" in result.output
        assert "userId: expected a string of digits" in result.output
