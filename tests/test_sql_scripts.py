"""`sparkify sql` runs scripts (issue 15): each statement's result in order, the database's whole
error message (DuckDB's "Did you mean", the LINE and caret lines, PostgreSQL's HINT), and, within
issue 17's rule, no write without --write; with it, one transaction rolled back at the first error.
On DuckDB and PostgreSQL, through the real CLI."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import psycopg
import pytest

from tests.conftest import run_cli, run_sparkify
from tests.pg import loaded_database

TWO_SELECTS = "SELECT count(*) AS n FROM users; SELECT level, count(*) AS c FROM users GROUP BY level ORDER BY level"


@pytest.fixture(scope="module")
def postgres(sample: Path) -> Iterator[str]:
    with loaded_database(sample, "sparkify_sql_scripts") as url:
        yield url


@pytest.fixture(params=["duckdb", "postgresql"])
def warehouse(request: pytest.FixtureRequest, sample_warehouse: str, tmp_path: Path) -> str:
    """A warehouse of each backend, loaded from the real sample, that a test may try to change."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres"))
    path = tmp_path / "own.duckdb"
    shutil.copy(sample_warehouse, path)
    return str(path)


def users(warehouse: str) -> int:
    if warehouse.startswith("postgresql://"):
        with psycopg.connect(warehouse) as con:
            return con.execute("SELECT count(*) FROM analytics.users").fetchone()[0]  # type: ignore[index]
    with duckdb.connect(warehouse, read_only=True) as con:
        return con.execute("SELECT count(*) FROM analytics.users").fetchone()[0]  # type: ignore[index]


def json_documents(text: str) -> list[object]:
    """The JSON documents printed one after the other (what `jq` reads as a stream)."""
    decoder, documents, at = json.JSONDecoder(), [], 0
    while text[at:].strip():
        at += len(text[at:]) - len(text[at:].lstrip())
        document, at = decoder.raw_decode(text, at)
        documents.append(document)
    return documents


def test_two_selects_show_each_result_in_order(warehouse: str) -> None:
    n = users(warehouse)
    csv = run_cli("sql", TWO_SELECTS, "--format", "csv", "-w", warehouse)
    assert csv.exit_code == 0, csv.output
    first, second = csv.output.split("\n\n")
    assert first.splitlines() == ["n", str(n)]
    rows = [line.split(",") for line in second.splitlines()]
    assert rows[0] == ["level", "c"] and [r[0] for r in rows[1:]] == ["free", "paid"]
    assert sum(int(r[1]) for r in rows[1:]) == n

    documents = json_documents(run_cli("sql", TWO_SELECTS, "--format", "json", "-w", warehouse).output)
    assert documents[0] == [{"n": n}]
    assert [row["level"] for row in documents[1]] == ["free", "paid"]

    table = run_cli("sql", TWO_SELECTS, "-w", warehouse)
    assert table.exit_code == 0
    lines = table.output.split()
    assert lines.index("n") < lines.index(str(n)) < lines.index("level") < lines.index("free") < lines.index("paid")


def test_one_statement_prints_as_before(warehouse: str) -> None:
    """One JSON array of row objects, as a single-statement script always gave."""
    result = run_cli("sql", "SELECT count(*) AS n FROM users;", "--format", "json", "-w", warehouse)
    assert json.loads(result.output) == [{"n": users(warehouse)}]


def test_a_typo_in_a_table_name_shows_duckdbs_did_you_mean(sample_warehouse: str) -> None:
    proc = run_sparkify("sql", "SELECT 1; SELECT count(*) FROM userz", "-w", sample_warehouse)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("Error: SQL error: Catalog Error: Table with name userz does not exist!")
    assert 'Did you mean "users"?' in proc.stderr
    line, caret = [x for x in proc.stderr.splitlines() if x.strip()][-2:]
    assert line.strip().startswith("LINE 1:") and "userz" in line and caret.strip().startswith("^")
    assert line.index("userz") == caret.index("^")
    assert "Traceback" not in proc.stderr


def test_a_postgresql_error_shows_the_caret_line_and_hint_and_no_password(postgres: str) -> None:
    with_password = postgres.replace("postgres@", "postgres:Sekr3t-pw@", 1)  # trust: the password is unused
    proc = run_sparkify("sql", "SELECT 1; SELEC count(*) FROM users", "-w", with_password)
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert lines[0] == 'Error: SQL error: syntax error at or near "SELEC"'
    assert lines[1] == "LINE 1: SELEC count(*) FROM users" and lines[2].index("^") == lines[1].index("SELEC")
    hinted = run_sparkify("sql", "SELECT level + 1 FROM users", "-w", with_password)
    assert hinted.returncode == 2
    assert "operator does not exist: character varying + integer" in hinted.stderr and "LINE 1:" in hinted.stderr
    assert "HINT:" in hinted.stderr
    for text in (proc.stderr, hinted.stderr):
        assert "Sekr3t-pw" not in text and "Traceback" not in text


def test_a_script_that_tries_to_write_changes_nothing(warehouse: str) -> None:
    before = users(warehouse)
    for script in ("BEGIN READ WRITE; DELETE FROM analytics.users; COMMIT; SELECT 1",
                   "SELECT 1; DELETE FROM analytics.users", "SELECT 1; CREATE TABLE analytics.mine AS SELECT 1 AS x"):
        proc = run_sparkify("sql", script, "-w", warehouse)
        assert proc.returncode == 2 and proc.stdout == "", script
        assert proc.stderr.startswith("Error: ") and "Traceback" not in proc.stderr
        assert users(warehouse) == before > 0
    assert run_cli("sql", "SELECT count(*) AS n FROM analytics.mine", "-w", warehouse).exit_code == 2


def test_write_runs_the_script_in_one_transaction(warehouse: str) -> None:
    before = users(warehouse)
    failed = run_sparkify("sql", "--write", "DELETE FROM analytics.users; SELECT * FROM no_such_table; "
                          "DELETE FROM analytics.songs", "-w", warehouse)
    assert failed.returncode == 2 and "no_such_table" in failed.stderr and "Traceback" not in failed.stderr
    assert users(warehouse) == before > 0  # rolled back: the first DELETE is undone
    done = run_cli("sql", "--write", "CREATE TABLE analytics.scratch AS SELECT 1 AS x; INSERT INTO analytics.scratch "
                   "VALUES (2); SELECT count(*) AS n FROM analytics.scratch", "--format", "csv", "-w", warehouse)
    assert done.exit_code == 0, done.output
    assert done.output.split("\n\n")[-1].splitlines() == ["n", "2"]
    refused = run_cli("sql", "--write", "BEGIN; DELETE FROM analytics.users; COMMIT", "-w", warehouse)
    assert refused.exit_code == 2 and "one transaction" in refused.output
    assert users(warehouse) == before
    assert run_cli("sql", "--write", "DROP TABLE analytics.scratch", "-w", warehouse).exit_code == 0


@pytest.mark.parametrize("query", ["", " ", ";", " ; "])
def test_an_empty_script_is_refused_on_postgresql(query: str, postgres: str) -> None:
    proc = run_sparkify("sql", query, "-w", postgres)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("Error: no SQL statement given") and len(proc.stderr.splitlines()) == 1


def test_a_script_of_comments_only_is_refused(warehouse: str) -> None:
    result = run_cli("sql", "-w", warehouse, "--", "-- nothing here;\n/* nor here */")
    assert result.exit_code == 2 and "no SQL statement to run" in result.output
