"""Every example in the README runs, in order, as a user would paste it (the sqlite-utils way).

Each fenced block of code (sh, bash, console, python, toml, sql, json) is one of:
- run: every command of a shell block (a `$ ` line of a console block), in one folder shared by
  the whole README, with `.venv/bin` on PATH and `../shared` the real sample; a trailing comment
  `exit N` is the command's expected exit code (default 0); what a block exports, the next sees;
- `<!-- readme-test: postgresql -->`: run the same way against a fresh database of the test server
  (the README's local `postgresql:///sparkify` and its `analyst` role are this test's own);
- `<!-- readme-test: file: NAME -->`: written to NAME, for the blocks after it (a settings file is
  also read by `sparkify config`);
- `<!-- readme-test: output of: COMMAND -->`: COMMAND runs and prints a document of the same shape;
- `<!-- readme-test: run by tests/FILE::TEST -->`: that test runs it (and checks its output);
- `<!-- readme-test: not run: WHY -->`: needs real AWS, or installs software, or is a developer's
  step; the test checks that exactly the blocks that reach AWS say `needs AWS`.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.conftest import ROOT, SAMPLE

LANGUAGES = ("sh", "bash", "console", "python", "toml", "sql", "json")
#: What only real AWS can run: S3 buckets, Redshift, the cluster commands, AWS credentials.
AWS = re.compile(r"s3://|redshift://|sparkify cluster|AWS_PROFILE|\$REDSHIFT_URL")


@dataclass
class Block:
    language: str
    text: str
    marker: str  # "" (run), or what the readme-test comment before it says
    line: int


def blocks() -> list[Block]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = []
    for match in re.finditer(r"(?:<!-- readme-test: (.*?) -->\n)?```(\w+)\n(.*?)^```", readme, flags=re.S | re.M):
        if match.group(2) in LANGUAGES:
            found.append(Block(match.group(2), match.group(3), match.group(1) or "",
                               readme[:match.start(2)].count("\n") + 1))
    return found


def commands(block: Block) -> list[tuple[str, int]]:
    """(command, expected exit code) of a shell block: continuations joined, comments dropped."""
    lines = [line[2:] for line in block.text.splitlines() if line.startswith("$ ")] \
        if block.language == "console" else block.text.splitlines()
    joined, current = [], ""
    for line in lines:
        current += line[:-1] + " " if line.endswith("\\") else line
        if not line.endswith("\\"):
            joined.append(current)
            current = ""
    result = []
    for command in joined:
        if not command.strip() or command.lstrip().startswith("#"):
            continue
        code, comment = 0, ""
        if " # " in command and "'" not in command.split(" # ", 1)[1]:  # a trailing comment
            command, comment = command.split(" # ", 1)
        expected = re.search(r"\bexit (\d+)\b", comment)
        result.append((command.strip(), int(expected.group(1)) if expected else code))
    return result


def run_block(block: Block, cwd: Path, env: dict[str, str], substitutions: dict[str, str]) -> dict[str, str]:
    """Run each command of `block` in bash; the environment it leaves, for the next block."""
    envfile = cwd.parent / "env"
    script = []
    for command, expected in commands(block):
        for old, new in substitutions.items():
            command = command.replace(old, new)
        script.append(f'{command}\nrc=$?; [ "$rc" = {expected} ] || '
                      f'{{ echo "README line {block.line}: exit $rc, not {expected}: "{shlex.quote(command)} >&2; exit 99; }}')
    script.append(f"env -0 > {shlex.quote(str(envfile))}")
    proc = subprocess.run(["bash", "-c", "\n".join(script)], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, f"README block at line {block.line}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert "Traceback" not in proc.stderr, proc.stderr
    return dict(item.split("=", 1) for item in envfile.read_text().split("\0") if "=" in item)


def shapes(value: object) -> object:
    """A JSON document's keys, all the way down (values aside)."""
    if isinstance(value, dict):
        return {k: shapes(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shapes(value[0])] if value and isinstance(value[0], (dict, list)) else []
    return None


def test_readme_starts_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = re.search(r"```\n(.*?)```", readme, flags=re.S).group(1).splitlines()
    assert [line.split("#")[0].strip() for line in first_block] == ["make demo", "make test"]


def test_exactly_the_aws_examples_are_not_run() -> None:
    every = blocks()
    assert len(every) >= 20
    for block in every:
        reaches_aws = block.language in ("sh", "bash", "console") and \
            any(AWS.search(command) for command, _ in commands(block))
        assert (block.marker == "not run: needs AWS") == reaches_aws, f"README line {block.line}: {block.marker!r}"
        if block.marker.startswith("not run:") and block.marker != "not run: needs AWS":
            assert not any(c.startswith("sparkify ") for c, _ in commands(block)) or "completion" in block.text \
                or "COMPLETE" in block.text, f"README line {block.line} has sparkify commands that must run"
        if block.marker.startswith("run by "):
            file, test = block.marker.removeprefix("run by ").split("::")
            assert f"def {test}(" in (ROOT / file).read_text(encoding="utf-8")
        assert block.marker == "" or re.match(r"not run: |file: |output of: |run by |postgresql$", block.marker), \
            block.marker


def test_every_readme_example_runs(sample: Path, tmp_path: Path) -> None:
    """The whole README, top to bottom, in one folder beside a `shared` that holds the sample."""
    (tmp_path / "shared" / "data").mkdir(parents=True)
    (tmp_path / "shared" / "data" / "sparkify-sample").symlink_to(SAMPLE)
    cwd = tmp_path / "work"
    cwd.mkdir()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("SPARKIFY_WAREHOUSE", None)
    postgres = os.environ.get("SPARKIFY_TEST_POSTGRES")
    ran = 0
    with _postgres_names(postgres) as substitutions:
        for block in blocks():
            if block.marker.startswith(("not run:", "run by ")):
                continue
            if block.marker.startswith("file: "):
                (cwd / block.marker.removeprefix("file: ")).write_text(block.text, encoding="utf-8")
                if block.language == "toml":
                    shown = subprocess.run(["sparkify", "config", "--config", block.marker.removeprefix("file: "),
                                            "--format", "json"], cwd=cwd, env=env, capture_output=True, text=True)
                    assert shown.returncode == 0, shown.stderr
                    assert json.loads(shown.stdout) and "Traceback" not in shown.stderr
                    (cwd / block.marker.removeprefix("file: ")).unlink()  # the settings of that section only
                continue
            if block.marker.startswith("output of: "):
                proc = subprocess.run(shlex.split(block.marker.removeprefix("output of: ")), cwd=cwd, env=env,
                                      capture_output=True, text=True, timeout=600)
                assert proc.returncode == 0, proc.stderr
                assert shapes(json.loads(proc.stdout)) == shapes(json.loads(block.text))
                continue
            if block.marker == "postgresql":
                if substitutions is None:
                    if os.environ.get("CI"):
                        pytest.fail("CI must run the README's PostgreSQL examples: set SPARKIFY_TEST_POSTGRES")
                    continue
                env = run_block(block, cwd, env, substitutions)
            else:
                env = run_block(block, cwd, env, {})
            ran += 1
    assert ran >= 8
    loads = subprocess.run(["sparkify", "loads", "--format", "json", "-w", "sparkify.duckdb"], cwd=cwd, env=env,
                           capture_output=True, text=True)
    # the Quick start's demo data: one load; its second etl found nothing new and recorded none
    assert [load["status"] for load in json.loads(loads.stdout)] == ["committed"]


class _postgres_names:
    """The README's local database and analyst role, as a fresh database and role of the test server."""

    def __init__(self, admin: str | None) -> None:
        self.admin, self.database, self.role = admin, f"sparkify_readme_{uuid.uuid4().hex[:8]}", \
            f"sparkify_readme_analyst_{uuid.uuid4().hex[:8]}"

    def __enter__(self) -> dict[str, str] | None:
        if not self.admin:
            return None
        import psycopg

        with psycopg.connect(self.admin, autocommit=True) as con:
            con.execute(f'CREATE DATABASE "{self.database}"')
        parts = urlsplit(self.admin)
        url = urlunsplit(parts._replace(path=f"/{self.database}"))
        analyst = urlunsplit(parts._replace(netloc=f"{self.role}@{parts.hostname}:{parts.port or 5432}",
                                            path=f"/{self.database}"))
        return {"postgresql:///sparkify": url, "postgresql://analyst@127.0.0.1:5432/sparkify": analyst,
                "--analyst analyst": f"--analyst {self.role}"}

    def __exit__(self, *exc: object) -> None:
        if not self.admin:
            return
        import psycopg

        with psycopg.connect(self.admin, autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            con.execute(f'DROP ROLE IF EXISTS "{self.role}"')
