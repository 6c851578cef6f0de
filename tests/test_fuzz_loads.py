"""Property tests: malformed and adversarial lines mixed with good ones never crash a load, never
lose a line, and always land good lines in staging and bad ones in load_errors."""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sparkify.pipeline.load import run_etl
from sparkify.staging.tables import EVENTS
from sparkify.warehouse.duckdb import DuckDBWarehouse
from sparkify.warehouse.postgres import PostgresWarehouse
from tests.oddities import song
from tests.pg import fresh_database
from tests.test_reliable_loads import star

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


# -- Issue 13: every kind of bad line, on DuckDB and PostgreSQL, against a load of the good lines --

def _event(**changes: object) -> bytes:
    return orjson.dumps({"page": "NextSong", "ts": 1542837407796, "userId": "7", "sessionId": 3,
                         "itemInSession": 1, "song": "s", "artist": "a", "length": 1.5, "level": "free", **changes})


#: Lines RFC 8259 rejects (or that fail a type), each made from a good event.
lenient = st.sampled_from([
    _event()[:-1] + b",}",  # trailing comma
    _event(extra=[1, 2]).replace(b"[1,2]", b"[1,2,]"),
    _event().replace(b'"length":1.5', b'"length":NaN'),
    _event().replace(b'"length":1.5', b'"length":-Infinity'),
    _event(extra=1).replace(b'"extra":1', b'"extra":nan'),
    _event().replace(b'"sessionId":3', b'"sessionId":03'),
    _event().replace(b'"sessionId":3', b'"sessionId":+3'),
    _event().replace(b'"length":1.5', b'"length":.5'),
    _event().replace(b'"sessionId":3', b'"sessionId":0x10'),
    _event()[:-1] + b" /* comment */}",
    _event() + b" // comment",
    _event().replace(b'"page"', b"'page'"),
    _event().replace(b'"page"', b"page"),
    _event().replace(b'"song":"s"', b'"song":"\\ud800"'),  # a lone surrogate
    _event(song="a\u0000b"),
    _event().replace(b'"length":1.5', b'"length":1e400'),
    _event().replace(b'"ts":1542837407796', b'"ts":1180591620717411303424'),
    _event(ts="later"),
    _event(userId="x"),
    _event(level={"a": 1}),
    b"\x0c", "\u2028".encode(), "\u00a0".encode(), "\u3000".encode(), b"\x1c", b"\x0b", "\x85".encode(),
    b"[" * 300 + b"]" * 300,
    _event() + _event(),
])
#: Good lines that only look odd: deep nesting and duplicates under any key, lenient-looking text.
odd_good = st.sampled_from([
    _event(extra=1).replace(b'"extra":1', b'"extra":' + b"[" * 300 + b"]" * 300),
    _event().replace(b'"page":"NextSong"', b'"page":"NextSong","page":"Home"'),
    _event(song="NaN, Infinity ,}"), _event(artist="x,]"), _event(location="inf"),
    _event(length=1e308), _event(extra=1).replace(b'"extra":1', b'"extra":123456789012345678901234567890'),
])
#: A value of the wrong type in any field of the event.
_WRONG = {"text": [{"a": 1}, [1, 2]], "integer": ["x", 3.5, True, [1]], "double": ["x", False, {"a": 1}],
          "digits": ["abc", "-1", 12.5, "99999999999999999999"]}
wrong_type = st.sampled_from([(f.key, value) for f in EVENTS.fields for value in _WRONG[f.type]]).map(
    lambda kv: _event(**{kv[0]: kv[1]}))
any_line = st.one_of(good_event.map(lambda b: (b, True)), odd_good.map(lambda b: (b, True)),
                     bad_line.map(lambda b: (b, False)), lenient.map(lambda b: (b, False)),
                     wrong_type.map(lambda b: (b, False)))


def _write_logs(folder: Path, files: list) -> tuple[set, set, list]:
    """Write the generated files; (good lines, bad lines, good-only contents) with line numbers."""
    good, bad, only_good = set(), set(), []
    for index, (lines, eol) in enumerate(files):
        path = folder / f"{index}.json"
        path.write_bytes(eol.join(b for b, _ in lines))
        only_good.append(b"\n".join(b for b, ok in lines if ok))
        for number, (_, ok) in enumerate(lines, start=1):
            if ok is True:
                good.add((str(path), number))
            elif ok is False:
                bad.add((str(path), number))
    return good, bad, only_good


def _staging(query: Callable[[str], list]) -> tuple[list, list]:
    return (sorted(query("SELECT source_file, source_line, ts, user_id, session_id, item_in_session, song, "
                         "artist, length, level, page FROM staging.staging_events")),
            sorted(query('SELECT file, line, "column", reason, raw_text FROM staging.load_errors')))


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    with fresh_database("sparkify_fuzz") as url:
        yield url


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(files=st.lists(st.tuples(st.lists(st.one_of(any_line, blank.map(lambda b: (b, None))), max_size=15),
                                st.sampled_from([b"\n", b"\r\n", b"\r"])), min_size=1, max_size=3))
