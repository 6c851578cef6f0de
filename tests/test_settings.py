"""Settings: sparkify.toml and the original project's dwh.cfg, precedence, masking, secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from sparkify.errors import SparkifyError
from sparkify.settings import load_settings, reset_warnings
from tests.conftest import run_cli, run_sparkify

PASSWORD = "Passw0rd-in-file"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

# The original project's dwh.cfg, as its users have it: quoted values, upper-case keys, keys in it.
DWH_CFG = f"""
[AWS]
KEY=AKIAIOSFODNN7EXAMPLE
SECRET={SECRET_KEY}

[DWH]
DWH_CLUSTER_TYPE=multi-node
DWH_NUM_NODES=4
DWH_NODE_TYPE=dc2.large
DWH_IAM_ROLE_NAME=dwhRole
DWH_CLUSTER_IDENTIFIER=dwhCluster
DWH_DB=dwh
DWH_DB_USER=dwhuser
DWH_DB_PASSWORD={PASSWORD}
DWH_PORT=5439

[CLUSTER]
HOST='dwhcluster.abc123xyz.us-west-2.redshift.amazonaws.com'
DB_NAME='dwh'
DB_USER='dwhuser'
DB_PASSWORD='{PASSWORD}'
DB_PORT='5439'

[IAM_ROLE]
ARN='arn:aws:iam::123456789012:role/dwhRole'

