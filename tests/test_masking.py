"""Passwords are never printed nor stored (issue 17 item 2): every form a password takes in a warehouse
URL goes through every command that prints or stores one, and the secret never appears."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from sparkify.config import mask_secrets, warehouse_scheme
from sparkify.errors import SparkifyError
from sparkify.pipeline.load import run_etl
from sparkify.warehouse import connect
from tests.conftest import run_cli, run_sparkify
from tests.pg import fresh_database, loaded_database


def secret() -> str:
    """A fresh secret per command run: one run's masking never hides another's leak."""
    return f"Pw{uuid.uuid4().hex[:10]}"


# Each form: a function (url of the test database, secret) -> the warehouse string a user would give.
def _userinfo(pw: str) -> object:
    return lambda url, s: url.replace("postgres@", f"postgres:{pw.format(s=s)}@", 1)


FORMS = {
    "plain": (_userinfo("{s}"), lambda s: [s]),
    "hash": (_userinfo("{s}#x"), lambda s: [s]),
    "question": (_userinfo("{s}?x"), lambda s: [s]),
    "slash": (_userinfo("{s}/x"), lambda s: [s]),
    "percent": (lambda url, s: url.replace("postgres@", f"postgres:{quote(s + '@/#', safe='')}@", 1),
                lambda s: [s, quote(s + "@/#", safe="")]),
    "query": (lambda url, s: f"{url}?password={s}", lambda s: [s]),
    "keyword": (lambda url, s: (f"host={urlsplit(url).hostname} port={urlsplit(url).port or 5432} user=postgres "
                                f"dbname={urlsplit(url).path[1:]} password={s}"), lambda s: [s]),
    "keyword_quoted": (lambda url, s: (f"host={urlsplit(url).hostname} port={urlsplit(url).port or 5432} "
                                       f"user=postgres password='{s} x' dbname={urlsplit(url).path[1:]}"),
                       lambda s: [s]),
    "malformed_ipv6": (lambda url, s: f"postgresql://postgres:{s}@[127.0.0.1:5432/db", lambda s: [s]),
    "malformed_port": (lambda url, s: f"postgresql://postgres:{s}@127.0.0.1:port/db", lambda s: [s]),
    "redshift_malformed": (lambda url, s: f"redshift://awsuser:{s}@[host:5439/dev", lambda s: [s]),
}

COMMANDS = [
    ["status"], ["sql", "SELECT 1 AS one"], ["check"], ["report"], ["query", "top_songs"], ["loads"],
    ["errors"], ["grant", "--analyst", "sparkify_no_such_role_x"], ["etl", "--logs", "{logs}"],
    ["etl", "--logs", "{logs}", "--dry-run"], ["create-tables"],
]


@pytest.fixture(scope="module")
def loaded(sample: Path) -> Iterator[str]:
    with loaded_database(sample, "sparkify_mask") as url:
        yield url


def assert_hidden(secrets: list[str], *texts: str) -> None:
    for text in texts:
        for s in secrets:
            assert s not in text, text
    assert "Traceback" not in "".join(texts)


def assert_no_file_holds(folder: Path, secrets: list[str]) -> None:
    for path in folder.rglob("*"):
        assert_hidden(secrets, str(path))
        if path.is_file():
            assert_hidden(secrets, path.read_bytes().decode("utf-8", "replace"))


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_no_command_prints_a_password(loaded: str, sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      form: str, command: list[str]) -> None:
    monkeypatch.chdir(tmp_path)  # a keyword DSN taken for a DuckDB path would create a file here
    make, shown_as = FORMS[form]
    s = secret()
    warehouse = make(loaded, s)
    args = [a.replace("{logs}", str(sample / "log_data")) for a in command]
    result = run_cli(*args, "--warehouse", warehouse, input="n\n")
    assert_hidden(shown_as(s), result.output)
    assert result.exit_code in (0, 1, 2), result.output
    if form in ("malformed_ipv6", "malformed_port", "redshift_malformed", "slash") and "--dry-run" not in command:
        assert result.exit_code in (1, 2)
        assert "Error:" in result.output
    assert_no_file_holds(tmp_path, shown_as(s))


@pytest.mark.parametrize("form", ["plain", "hash", "percent", "query", "keyword", "malformed_ipv6"])
def test_the_installed_command_prints_no_password(loaded: str, tmp_path: Path, form: str) -> None:
    """The console script in a subprocess: stdout and stderr apart, the URL in the environment."""
    make, shown_as = FORMS[form]
    s = secret()
    warehouse = make(loaded, s)
    password = next(p for p in (_password_in(warehouse), s) if p)
    for args in (["status"], ["sql", f"SELECT '{password}'::int"], ["config"], ["config", "--format", "json"]):
        result = run_sparkify(*args, cwd=tmp_path, env={"SPARKIFY_WAREHOUSE": warehouse})
        assert_hidden(shown_as(s), result.stdout, result.stderr)
        if result.returncode:  # one line; `sql` adds the database's own LINE and caret lines
            lines = result.stderr.strip().splitlines()
            assert lines[0].startswith("Error: ") and "Traceback" not in result.stderr, result.stderr
            assert len(lines) == 1 or (args[0] == "sql" and lines[1].startswith("LINE 1: ")), result.stderr
    assert_no_file_holds(tmp_path, shown_as(s))


def _password_in(warehouse: str) -> str | None:
    """The password as the server gets it (what a server error may quote back)."""
    from sparkify.config import secrets_of

    return min(secrets_of(warehouse), key=len, default=None)


def test_a_working_url_with_a_password_still_connects_and_is_shown_masked(loaded: str) -> None:
    for form in ("plain", "hash", "question", "percent", "query", "keyword"):
        s = secret()
        result = run_cli("status", "--warehouse", FORMS[form][0](loaded, s))
        assert result.exit_code == 0, (form, result.output)
        assert "***" in result.output and s not in result.output


@pytest.mark.parametrize("form", FORMS)
def test_sparkify_config_masks_the_warehouse_from_the_toml_and_warns(tmp_path: Path, loaded: str,
                                                                    monkeypatch: pytest.MonkeyPatch, form: str) -> None:
    monkeypatch.chdir(tmp_path)
    make, shown_as = FORMS[form]
    s = secret()
    (tmp_path / "sparkify.toml").write_text(f"[warehouse]\nurl = {json.dumps(make(loaded, s))}\n")
    for fmt in ("table", "json"):
        result = run_sparkify("config", "--format", fmt, cwd=tmp_path,
                              env={"SPARKIFY_CONFIG": "", "SPARKIFY_WAREHOUSE": ""})
        assert result.returncode == 0, result.stderr
        assert_hidden(shown_as(s), result.stdout, result.stderr)
        assert "***" in result.stdout
        assert "sparkify.toml holds a password in the warehouse URL" in result.stderr
    if fmt == "json":
        values = json.loads(result.stdout)
        assert "***" in values["warehouse"] and "***" in values["warehouse (effective)"]
    etl = run_sparkify("etl", "--logs", str(tmp_path / "none"), "--dry-run", cwd=tmp_path,
                       env={"SPARKIFY_CONFIG": "", "SPARKIFY_WAREHOUSE": ""})
    assert_hidden(shown_as(s), etl.stdout, etl.stderr)


class FailingProgress:
    """A progress display that breaks mid-load with a message quoting a URL (a real extension point)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def start(self, description: str, total_bytes: int) -> None:
        raise SparkifyError(self.text)

    def advance(self, nbytes: int) -> None: ...

    def finish(self) -> None: ...