def test_duckdb_and_postgres_stage_and_reject_the_same_lines(tmp_path_factory, pg_url: str, files) -> None:
    folder = tmp_path_factory.mktemp("both")
    logs, good_logs = folder / "logs", folder / "good"
    logs.mkdir()
    good_logs.mkdir()
    expected_good, expected_bad, only_good = _write_logs(logs, files)
    for index, content in enumerate(only_good):
        (good_logs / f"{index}.json").write_bytes(content)
    duck = str(folder / "w.duckdb")
    with DuckDBWarehouse(duck) as wh:
        summary = run_etl(wh, None, str(logs), max_errors=10**6)
    with duckdb.connect(duck, read_only=True) as con:
        on_duckdb = _staging(lambda sql: con.execute(sql).fetchall())
    with PostgresWarehouse(pg_url) as wh:
        run_etl(wh, None, str(logs), max_errors=10**6, full_refresh=True)
        on_postgres = _staging(lambda sql: wh.query(sql).rows)
    assert {(f, line) for f, line, *_ in on_duckdb[0]} == expected_good
    assert {(f, line) for f, line, *_ in on_duckdb[1]} == expected_bad
    assert all(reason for *_, reason, _ in on_duckdb[1])
    assert summary.records == summary.rows + summary.rejected == len(expected_good) + len(expected_bad)
    assert on_duckdb == on_postgres
    # The star schema equals a load of the good lines alone.
    reference = str(folder / "good.duckdb")
    with DuckDBWarehouse(reference) as wh:
        if any(only_good):
            run_etl(wh, None, str(good_logs), max_errors=0)
        else:
            wh.create_tables()
    assert star(duck) == star(reference)


@pytest.mark.parametrize("backend", ["duckdb", "postgresql"])
def test_ten_megabyte_lines(tmp_path: Path, pg_url: str, backend: str) -> None:
    """A few 10 MB lines (explicit cases, not many examples): a good one staged whole, a cut-off
    one and a NaN one rejected, on both backends."""
    logs = tmp_path / "logs"
    logs.mkdir()
    big = "x" * (10 * 2**20)
    lines = [_event(song=big), _event(song=big)[:-2], _event(song=big).replace(b'"length":1.5', b'"length":NaN'),
             _event(itemInSession=2)]
    (logs / "big.json").write_bytes(b"\n".join(lines))
    url = str(tmp_path / "w.duckdb") if backend == "duckdb" else pg_url
    wh = DuckDBWarehouse(url) if backend == "duckdb" else PostgresWarehouse(url)
    with wh:
        summary = run_etl(wh, None, str(logs), max_errors=10, full_refresh=True)
        staged = wh.query("SELECT source_line, length(song) FROM staging.staging_events ORDER BY 1").rows
        rejected = wh.query("SELECT line, reason FROM staging.load_errors ORDER BY 1").rows
    assert (summary.records, summary.rows, summary.rejected) == (4, 2, 2)
    assert [tuple(r) for r in staged] == [(1, 10 * 2**20), (4, 1)]
    assert [tuple(r) for r in rejected] == [(2, "invalid JSON"), (3, "invalid JSON: NaN and Infinity are not JSON numbers")]


# -- song files: every layout and odd file a clear reject or one clear line, never a crash or a silent skip --

song_record = st.one_of(
    st.builds(lambda i: (orjson.dumps(song(song_id=f"SO{i}")), True), st.integers(0, 10**6)),
    st.builds(lambda i, bad: (bad.replace(b"SOX", b"SO%d" % i), False), st.integers(0, 10**6), st.sampled_from([
        orjson.dumps(song(song_id="SOX")).replace(b'"duration":218.93179', b'"duration":NaN'),
        orjson.dumps(song(song_id="SOX"))[:-1] + b",}",
        orjson.dumps(song(song_id="SOX", duration="long")),
        orjson.dumps(song(song_id="SOX")).replace(b'"year":0', b'"year":123456789012345678901234567890')
        .replace(b'"artist_latitude":null', b'"artist_latitude":Infinity'),
        b'{"song_id": "SOX", "title": ' + b"[" * 300 + b"]" * 300 + b"}",
    ])),
)
layout = st.sampled_from(["ndjson", "concatenated", "array", "array-pretty", "pretty", "cr"])
odd_file = st.sampled_from(["empty", "utf-16", "gzip", "folder", "loop", "dangling", "fifo"])


def _song_file(records: list[bytes], how: str) -> bytes:
    if how == "array":
        return b"[" + b",".join(records) + b"]"
    if how == "array-pretty":
        return b"[\n  " + b",\n  ".join(records) + b"\n]"
    if how == "pretty":
        return b"\n".join(orjson.dumps(orjson.loads(r), option=orjson.OPT_INDENT_2) if b"NaN" not in r else r
                          for r in records)
    return {"ndjson": b"\n", "concatenated": b"", "cr": b"\r"}[how].join(records)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(files=st.lists(st.tuples(st.lists(song_record, min_size=1, max_size=4, unique_by=lambda r: r[0]), layout),
                      min_size=1, max_size=3),
       odd=st.lists(odd_file, max_size=3, unique=True))