[S3]
LOG_DATA='s3://udacity-dend/log_data'
LOG_JSONPATH='s3://udacity-dend/log_json_path.json'
SONG_DATA='s3://udacity-dend/song_data'
"""


@pytest.fixture(autouse=True)
def clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("SPARKIFY_CONFIG", "SPARKIFY_WAREHOUSE", "SPARKIFY_REDSHIFT_PASSWORD", "PGPASSWORD",
                 "AWS_REGION", "AWS_DEFAULT_REGION", "SPARKIFY_CLUSTER_ID", "SPARKIFY_STAGING_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no ./sparkify.toml unless a test writes one
    reset_warnings()


@pytest.fixture
def dwh_cfg(tmp_path: Path) -> Path:
    path = tmp_path / "dwh.cfg"
    path.write_text(DWH_CFG)
    return path


def test_defaults() -> None:
    settings = load_settings(environ={})
    assert (settings.cluster_id, settings.node_type, settings.nodes, settings.port) == ("sparkify", "ra3.large", 2, 5439)
    assert settings.effective_warehouse() is None


def test_dwh_cfg_is_read_without_edits(dwh_cfg: Path) -> None:
    warnings: list[str] = []
    settings = load_settings(str(dwh_cfg), environ={}, warn=warnings.append)
    assert settings.host == "dwhcluster.abc123xyz.us-west-2.redshift.amazonaws.com"
    assert (settings.db_name, settings.db_user, settings.port) == ("dwh", "dwhuser", 5439)
    assert settings.db_password == PASSWORD
    assert settings.iam_role_arn == "arn:aws:iam::123456789012:role/dwhRole"
    assert settings.log_data == "s3://udacity-dend/log_data"
    assert settings.song_data == "s3://udacity-dend/song_data"
    assert settings.log_jsonpath == "s3://udacity-dend/log_json_path.json"
    assert (settings.nodes, settings.node_type, settings.cluster_id, settings.iam_role_name) == (
        4, "dc2.large", "dwhcluster", "dwhRole")
    assert settings.redshift_url() == (
        "redshift://dwhuser@dwhcluster.abc123xyz.us-west-2.redshift.amazonaws.com:5439/dwh"
        "?iam_role=arn:aws:iam::123456789012:role/dwhRole&region=us-west-2"
    )
    assert PASSWORD not in settings.redshift_url()  # type: ignore[operator]


def test_secrets_in_a_file_are_warned_about_once_and_never_echoed(dwh_cfg: Path) -> None:
    warnings: list[str] = []
    load_settings(str(dwh_cfg), environ={}, warn=warnings.append)
    load_settings(str(dwh_cfg), environ={}, warn=warnings.append)
    assert len(warnings) == 1
    text = warnings[0]
    assert "db_password" in text and "aws_secret_access_key" in text and "environment" in text
    assert PASSWORD not in text and SECRET_KEY not in text and "AKIAIOSFODNN7EXAMPLE" not in text


def test_masked_and_repr_hide_secrets(dwh_cfg: Path) -> None:
    settings = load_settings(str(dwh_cfg), environ={}, warn=lambda _: None)
    shown = str(settings.masked()) + repr(settings) + str(settings)
    assert PASSWORD not in shown and SECRET_KEY not in shown and "AKIAIOSFODNN7EXAMPLE" not in shown
    assert settings.masked()["db_password"] == "***"


def test_precedence_cli_over_env_over_file_over_defaults(tmp_path: Path) -> None:
    config = tmp_path / "s.toml"
    config.write_text('[cluster]\nnodes = 3\nnode_type = "ra3.xlplus"\n[aws]\nregion = "eu-west-1"\n')
    env = {"AWS_REGION": "us-east-2", "SPARKIFY_CLUSTER_ID": "from-env"}
    settings = load_settings(str(config), overrides={"nodes": 5, "node_type": None}, environ=env)
    assert settings.nodes == 5 and settings.sources["nodes"] == "command line"
    assert settings.node_type == "ra3.xlplus" and settings.sources["node_type"].startswith("file")
    assert settings.region == "us-east-2" and settings.sources["region"] == "env AWS_REGION"  # env beats the file
    assert settings.cluster_id == "from-env" and settings.sources["cluster_id"] == "env SPARKIFY_CLUSTER_ID"
    assert settings.db_name == "sparkify" and "db_name" not in settings.sources


def test_sparkify_toml_in_the_working_folder_is_read(tmp_path: Path) -> None:
    (tmp_path / "sparkify.toml").write_text('[warehouse]\nurl = "team.duckdb"\n')
    assert load_settings(environ={}).warehouse == "team.duckdb"


@pytest.mark.parametrize("name, text, message", [
    ("bad.toml", "[cluster\n", "not valid TOML"),
    ("bad.cfg", "no section header\n", "not a valid INI"),
    ("nodes.toml", '[cluster]\nnodes = "many"\n', "whole number"),
])
def test_bad_files_are_one_line_errors(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(SparkifyError, match=message):
        load_settings(str(path), environ={})


def test_missing_file() -> None:
    result = run_cli("config", "--config", "nope.cfg")
    assert result.exit_code == 2 and "config file not found" in result.output


def test_config_command_masks_secrets(dwh_cfg: Path) -> None:
    result = run_cli("config", "--config", str(dwh_cfg))
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output and SECRET_KEY not in result.output
    assert "AKIAIOSFODNN7EXAMPLE" not in result.output
    assert "***" in result.output
    assert "dwhcluster.abc123xyz.us-west-2.redshift.amazonaws.com" in result.output
    assert "Secrets belong in the environment" in result.output  # the warning (stderr, mixed in here)


def test_config_command_json_shows_sources(tmp_path: Path) -> None:
    result = run_cli("config", "--format", "json", env={"SPARKIFY_REDSHIFT_PASSWORD": "Env-Secret-1"})
    assert result.exit_code == 0
    assert "Env-Secret-1" not in result.output
    assert '"db_password": "***"' in result.output


def test_config_console_script_never_prints_the_password(dwh_cfg: Path, tmp_path: Path) -> None:
    result = run_sparkify("config", "--config", str(dwh_cfg), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    assert SECRET_KEY not in result.stdout + result.stderr
    assert result.stderr.count("warning:") == 1


def test_etl_takes_paths_and_warehouse_from_dwh_cfg(dwh_cfg: Path) -> None:
    """A user of the original scripts runs `sparkify etl --config dwh.cfg` with no edits (here as a
    dry run: no cluster), and the plan COPYs from the file's S3 paths with its IAM role."""
    result = run_cli("etl", "--config", str(dwh_cfg), "--dry-run",
                     env={"SPARKIFY_STAGING_URI": "s3://my-staging/sparkify"})
    assert result.exit_code == 0, result.output
    assert "objects under s3://udacity-dend/log_data" in result.output
    assert "objects under s3://udacity-dend/song_data" in result.output
    assert "IAM_ROLE 'arn:aws:iam::123456789012:role/dwhRole'" in result.output
    assert "FROM 's3://my-staging/sparkify/manifests/load-:load_id/events-0002.manifest'" in result.output  # songs are batch 1
    assert PASSWORD not in result.output and SECRET_KEY not in result.output
    # Without a staging location the plan still prints, and says what is missing.
    bare = run_cli("etl", "--config", str(dwh_cfg), "--dry-run")
    assert bare.exit_code == 0, bare.output
    assert "staging= is not set" in bare.output


