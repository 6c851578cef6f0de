"""Property tests: malformed and adversarial lines mixed with good ones never crash a load, never
lose a line, and always land good lines in staging and bad ones in load_errors."""

from __future__ import annotations

from pathlib import Path

import duckdb
import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sparkify.pipeline.load import run_etl
from sparkify.warehouse.duckdb import DuckDBWarehouse

# NUL is left out: text holding it is rejected on purpose (no warehouse but DuckDB can store it).
text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)
maybe = lambda s: st.one_of(st.none(), s)  # noqa: E731
i64 = st.integers(-(2**63), 2**63 - 1)  # what JSON libraries (and orjson) can write

good_event = st.fixed_dictionaries(
    {},
    optional={
        "artist": maybe(text), "auth": maybe(text), "firstName": maybe(text), "gender": maybe(text),
        "itemInSession": maybe(st.integers(0, 10**6)), "lastName": maybe(text),
        "length": maybe(st.floats(0, 1e4, allow_nan=False)), "level": maybe(st.sampled_from(["free", "paid"])),
        "location": maybe(text), "method": maybe(st.sampled_from(["PUT", "GET"])),
        "page": maybe(st.sampled_from(["NextSong", "Home", "Logout"])),
        "registration": maybe(st.integers(0, 2 * 10**12).map(float)),
        "sessionId": maybe(st.integers(0, 10**6)), "song": maybe(text), "status": maybe(st.integers(100, 599)),
        "ts": st.integers(10**12, 2 * 10**12),
        "userAgent": maybe(text), "userId": st.one_of(st.just(""), st.integers(1, 10**6).map(str)),
    },
).map(orjson.dumps)

bad_field = st.one_of(
    st.tuples(st.just("ts"), text.map(lambda s: "not a number " + s)),
    st.tuples(st.just("sessionId"), st.floats(0.1, 0.9).map(lambda f: 7 + f)),
    st.tuples(st.just("itemInSession"), st.booleans()),
    st.tuples(st.just("length"), st.just("long")),
    st.tuples(st.just("userId"), text.filter(lambda s: not s.isdigit() and s != "")),
    st.tuples(st.just("page"), st.dictionaries(text, i64, min_size=1, max_size=2)),
)
bad_line = st.one_of(
    bad_field.map(lambda kv: orjson.dumps({"ts": 1542837407796, kv[0]: kv[1]})),
    text.map(lambda s: ("# " + s).encode().replace(b"\n", b" ").replace(b"\r", b" ")),
    st.lists(i64, max_size=3).map(orjson.dumps),
    i64.map(orjson.dumps),
    good_event.map(lambda line: line[:-1]),  # cut short
    good_event.map(lambda line: line.replace(b"{", b'{"artist": "\xff\xfe",', 1)),  # not UTF-8
)
line = st.one_of(good_event.map(lambda b: (b, True)), bad_line.map(lambda b: (b, False)))
blank = st.sampled_from([b"", b"   ", b"\t"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(
    files=st.lists(
        st.tuples(st.lists(st.one_of(line, blank.map(lambda b: (b, None))), max_size=25), st.booleans(),
                  st.booleans(), st.booleans()),
        min_size=1, max_size=4,
    )
)
def test_every_line_is_staged_or_rejected(tmp_path_factory, files) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    logs = folder / "logs"
    logs.mkdir()
    expected_good, expected_bad = set(), set()
    for index, (lines, crlf, bom, final_newline) in enumerate(files):
        path = logs / f"{index}.json"
        eol = b"\r\n" if crlf else b"\n"
        content = eol.join(b for b, _ in lines) + (eol if final_newline and lines else b"")
        path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + content)
        for number, (_, good) in enumerate(lines, start=1):
            if good is True:
                expected_good.add((str(path), number))
            elif good is False:
                expected_bad.add((str(path), number))
    with DuckDBWarehouse(str(folder / "w.duckdb")) as wh:
        summary = run_etl(wh, None, str(logs), max_errors=10**6)
    with duckdb.connect(str(folder / "w.duckdb"), read_only=True) as con:
        staged = set(con.execute("SELECT source_file, source_line FROM staging.staging_events").fetchall())
        rejected = set(con.execute("SELECT file, line FROM staging.load_errors").fetchall())
        reasons = [r[0] for r in con.execute("SELECT reason FROM staging.load_errors").fetchall()]
    assert staged == expected_good
    assert rejected == expected_bad
    assert all(reasons)
    assert summary.records == summary.rows + summary.rejected == len(expected_good) + len(expected_bad)


def test_raw_text_of_rejects_survives_round_trip(tmp_path: Path) -> None:
    """Quotes, backslashes and non-ASCII text in a rejected line are kept as they were."""
    odd = ['{"ts": "x\\"y\\\\z"}', "not json: ‘quotes’ and Björk", "[1, 2, {\"a\": \"é\"}]"]
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "odd.json").write_text("\n".join(odd), encoding="utf-8")
    with DuckDBWarehouse(str(tmp_path / "w.duckdb")) as wh:
        run_etl(wh, None, str(logs), max_errors=10)
        raws = [r[0] for r in wh.query("SELECT raw_text FROM staging.load_errors ORDER BY line").rows]
    assert raws == odd


tricky_text = st.one_of(text, st.sampled_from(["[Untitled]", "[1, 2]", "{}", '{"a": 1}', "a\u0000b", "", " "]))
tricky_event = st.fixed_dictionaries(
    {"page": st.sampled_from(["NextSong", "Home"]), "ts": st.integers(10**12, 2 * 10**12)},
    optional={
        "artist": maybe(tricky_text), "song": maybe(tricky_text), "location": maybe(tricky_text),
        "itemInSession": maybe(st.one_of(st.integers(0, 10**6), st.floats(0, 10, allow_nan=False))),
        "length": maybe(st.one_of(st.floats(allow_nan=True, allow_infinity=False), text)),
        "sessionId": maybe(st.one_of(i64, st.booleans(), text)),
        "userId": maybe(st.one_of(st.just(""), st.integers(-5, 10**6).map(str), st.integers(0, 99), text)),
    },
).map(orjson.dumps)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(files=st.lists(st.lists(st.one_of(tricky_event, tricky_event, bad_line, blank), max_size=12),
                      min_size=1, max_size=3))
def test_fast_and_careful_staging_agree(tmp_path_factory, files) -> None:
    """DuckDB's own reader (tried first for event logs) stages exactly what the careful path does."""
    folder = tmp_path_factory.mktemp("agree")
    logs = folder / "logs"
    logs.mkdir()
    for index, lines in enumerate(files):
        (logs / f"{index}.json").write_bytes(b"\n".join(lines))
    seen = []
    for fast in (True, False):
        path = str(folder / f"{fast}.duckdb")
        with DuckDBWarehouse(path) as wh:
            wh.fast_events = fast
            run_etl(wh, None, str(logs), max_errors=10**6)
        with duckdb.connect(path, read_only=True) as con:
            seen.append((
                con.execute("SELECT * EXCLUDE (load_id) FROM staging.staging_events ORDER BY ALL").fetchall(),
                con.execute('SELECT file, line, "column", reason, raw_text FROM staging.load_errors ORDER BY ALL').fetchall(),
            ))
    assert seen[0] == seen[1]
