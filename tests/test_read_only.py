"""Read commands never write (issue 17 item 3): the issue's attacks through `sql` and `check`, on
PostgreSQL (any role, the loader's own included) and DuckDB; `sql --write` is the one way to write."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import duckdb
import psycopg
import pytest

from sparkify.warehouse.readonly import split_script
from tests.conftest import run_cli
from tests.pg import loaded_database

#: Each tries to empty analytics.users from a read command.
ATTACKS = [
    "BEGIN READ WRITE; DELETE FROM analytics.users; COMMIT; SELECT 1",
    "COMMIT; BEGIN READ WRITE; DELETE FROM analytics.users; COMMIT",
    "SET default_transaction_read_only = off; DELETE FROM analytics.users",
    "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE; DELETE FROM analytics.users",
    "SET TRANSACTION READ WRITE; DELETE FROM analytics.users",
    "SELECT set_config('default_transaction_read_only', 'off', false); DELETE FROM analytics.users",
    "SELECT 1; DELETE FROM analytics.users",
    "/* ; */ DELETE FROM analytics.users",
    "SELECT $$;$$; DELETE FROM analytics.users",
    "SELECT ';'; DELETE FROM analytics.users -- ;",
    "DO $$ BEGIN DELETE FROM analytics.users; END $$",
    "WITH gone AS (DELETE FROM analytics.users RETURNING 1) SELECT count(*) FROM gone",
    "END; DELETE FROM analytics.users",
    "ROLLBACK; START TRANSACTION READ WRITE; DELETE FROM analytics.users; COMMIT",
    "SAVEPOINT s; RELEASE s; DELETE FROM analytics.users",
    "CREATE TABLE analytics.mine AS SELECT 1 AS x",
    "SET ROLE postgres; DELETE FROM analytics.users",
]


@pytest.fixture(scope="module")
def loaded(sample: Path) -> Iterator[str]:
    with loaded_database(sample, "sparkify_readonly") as url:
        yield url


def users(url: str) -> int:
    with psycopg.connect(url) as con:
        return con.execute("SELECT count(*) FROM analytics.users").fetchone()[0]  # type: ignore[index]


@pytest.mark.parametrize("attack", ATTACKS)
def test_sql_cannot_write_on_postgresql(loaded: str, attack: str) -> None:
    before = users(loaded)
    result = run_cli("sql", attack, "--warehouse", loaded)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.output.startswith("Error: ")  # the database's whole message
    assert users(loaded) == before > 0
    with psycopg.connect(loaded) as con:
        assert con.execute("SELECT to_regclass('analytics.mine')").fetchone() == (None,)


@pytest.mark.parametrize("attack", ATTACKS[:6])
def test_a_checks_file_cannot_write_on_postgresql(loaded: str, attack: str, tmp_path: Path) -> None:
    """One statement per check; and checks run one after the other in one session cannot team up."""
    before = users(loaded)
    checks = tmp_path / "checks.sql"
    checks.write_text(f"-- check: sneaky\n{attack};\n", encoding="utf-8")
    refused = run_cli("check", "--no-builtin", "--checks-file", str(checks), "--warehouse", loaded)
    assert refused.exit_code == 2 and "holds more than one statement" in refused.output
    teamed = tmp_path / "teamed.sql"
    teamed.write_text("".join(f"-- check: part{i}\n{part};\n" for i, part in enumerate(split_script(attack))),
                      encoding="utf-8")
    result = run_cli("check", "--no-builtin", "--checks-file", str(teamed), "--warehouse", loaded)
    assert "Traceback" not in result.output
    assert users(loaded) == before > 0


def test_sql_write_is_the_one_way_to_write(loaded: str) -> None:
    created = run_cli("sql", "--write", "CREATE TABLE public.scratch AS SELECT 1 AS x; SELECT count(*) AS n "
                      "FROM public.scratch", "--format", "csv", "--warehouse", loaded)
    assert created.exit_code == 0, created.output
    assert created.output.split() == ["n", "1"]
    assert run_cli("sql", "DROP TABLE public.scratch", "--warehouse", loaded).exit_code == 2
    assert run_cli("sql", "--write", "DROP TABLE public.scratch", "--warehouse", loaded).exit_code == 0


def test_read_commands_still_read_on_postgresql(loaded: str) -> None:
    """Several statements run (each one's rows shown, in order), with quotes, dollar quotes,
    escape strings and comments."""
    result = run_cli("sql", "SELECT 1 AS one; -- a ; comment\nSELECT 'a;b' AS s, $x$;$x$ AS d, E'\\';' AS e, "
                     "count(*) AS n FROM users", "--format", "csv", "--warehouse", loaded)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["one", "1", "", "s,d,e,n", f"a;b,;,';,{users(loaded)}"]
    for args in (["report"], ["query", "top_songs"], ["check"], ["status"], ["loads"]):
        assert run_cli(*args, "--warehouse", loaded).exit_code == 0, args


DUCKDB_ATTACKS = [
    "ATTACH '{other}' AS o; USE o; DETACH {name}; ATTACH '{path}' AS rw; DELETE FROM rw.analytics.users",
    "DELETE FROM analytics.users",
    "BEGIN TRANSACTION; DELETE FROM analytics.users; COMMIT",
    "COPY analytics.users TO '{copy}'",
    "SET access_mode = 'read_write'",
    "SELECT 1; INSTALL httpfs",
]


@pytest.mark.parametrize("attack", DUCKDB_ATTACKS)
def test_sql_cannot_write_on_duckdb(sample_warehouse: str, tmp_path: Path, attack: str) -> None:
    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).close()
    before = hashlib.sha256(Path(sample_warehouse).read_bytes()).hexdigest()
    text = attack.format(other=other, name=Path(sample_warehouse).stem, path=sample_warehouse,
                         copy=tmp_path / "copy.csv")
    result = run_cli("sql", text, "--warehouse", sample_warehouse)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.output.startswith("Error: ")  # the database's whole message
    assert hashlib.sha256(Path(sample_warehouse).read_bytes()).hexdigest() == before
    assert not (tmp_path / "copy.csv").exists()


def test_sql_write_writes_on_duckdb(sample: Path, tmp_path: Path) -> None:
    path = str(tmp_path / "w.duckdb")
    assert run_cli("etl", "--songs", str(sample / "song_data"), "--no-check", "-w", path).exit_code == 0
    assert run_cli("sql", "DELETE FROM analytics.artists", "-w", path).exit_code == 2
    assert run_cli("sql", "--write", "DELETE FROM analytics.songs", "-w", path).exit_code == 0
    assert run_cli("sql", "SELECT count(*) AS n FROM songs", "--format", "csv", "-w", path).output == "n\n0\n"


def test_split_script_respects_quotes_and_comments() -> None:
    assert split_script("SELECT 1; SELECT ';' -- x;\n; /* ; */ SELECT $a$ ; $a$;;") == [
        "SELECT 1", "SELECT ';' -- x;", "/* ; */ SELECT $a$ ; $a$"]
    assert split_script(" ; -- only a comment") == []