@pytest.mark.parametrize("backend", ["duckdb", "postgresql"])
def test_a_failed_loads_stored_message_holds_no_password(sample: Path, tmp_path: Path, backend: str) -> None:
    s = secret()
    message = (f"lost postgresql://etl:{s}#x@db.example/w while loading; retry with "
               f"host=db password={s} or ?password={s}")
    with fresh_database("sparkify_mask_load") if backend == "postgresql" else _nothing(tmp_path) as url:
        with connect(url) as wh, pytest.raises(SparkifyError):
            run_etl(wh, None, str(sample / "log_data"), progress=FailingProgress(message))
        loads = run_cli("loads", "--format", "json", "--warehouse", url)
        [failed] = json.loads(loads.output)
        assert failed["status"] == "failed" and "***" in failed["message"]
        assert s not in loads.output
        status = run_cli("status", "--warehouse", url)
        assert "failed" in status.output and s not in status.output


class _nothing:
    def __init__(self, tmp_path: Path) -> None:
        self.path = str(tmp_path / "w.duckdb")

    def __enter__(self) -> str:
        return self.path

    def __exit__(self, *exc: object) -> None: ...


@pytest.mark.parametrize(
    "text",
    [
        "postgresql://u:{s}@h/db", "postgresql://u:{s}#frag@h/db", "postgresql://u:{s}?q@h/db",
        "postgresql://u:{s}/p@h:5432/db", "postgres+psycopg://u:{s}@h/db", "'postgresql://u:{s}@h/db': refused",
        "postgresql://u@h/db?sslmode=require&password={s}", "host=h password={s} dbname=d",
        "host=h password = '{s} with blanks' dbname=d", "PGPASSWORD={s} sparkify status",
        'invalid URI: "postgresql://u:{s}@[h/db"', "redshift://awsuser:{s}@h:5439/dev?iam_role=arn",
    ],
)
def test_mask_secrets_hides_every_form(text: str) -> None:
    s = secret()
    masked = mask_secrets(text.format(s=s))
    assert s not in masked and "***" in masked


def test_given_secrets_are_masked_wherever_they_appear() -> None:
    s = secret()
    assert mask_secrets(f'invalid input syntax for type integer: "{s}"', s) == \
        'invalid input syntax for type integer: "***"'


def test_a_keyword_dsn_is_postgresql_and_a_path_with_a_password_is_refused(tmp_path: Path) -> None:
    assert warehouse_scheme("host=db dbname=sparkify password=x") == "postgresql"
    assert warehouse_scheme("dbname=sparkify") == "postgresql"
    assert warehouse_scheme(str(tmp_path / "w.duckdb")) == "duckdb"
    s = secret()
    result = run_cli("sql", "SELECT 1", "--warehouse", f"./data password={s}.duckdb")
    assert result.exit_code == 2 and "neither a URL nor a keyword DSN" in result.output
    assert s not in result.output
    assert not any(s in p.name for p in Path.cwd().iterdir())
    refused = run_cli("status", "--warehouse", f"host=127.0.0.1 bogus=1 password={s}")
    assert refused.exit_code == 2 and s not in refused.output and 'invalid connection option "bogus"' in refused.output
    assert not os.path.exists(f"host=127.0.0.1 bogus=1 password={s}")