def test_song_files_in_any_layout_stage_or_reject_every_record(tmp_path_factory, capsys, files, odd) -> None:
    folder = tmp_path_factory.mktemp("songs")
    songs = folder / "songs"
    songs.mkdir()
    good, bad = set(), 0
    for index, (records, how) in enumerate(files):
        if how == "pretty" and any(not ok for _, ok in records):
            how = "ndjson"  # pretty-printing needs parseable records
        (songs / f"{index}.json").write_bytes(_song_file([r for r, _ in records], how))
        good |= {orjson.loads(r)["song_id"] for r, ok in records if ok}
        bad += sum(1 for _, ok in records if not ok)
    rejects_expected = bad
    warnings_expected = 0
    for kind in odd:
        path = songs / f"odd-{kind}.json"
        if kind == "empty":
            path.write_bytes(b"")
        elif kind == "utf-16":
            path.write_bytes(orjson.dumps(song(song_id="SOU")).decode().encode("utf-16"))
            rejects_expected += 1
        elif kind == "gzip":
            path.write_bytes(gzip.compress(orjson.dumps(song(song_id="SOG"))))
            rejects_expected += 1
        elif kind == "folder":
            path.mkdir()
            warnings_expected += 1
        elif kind == "loop":
            path.symlink_to(path)
            warnings_expected += 1
        elif kind == "dangling":
            path.symlink_to(folder / "nowhere")
            warnings_expected += 1
        elif kind == "fifo":
            os.mkfifo(path)
            warnings_expected += 1
    capsys.readouterr()
    with DuckDBWarehouse(str(folder / "w.duckdb")) as wh:
        summary = run_etl(wh, str(songs), None, max_errors=10**6)
        staged = {r[0] for r in wh.query("SELECT song_id FROM staging.staging_songs").rows}
        reasons = [r[0] for r in wh.query("SELECT reason FROM staging.load_errors").rows]
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning: ")]
    assert staged == good
    assert len(reasons) == rejects_expected and all(reasons)
    assert summary.records == summary.rows + summary.rejected
    assert len(warnings) == warnings_expected, warnings


def test_postgres_stages_in_parts_as_duckdb_does(tmp_path: Path, pg_url: str, monkeypatch) -> None:
    """PostgreSQL staging copies the event files in parts while it parses the next one
    (pg_staging._copy_fast): with every file a part of its own, a file with a bad line in a middle
    part still goes the careful way alone (its fast rows taken out again, its bad line rejected),
    '' stays apart from NULL, and staging equals DuckDB's, row for row."""
    from sparkify.warehouse import pg_staging

    logs = tmp_path / "logs"
    logs.mkdir()
    days = [
        [_event(itemInSession=i, userId=str(i), song="", artist=None) for i in range(3)],
        [_event(itemInSession=1), _event(itemInSession=2)[:-1] + b",}", _event(itemInSession=3, level="")],
        [_event(itemInSession=i, location="Tulsa, OK", userAgent='"Mozilla" x') for i in range(4)],
        [_event(itemInSession=9, page="Home")],
    ]
    for day, lines in enumerate(days, start=1):
        (logs / f"2018-11-0{day}-events.json").write_bytes(b"\n".join(lines) + b"\n")
    monkeypatch.setattr(pg_staging, "PART_BYTES", 1)  # each file alone: four parts, two databases in turn
    parsed: list[tuple[list[str], str]] = []
    parse = pg_staging.PostgresStaging._parse_fast

    def spy(self, source, files, load_id, database):  # type: ignore[no-untyped-def]
        parsed.append(([Path(f.uri).name for f in files], database))
        return parse(self, source, files, load_id, database)

    monkeypatch.setattr(pg_staging.PostgresStaging, "_parse_fast", spy)
    duck = str(tmp_path / "w.duckdb")
    with DuckDBWarehouse(duck) as wh:
        run_etl(wh, None, str(logs), max_errors=10)
    with duckdb.connect(duck, read_only=True) as con:
        on_duckdb = _staging(lambda sql: con.execute(sql).fetchall())
        nulls = con.execute("SELECT count(*) FILTER (song = ''), count(*) FILTER (artist IS NULL), "
                            "count(*) FILTER (level = '') FROM staging.staging_events").fetchall()[0]
    with PostgresWarehouse(pg_url) as wh:
        summary = run_etl(wh, None, str(logs), max_errors=10, full_refresh=True)
        on_postgres = _staging(lambda sql: wh.query(sql).rows)
        assert tuple(wh.query("SELECT count(*) FILTER (WHERE song = ''), count(*) FILTER (WHERE artist IS NULL), "
                              "count(*) FILTER (WHERE level = '') FROM staging.staging_events").rows[0]) == nulls
    assert parsed == [([f"2018-11-0{day}-events.json"], pg_staging.PARTS[(day - 1) % 2]) for day in range(1, 5)]
    assert nulls == (3, 3, 1)
    assert summary.records == 11 and summary.rows == 10 and summary.rejected == 1
    assert [(Path(f).name, line) for f, line, *_ in on_postgres[1]] == [("2018-11-02-events.json", 2)]
    assert len(on_postgres[0]) == 10
    assert on_duckdb == on_postgres
