"""Read commands never write on Redshift either (issue 17 item 3): the issue's attacks through
`sql` and `check` against a loaded warehouse behind the strict Redshift stand-in, which runs
TRUNCATE's implicit commit as Redshift does; `sql --write` is the one way to write."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import run_cli
from tests.redshift_standin.fixtures import (DATA, ROLE, STAGING, aws_env, cloud, moto_endpoint,  # noqa: F401
                                             standin)
from tests.redshift_standin.standin import Standin
from tests.test_read_only import ATTACKS

#: Redshift's own ways round a READ ONLY transaction, beside the issue's.
REDSHIFT_ATTACKS = [
    *ATTACKS,
    "TRUNCATE analytics.users",
    "SELECT 1; TRUNCATE analytics.users",
    "BEGIN READ ONLY; TRUNCATE analytics.users",
    "(SELECT 1); DELETE FROM analytics.users",
    "SELECT * INTO analytics.mine FROM analytics.users",
]


def _loaded(standin: Standin) -> str:
    url = standin.url(iam_role=ROLE, staging=STAGING)
    loaded = run_cli("etl", "--warehouse", url, "--songs", f"s3://{DATA}/song_data", "--logs", f"s3://{DATA}/log_data")
    assert loaded.exit_code == 0, loaded.output
    return url


def _users(standin: Standin) -> int:
    return int(standin.rows("SELECT count(*) FROM analytics.users")[0][0])


def test_sql_and_check_cannot_write_on_redshift(standin: Standin, tmp_path: Path) -> None:
    url = _loaded(standin)
    before = _users(standin)
    for attack in REDSHIFT_ATTACKS:
        result = run_cli("sql", attack, "--warehouse", url)
        assert result.exit_code == 2, (attack, result.output)
        assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1, attack
        assert _users(standin) == before > 0, attack
        assert standin.rows("SELECT to_regclass('analytics.mine')") == [(None,)], attack

        checks = tmp_path / "checks.sql"
        checks.write_text(f"-- check: sneaky\n{attack};\n", encoding="utf-8")
        checked = run_cli("check", "--no-builtin", "--checks-file", str(checks), "--warehouse", url)
        assert checked.exit_code != 0 and "Traceback" not in checked.output, (attack, checked.output)
        assert _users(standin) == before, attack
    # the refusals are the tool's or the server's read-only transaction: none is Redshift refusing SQL
    # it would have run (the PostgreSQL-only attacks, DO and set_config, fail as they would there)
    assert not standin.crashes
    created = run_cli("sql", "--write", "CREATE TABLE public.scratch (x INT)", "--warehouse", url)
    assert created.exit_code == 0, created.output
    assert standin.rows("SELECT to_regclass('public.scratch') IS NOT NULL") == [(True,)]
    # a script with --write is one transaction: rolled back at the first error, and never cut in
    # two by a TRUNCATE (which commits on Redshift)
    failed = run_cli("sql", "--write", "INSERT INTO public.scratch VALUES (1); SELECT * FROM public.nowhere",
                     "--warehouse", url)
    assert failed.exit_code == 2 and "nowhere" in failed.output and "Traceback" not in failed.output
    assert standin.rows("SELECT count(*) FROM public.scratch") == [(0,)]
    cut = run_cli("sql", "--write", "INSERT INTO public.scratch VALUES (1); TRUNCATE public.scratch",
                  "--warehouse", url)
    assert cut.exit_code == 2 and "run it alone, or use DELETE" in cut.output, cut.output
    done = run_cli("sql", "--write", "INSERT INTO public.scratch VALUES (1); INSERT INTO public.scratch VALUES (2)",
                   "--warehouse", url)
    assert done.exit_code == 0, done.output
    assert standin.rows("SELECT count(*) FROM public.scratch") == [(2,)]


def test_read_commands_still_read_on_redshift(standin: Standin) -> None:
    """Through the extended protocol, with several statements, quotes, comments and a backslash."""
    url = _loaded(standin)
    result = run_cli("sql", "SELECT 1 AS one; -- a ; comment\nSELECT 'a;b' AS s, 'x\\\\y' AS b, count(*) AS n FROM users",
                     "--format", "csv", "--warehouse", url)
    assert result.exit_code == 0, result.output
    first, second = result.output.split("\n\n")  # each statement's result, in order
    assert first.splitlines() == ["one", "1"]
    assert second.splitlines() == ["s,b,n", f"a;b,x\\y,{_users(standin)}"]
    for args in (["report"], ["query", "top_songs"], ["check"], ["status"], ["loads"], ["errors"]):
        done = run_cli(*args, "--warehouse", url)
        assert done.exit_code == 0, (args, done.output)
    standin.assert_accepted()
