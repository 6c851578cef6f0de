"""`sparkify etl --dry-run`: the SQL of a full load, for any backend, connecting to nothing, recorded
from the same backend code that runs a load (and shown to be what a real load sends)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from sparkify.pipeline.dry_run import plan
from sparkify.pipeline.load import run_etl
from sparkify.warehouse.sqlfiles import is_prune, model_statements, split_statements
from tests.conftest import run_cli, run_sparkify
from tests.pg import fresh_database

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
    assert "read_ndjson_objects(:file, ignore_errors=true)" in out  # the fast way, tried first for logs
    for statement in model_statements("songplays", "duckdb")[1:]:  # a first load has no plays to prune
        assert statement.strip() + ";" in out  # the exact model SQL the load runs
    assert "INSERT INTO staging.text_repairs (raw_text, fixed) VALUES (:raw_text, :fixed);" in out
    assert out.rstrip().endswith("COMMIT;")


def test_postgresql_plan_needs_no_server(sample: Path) -> None:
    result = run_cli("etl", "--logs", str(sample / "log_data"), "--warehouse",
                     "postgresql://nobody@127.0.0.1:9/none", "--dry-run", env=NOWHERE)
    assert result.exit_code == 0, result.output
    for statement in model_statements("users", "postgresql"):
        if not is_prune(statement):  # a first load takes no staged event away
            assert statement.strip() + ";" in result.output
    assert "model songs" not in result.output  # no songs given: songs and artists are not rebuilt


def test_redshift_plan_needs_no_cluster_nor_s3_and_parses() -> None:
    result = run_sparkify("etl", "--songs", "s3://udacity-dend/song_data", "--logs", "s3://udacity-dend/log_data",
                          "--warehouse", REDSHIFT, "--max-errors", "12", "--dry-run", env=NOWHERE, timeout=120)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "objects under s3://udacity-dend/log_data not yet loaded" in out
    assert "FROM 's3://my-staging/sparkify/manifests/load-:load_id/songs-0001.manifest'" in out
    assert "FROM 's3://my-staging/sparkify/manifests/load-:load_id/events-0002.manifest'" in out
    # everything the backend sends, the repair of mangled text included (issue 12 item 13)
    assert "~ '[" in out and "INSERT INTO staging.text_repairs (raw_text, fixed) VALUES (:raw_text, :fixed);" in out
    assert "MAXERROR 100000" in out and "MANIFEST" in out
    assert "more than --max-errors 12 record(s) in all, it rolls back here" in out
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


@pytest.mark.parametrize("backend", ["duckdb", "postgresql", "redshift"])
def test_full_refresh_shows_the_refresh_the_load_runs(backend: str, sample: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """As run_etl: no separate create-tables step; the drops and creates run inside the load."""
    for name, value in NOWHERE.items():
        monkeypatch.setenv(name, value)
    url, logs = {"duckdb": (str(tmp_path / "w.duckdb"), str(sample / "log_data")),
                 "postgresql": ("postgresql://nobody@127.0.0.1:9/none", str(sample / "log_data")),
                 "redshift": (REDSHIFT, "s3://udacity-dend/log_data")}[backend]
    steps = plan(url, None, logs, full_refresh=True)
    assert not any(s.comment.startswith("create tables") for s in steps)
    refresh = [s for s in steps if s.comment.startswith("--full-refresh: the tables are dropped and created again")]
    assert any(s.sql.lstrip().upper().startswith("CREATE TABLE") for s in refresh), [s.sql for s in refresh][:5]
    first_load = plan(url, None, logs)
    assert first_load[0].comment == "create tables (only when the warehouse has no Sparkify tables yet)"


def test_dry_run_still_needs_inputs(tmp_path: Path) -> None:
    result = run_cli("etl", "--warehouse", str(tmp_path / "w.duckdb"), "--dry-run")
    assert result.exit_code == 2 and "--songs" in result.output


def test_redshift_plan_without_a_role_shows_a_stand_in_and_says_so() -> None:
    result = run_cli("etl", "--logs", "s3://udacity-dend/log_data", "--dry-run", "--warehouse",
                     "redshift://awsuser@host.example.com:5439/dev", env=NOWHERE)
    assert result.exit_code == 0, result.output
    assert "-- iam_role= is not set: arn:aws:iam::000000000000:role/your-redshift-s3-read-role stands in" in result.output
    assert "IAM_ROLE 'arn:aws:iam::000000000000:role/your-redshift-s3-read-role'" in result.output
    assert "-- staging= is not set" in result.output


@pytest.mark.parametrize("url", ["redshift://u:hunter2hunter2@h.example.com:5439/db"])
def test_a_password_in_the_url_is_refused_and_not_echoed(url: str) -> None:
    result = run_cli("etl", "--logs", "s3://udacity-dend/log_data", "--dry-run", "--warehouse", url)
    assert result.exit_code == 2
    assert "hunter2hunter2" not in result.output


class Recording:
    """A live connection that also keeps every statement it is sent (parameters apart)."""

    def __init__(self, con: object) -> None:
        self.con, self.sent = con, []

    def execute(self, sql: str, params: object = None) -> object:
        self.sent.append(sql)
        return self.con.execute(sql, params) if params is not None else self.con.execute(sql)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self.con, name)


def _star_part(statements: list[str], first: str, last: str) -> list[str]:
    start = next(i for i, s in enumerate(statements) if s.strip().startswith(first))
    end = next(i for i, s in enumerate(statements) if i > start and s.strip().startswith(last))
    return [s.strip() for s in statements[start:end + 1]]


@pytest.mark.parametrize("kind", ["duckdb", "postgresql"])
def test_the_plan_is_what_a_real_load_sends(kind: str, sample: Path, tmp_path: Path) -> None:
    """The star's build in the plan, statement for statement, is what a real first load sent."""
    from sparkify.warehouse import connect

    songs, logs = str(sample / "song_data"), str(sample / "log_data")
    first, last = ("SELECT count(*) > 0 FROM analytics.songplays", "UPDATE staging.loads") if kind == "duckdb" \
        else ("SAVEPOINT build_star", "SET CONSTRAINTS ALL IMMEDIATE")
    with fresh_database("sparkify_plan") if kind == "postgresql" else _nothing(str(tmp_path / "w.duckdb")) as url:
        planned = _star_part([s.sql for s in plan(url, songs, logs) if not s.sql.startswith("-- ")], first, last)
        with connect(url) as warehouse:
            recording = Recording(warehouse.con)  # type: ignore[attr-defined]
            warehouse.con = recording  # type: ignore[attr-defined]
            run_etl(warehouse, songs, logs)
        sent = _star_part(recording.sent, first, last)
    assert planned[:-1] == sent[:-1] and len(planned) > 15
    assert planned[-1].split(" SET ")[0] == sent[-1].split(" SET ")[0]


