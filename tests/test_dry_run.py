"""`sparkify etl --dry-run`: the SQL of a full load, for any backend, connecting to nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from sparkify.pipeline.dry_run import plan
from sparkify.warehouse.sqlfiles import model_statements, split_statements
from tests.conftest import run_cli, run_sparkify

ROLE = "arn:aws:iam::123456789012:role/sparkify-redshift-s3-read"
REDSHIFT = ("redshift://awsuser@sparkify.abc123.us-west-2.redshift.amazonaws.com:5439/sparkify"
            f"?iam_role={ROLE}&region=us-west-2&staging=s3://my-staging/sparkify")
#: Nothing listens here: a dry run that tried to connect would fail.
NOWHERE = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
           "PGCONNECT_TIMEOUT": "1"}


def statements_of(text: str) -> list[str]:
    """The statements of a rendered plan (comment lines dropped, split at `;` line ends)."""
    lines = [line for line in text.splitlines() if not line.startswith("--")]
    return split_statements("\n".join(lines))


def test_duckdb_plan_lists_batches_and_creates_nothing(sample: Path, tmp_path: Path) -> None:
    target = tmp_path / "never.duckdb"
    result = run_cli("etl", "--songs", str(sample / "song_data"), "--logs", str(sample / "log_data"),
                     "--warehouse", str(target), "--dry-run")
    assert result.exit_code == 0, result.output
    assert not target.exists()
    out = result.output
    assert "batch 1: 71 file(s)" in out and "batch 1: 30 file(s)" in out
    assert "CREATE TABLE analytics.songplays" in out
    assert "CREATE OR REPLACE TEMP TABLE _parsed AS" in out
    assert "read_json(:file, format='newline_delimited'" in out  # the fast way, tried first for logs
    assert "only when the load replaced an event file" in out
    for statement in model_statements("songplays", "duckdb"):
        assert statement.strip() + ";" in out  # the exact model SQL the load runs
    assert out.rstrip().endswith("COMMIT;")


def test_postgresql_plan_needs_no_server(sample: Path) -> None:
    result = run_cli("etl", "--logs", str(sample / "log_data"), "--warehouse",
                     "postgresql://nobody@127.0.0.1:9/none", "--dry-run", env=NOWHERE)
    assert result.exit_code == 0, result.output
    for statement in model_statements("users", "postgresql"):
        assert statement.strip() + ";" in result.output
    assert "model songs" not in result.output  # no songs given: songs and artists are not rebuilt


def test_redshift_plan_needs_no_cluster_nor_s3_and_parses() -> None:
    result = run_sparkify("etl", "--songs", "s3://udacity-dend/song_data", "--logs", "s3://udacity-dend/log_data",
                          "--warehouse", REDSHIFT, "--max-errors", "12", "--dry-run", env=NOWHERE, timeout=120)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "objects under s3://udacity-dend/log_data not yet loaded" in out
    assert "FROM 's3://my-staging/sparkify/manifests/load-:load_id/events-0001.manifest'" in out
    assert "MAXERROR 12" in out and "MANIFEST" in out
    assert "-- PUT s3://my-staging/sparkify/jsonpaths/events_jsonpaths.json" in out
    assert "DISTKEY(song_id)" in out
    assert "MERGE INTO analytics.songs" in out
    statements = statements_of(out)
    assert len(statements) > 40
    for statement in statements:
        parsed = sqlglot.parse(statement, read="redshift")
        assert len(parsed) == 1
        if not statement.startswith(("LOCK", "SET")):
            assert not isinstance(parsed[0], exp.Command), statement


def test_full_refresh_is_said(sample: Path, tmp_path: Path) -> None:
    steps = plan(str(tmp_path / "w.duckdb"), None, str(sample / "log_data"), full_refresh=True)
    assert steps[0].comment == "create tables (--full-refresh)"


def test_dry_run_still_needs_inputs(tmp_path: Path) -> None:
    result = run_cli("etl", "--warehouse", str(tmp_path / "w.duckdb"), "--dry-run")
    assert result.exit_code == 2 and "--songs" in result.output


def test_redshift_plan_without_a_role_says_what_is_missing() -> None:
    result = run_cli("etl", "--logs", "s3://udacity-dend/log_data", "--dry-run", "--warehouse",
                     "redshift://awsuser@host.example.com:5439/dev", env=NOWHERE)
    assert result.exit_code == 2 and "iam_role" in result.output


@pytest.mark.parametrize("url", ["redshift://u:hunter2hunter2@h.example.com:5439/db"])
def test_a_password_in_the_url_is_refused_and_not_echoed(url: str) -> None:
    result = run_cli("etl", "--logs", "s3://udacity-dend/log_data", "--dry-run", "--warehouse", url)
    assert result.exit_code == 2
    assert "hunter2hunter2" not in result.output
