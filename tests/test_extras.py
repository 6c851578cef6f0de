"""DuckDB users install only the core: a command that needs a missing extra names it."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_without(modules: list[str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The real CLI in a Python where `modules` cannot be imported (as if the extra were not installed)."""
    code = (
        "import sys\n"
        f"for name in {modules!r}: sys.modules[name] = None\n"
        "from sparkify.cli import main\n"
        f"sys.argv = ['sparkify', *{list(args)!r}]\n"
        "main()\n"
    )
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    ("modules", "args", "extra"),
    [
        (["psycopg"], ["status", "--warehouse", "postgresql://u@127.0.0.1:5432/db"], "postgres"),
        (["boto3"], ["etl", "--logs", "s3://bucket/log_data", "--warehouse", "w.duckdb"], "aws"),
        (["psycopg"], ["status", "--warehouse", "redshift://u@example.123456789012.us-west-2.redshift.amazonaws.com:5439/dev"],
         "redshift"),
    ],
)
def test_a_missing_extra_is_named(tmp_path: Path, modules: list[str], args: list[str], extra: str) -> None:
    result = run_without(modules, *args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"pip install 'sparkify-warehouse[{extra}]'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_duckdb_needs_only_the_core(tmp_path: Path, sample: Path) -> None:
    result = run_without(["psycopg", "boto3", "botocore"], "etl", "--songs", str(sample / "song_data"),
                         "--logs", str(sample / "log_data"), "--warehouse", str(tmp_path / "w.duckdb"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "6820" in result.stdout or (tmp_path / "w.duckdb").exists()


def test_the_core_does_not_depend_on_optional_packages() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = " ".join(project["dependencies"])
    for optional in ("psycopg", "boto3", "pytz", "moto", "sqlglot"):
        assert optional not in core
    extras = project["optional-dependencies"]
    assert {"postgres", "aws", "redshift", "all"} <= set(extras)
