"""The README's Quick start still works, command by command, as a user would type it."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from tests.conftest import ROOT, run_sparkify


def console_commands(markdown: str) -> list[list[str]]:
    """`$ sparkify …` lines of the README's ```console blocks."""
    blocks = re.findall(r"```console\n(.*?)```", markdown, flags=re.S)
    return [shlex.split(line[2:]) for block in blocks for line in block.splitlines() if line.startswith("$ ")]


def test_readme_starts_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = re.search(r"```\n(.*?)```", readme, flags=re.S).group(1).splitlines()
    assert [line.split("#")[0].strip() for line in first_block] == ["make demo", "make test"]


def test_quick_start_runs(tmp_path: Path) -> None:
    commands = console_commands((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(commands) >= 5
    outputs = []
    for command in commands:
        assert command[0] == "sparkify"
        result = run_sparkify(*command[1:], cwd=tmp_path)
        assert result.returncode == 0, f"{shlex.join(command)} failed:\n{result.stdout}\n{result.stderr}"
        outputs.append(result.stdout)
    etl_runs = [out for command, out in zip(commands, outputs) if command[1] == "etl"]
    assert "Nothing new" in etl_runs[-1]
