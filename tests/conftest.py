"""Shared fixtures: the real sample, fresh warehouses, and the CLI run as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from sparkify.cli import cli

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT.parent / "shared" / "data" / "sparkify-sample"


@pytest.fixture(scope="session")
def sample() -> Path:
    """The real Sparkify sample in ../shared (skips only where ../shared is absent)."""
    if not SAMPLE.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"the real sample is missing at {SAMPLE}; CI must have ../shared")
        pytest.skip(f"real sample not found at {SAMPLE}")
    return SAMPLE


@pytest.fixture
def warehouse_path(tmp_path: Path) -> str:
    return str(tmp_path / "test.duckdb")


def run_cli(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
    """The CLI in-process, as click runs it (fast; same code path as the console script)."""
    return CliRunner().invoke(cli, list(args), env=env, input=input, catch_exceptions=False)


def run_sparkify(*args: str, cwd: str | Path | None = None, env: dict[str, str] | None = None,
                 timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """The installed `sparkify` console script in a subprocess, exactly as a user runs it."""
    exe = Path(sys.executable).with_name("sparkify")
    return subprocess.run(
        [str(exe), *args], cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def sample_warehouse(sample: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A warehouse loaded once from the real sample, shared by read-only tests."""
    path = str(tmp_path_factory.mktemp("sample") / "sample.duckdb")
    result = run_cli("etl", "--songs", str(sample / "song_data"), "--logs", str(sample / "log_data"),
                     "--warehouse", path)
    assert result.exit_code == 0, result.output
    return path
