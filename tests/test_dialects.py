"""The models are one file each; sparkify.warehouse.dialects writes them in each backend's SQL."""

from __future__ import annotations

from importlib import resources

import pytest

from sparkify.warehouse.dialects import DIALECTS, expand
from sparkify.warehouse.sqlfiles import MATCHES_VIEW, MODELS, REMATCH, model_statements, star_statements

ALL_MODELS = (*MODELS, REMATCH, MATCHES_VIEW)


def test_there_is_one_file_per_model_and_no_dialect_copies() -> None:
    sql = resources.files("sparkify") / "sql"
    for model in ALL_MODELS:
        assert (sql / "models" / f"{model}.sql").is_file()
        for dialect in DIALECTS:
            assert not (sql / dialect / "models").is_dir(), f"sql/{dialect}/models must not exist"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_macro_is_expanded(dialect: str) -> None:
    for model in ALL_MODELS:
        for statement in model_statements(model, dialect):
            assert "{{" not in statement and "}}" not in statement, (model, statement)


def test_the_pieces_differ_only_where_the_dialects_do() -> None:
    assert expand("SELECT {{ epoch_ms(e.ts) }}", "duckdb") == ["SELECT epoch_ms(e.ts)"]
    assert expand("SELECT {{ epoch_ms(e.ts) }}", "redshift") == [
        "SELECT (TIMESTAMP 'epoch' + (e.ts) * INTERVAL '0.001 second')"]
    assert expand("WITH x AS {{ reused_cte() }} (SELECT 1) SELECT 1", "redshift") == [
        "WITH x AS  (SELECT 1) SELECT 1"]
    assert expand("WITH x AS {{ reused_cte() }} (SELECT 1) SELECT 1", "postgresql") == [
        "WITH x AS MATERIALIZED (SELECT 1) SELECT 1"]
    assert expand("SELECT {{ this_load() }}", "duckdb") == ["SELECT (SELECT MAX(load_id) FROM staging.loads)"]
    # what a model reads: PostgreSQL from settings its build_star sets (test_load_bounds.py), the
    # others from the tables themselves
    assert expand("WHERE load_id >= {{ loads_to_read(analytics.users) }}", "postgresql") == [
        "WHERE load_id >= CAST(current_setting('sparkify.loads_from_users') AS BIGINT)"]
    assert expand("WHERE load_id >= {{ loads_to_read(analytics.users) }}", "redshift") == [
        "WHERE load_id >= (SELECT COALESCE(MAX(load_id), 0) FROM staging.loads "
        "WHERE EXISTS (SELECT 1 FROM analytics.users))"]
    assert expand("WHERE t >= {{ this_load_since() }}", "postgresql") == [
        "WHERE t >= epoch_ms(CAST(NULLIF(current_setting('sparkify.load_since'), '') AS BIGINT))"]
    assert expand("WHERE t >= {{ this_load_since() }}", "duckdb") == [
        "WHERE t >= epoch_ms((SELECT MIN(ts) FROM staging.staging_events "
        "WHERE load_id = (SELECT MAX(load_id) FROM staging.loads)))"]
    assert expand("SELECT {{ clean(COALESCE(t.fixed, e.song)) }}", "postgresql") == [
        "SELECT NULLIF(TRIM(COALESCE(t.fixed, e.song)), '')"]
    model = "{{ replace_by(id) }}\nINSERT INTO analytics.t (id, name) SELECT 1, 'a, b'"
    assert expand(model, "duckdb") == ["DELETE FROM analytics.t", "INSERT INTO analytics.t (id, name)\nSELECT 1, 'a, b'"]
    postgres = expand(model, "postgresql")
    assert any("ON CONFLICT (id) DO UPDATE SET name = excluded.name" in s for s in postgres)
    redshift = expand(model, "redshift")
    assert any(s.startswith("MERGE INTO analytics.t USING \"#model_t\" AS m ON analytics.t.id = m.id") for s in redshift)
    assert redshift[-1] == "DROP TABLE \"#model_t\""


def test_mistakes_in_a_model_are_named() -> None:
    with pytest.raises(ValueError, match="unknown SQL macro"):
        expand("SELECT {{ nope(x) }}", "duckdb")
    with pytest.raises(ValueError, match="must come before INSERT INTO"):
        expand("{{ replace_by(id) }}\nDELETE FROM t", "duckdb")
    with pytest.raises(ValueError, match="takes a table name"):
        expand("SELECT {{ loads_to_read(analytics.x'; DROP) }}", "postgresql")
    with pytest.raises(ValueError, match="takes a table name of the star"):
        expand("SELECT {{ loads_to_read(staging.loads) }}", "duckdb")
    with pytest.raises(ValueError, match="unknown SQL dialect"):
        expand("SELECT 1", "oracle")


def test_every_backend_builds_the_models_in_one_order() -> None:
    orders = {d: [m for m, _ in star_statements(d, True)] for d in DIALECTS}
    firsts = {d: list(dict.fromkeys(o)) for d, o in orders.items()}
    assert firsts["duckdb"] == firsts["postgresql"] == firsts["redshift"] == [
        "songs", "artists", "users", "songplays", REMATCH, "time", "page_views"]
    assert [m for m, _ in star_statements("duckdb", False)][0] == "users"