class _nothing:
    def __init__(self, value: str) -> None:
        self.value = value

    def __enter__(self) -> str:
        return self.value

    def __exit__(self, *exc: object) -> None:
        pass


def test_values_printed_into_the_plan_cannot_break_out(tmp_path: Path) -> None:
    """Issue 17 item 4: a newline in an S3 prefix stays inside its comment, a quote in a local path
    stays inside its literal; nothing of the value ever reads as SQL of its own."""
    hostile = "s3://udacity-dend/song_data\nDROP TABLE analytics.songs;"
    logs = tmp_path / "it's here"
    logs.mkdir()
    (logs / "a'b\nDROP TABLE analytics.songs;.json").write_text('{"page": "Home", "ts": 1}\n')
    result = run_cli("etl", "--songs", hostile, "--logs", str(logs), "--warehouse", str(tmp_path / "w.duckdb"),
                     "--dry-run", env=NOWHERE)
    assert result.exit_code == 0, result.output
    out = result.output
    assert not any(line.startswith("DROP TABLE analytics.songs") for line in out.splitlines())
    assert "s3://udacity-dend/song_data\\nDROP TABLE analytics.songs;" in out  # escaped, inside the comment
    assert "it''s here" in out and "a''b' || chr(10) || 'DROP TABLE analytics.songs;.json'" in out
    statements = statements_of(out)
    for statement in statements:
        for parsed in sqlglot.parse(statement.replace(":part.parquet", "part.parquet"), read="duckdb"):
            assert not isinstance(parsed, exp.Drop) or "analytics.songs" not in parsed.sql()
    # Redshift binds S3 URIs into COPY and manifests: such a prefix is refused in one line, before anything
    for bad in (hostile, "s3://udacity-dend/log_data'; DROP TABLE analytics.songs; --"):
        refused = run_cli("etl", "--logs", bad, "--dry-run", "--warehouse", REDSHIFT, env=NOWHERE)
        assert refused.exit_code != 0 and "Traceback" not in refused.output
        assert "DROP TABLE analytics.songs;\n" not in refused.output.replace("'; DROP", "")
        assert "not an s3://bucket/key URI" in refused.output