def test_etl_warehouse_option_beats_the_file(dwh_cfg: Path, tmp_path: Path) -> None:
    result = run_cli("etl", "--config", str(dwh_cfg), "--dry-run", "--warehouse", str(tmp_path / "w.duckdb"),
                     "--songs", str(tmp_path))
    # DuckDB plan (the option won); the local folder has no JSON, so discovery says so.
    assert "no .json files" in result.output


def test_the_environment_beats_the_file_and_the_flag_beats_both(tmp_path: Path, sample: Path) -> None:
    config = tmp_path / "sparkify.toml"
    config.write_text(f'[warehouse]\nurl = "{tmp_path / "from-file.duckdb"}"\n')
    args = ("etl", "--config", str(config), "--logs", str(sample / "log_data"), "--dry-run")
    env = {"SPARKIFY_WAREHOUSE": str(tmp_path / "from-env.duckdb")}
    assert "from-file.duckdb" in run_cli(*args, env={"SPARKIFY_WAREHOUSE": ""}).output.splitlines()[0]
    assert "from-env.duckdb" in run_cli(*args, env=env).output.splitlines()[0]
    flagged = run_cli(*args, "--warehouse", str(tmp_path / "from-flag.duckdb"), env=env)
    assert "from-flag.duckdb" in flagged.output.splitlines()[0]


@pytest.mark.parametrize("command", [
    ["status"], ["sql", "SELECT count(*) AS plays FROM songplays"], ["report"], ["check"], ["loads"], ["errors"],
    ["query", "top_songs"], ["export", "--to", "lake"],
])
def test_every_command_reads_the_warehouse_from_sparkify_toml(
    command: list[str], sample_warehouse: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A team's sparkify.toml names the warehouse once; every command finds it there."""
    (tmp_path / "sparkify.toml").write_text(f'[warehouse]\nurl = "{sample_warehouse}"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SPARKIFY_WAREHOUSE", raising=False)
    result = run_cli(*command)
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "sparkify.duckdb").exists()  # no stray default warehouse


def test_create_tables_uses_the_file_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "sparkify.toml").write_text('[warehouse]\nurl = "team.duckdb"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SPARKIFY_WAREHOUSE", raising=False)
    assert run_cli("create-tables", "--yes").exit_code == 0
    assert (tmp_path / "team.duckdb").exists() and not (tmp_path / "sparkify.duckdb").exists()


def test_config_says_where_the_effective_warehouse_came_from(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "sparkify.toml").write_text('[warehouse]\nurl = "team.duckdb"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SPARKIFY_WAREHOUSE", raising=False)
    import json

    shown = run_cli("config", "--format", "json")
    assert json.loads(shown.output)["warehouse (effective)"] == "team.duckdb"
    table = run_cli("config").output
    line = next(l for l in table.splitlines() if "warehouse (effective)" in l)
    assert "team.duckdb" in line and "file sparkify.toml" in line
    monkeypatch.setenv("SPARKIFY_WAREHOUSE", "other.duckdb")
    line = next(l for l in run_cli("config").output.splitlines() if "warehouse (effective)" in l)
    assert "other.duckdb" in line and "env SPARKIFY_WAREHOUSE" in line
