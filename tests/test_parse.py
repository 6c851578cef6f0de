"""Parsing records into staging rows: what is accepted, what is rejected, and why."""

from __future__ import annotations

from pathlib import Path

import duckdb
import orjson
import pytest

from sparkify.staging.parse import PARSED, parse_files
from sparkify.inputs.sources import discover
from sparkify.staging.tables import EVENTS, SONGS, Source

GOOD_EVENT = {
    "artist": "Elena", "auth": "Logged In", "firstName": "Lily", "gender": "F", "itemInSession": 5,
    "lastName": "Koch", "length": 269.58322, "level": "paid", "location": "Chicago-Naperville-Elgin, IL-IN-WI",
    "method": "PUT", "page": "NextSong", "registration": 1540919166796.0, "sessionId": 818,
    "song": "Setanta matins", "status": 200, "ts": 1542837407796, "userAgent": "\"Mozilla/5.0\"", "userId": "15",
}
GOOD_SONG = {
    "num_songs": 1, "artist_id": "AR5KOSW1187FB35FF4", "artist_latitude": 49.80388, "artist_longitude": 15.47491,
    "artist_location": "Dubai UAE", "artist_name": "Elena", "song_id": "SOZCTXZ12AB0182364",
    "title": "Setanta matins", "duration": 269.58322, "year": 0,
}


def parse(tmp_path: Path, source: Source, content: bytes, name: str = "f.json") -> list[dict]:
    path = tmp_path / name
    path.write_bytes(content)
    con = duckdb.connect()
    parse_files(con, source, discover(str(path)))
    cursor = con.execute(f"SELECT * FROM {PARSED} ORDER BY line")
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row)) for row in cursor.fetchall()]


def event_line(**changes: object) -> bytes:
    event = {**GOOD_EVENT, **changes}
    return orjson.dumps({k: v for k, v in event.items() if v is not ...})


def test_good_event_is_typed(tmp_path: Path) -> None:
    [row] = parse(tmp_path, EVENTS, event_line())
    assert row["reason"] is None
    assert row["line"] == 1
    assert row["ts"] == 1542837407796
    assert row["registration"] == 1540919166796
    assert row["user_id"] == "15"
    assert row["user_agent"] == '"Mozilla/5.0"'
    assert row["length"] == pytest.approx(269.58322)


def test_absent_keys_are_null_and_logged_out_user_is_empty(tmp_path: Path) -> None:
    [row] = parse(tmp_path, EVENTS, event_line(artist=..., song=..., length=..., userId=""))
    assert row["reason"] is None
    assert (row["artist"], row["song"], row["length"], row["user_id"]) == (None, None, None, "")


@pytest.mark.parametrize(
    ("changes", "column", "fragment"),
    [
        ({"ts": "yesterday"}, "ts", "expected an integer"),
        ({"sessionId": 3.7}, "sessionId", "expected an integer"),
        ({"itemInSession": True}, "itemInSession", "expected an integer"),
        ({"length": "long"}, "length", "expected a number"),
        ({"userId": "abc"}, "userId", "expected a string of digits"),
        ({"page": {"name": "NextSong"}}, "page", "expected text"),
        ({"ts": 18446744073709551615}, "ts", "expected an integer"),
        ({"song": "a\u0000b"}, "song", "text contains a NUL character"),
        ({"userId": "99999999999999999999"}, "userId", "expected a string of digits"),
    ],
)
def test_field_of_the_wrong_type_is_rejected_with_its_column(tmp_path: Path, changes: dict, column: str,
                                                             fragment: str) -> None:
    [row] = parse(tmp_path, EVENTS, event_line(**changes))
    assert row["error_column"] == column
    assert fragment in row["reason"]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"ts": "1542837407796"}, 1542837407796),  # a number written as a string
        ({"ts": 1542837407796.0}, 1542837407796),  # an integral float
        ({"sessionId": " 818 "}, 818),
    ],
)
def test_integers_written_leniently_are_accepted(tmp_path: Path, changes: dict, expected: int) -> None:
    [row] = parse(tmp_path, EVENTS, event_line(**changes))
    assert row["reason"] is None
    key = next(iter(changes))
    assert row[{"ts": "ts", "sessionId": "session_id"}[key]] == expected


def test_invalid_lines_are_rejected_and_the_rest_loads(tmp_path: Path) -> None:
    content = b"\n".join([event_line(), b"{not json", b"[1, 2]", b"", event_line(ts=2), b"   "])
    rows = parse(tmp_path, EVENTS, content)
    assert [(r["line"], r["reason"]) for r in rows] == [
        (1, None), (2, "invalid JSON"), (3, "not a JSON object but ARRAY"), (5, None)]
    assert rows[1]["raw"] == "{not json"


def test_bom_crlf_and_missing_final_newline_are_not_errors(tmp_path: Path) -> None:
    content = b"\xef\xbb\xbf" + event_line() + b"\r\n" + event_line(ts=2) + b"\r\n\r\n" + event_line(ts=3)
    rows = parse(tmp_path, EVENTS, content)
    assert [(r["line"], r["reason"], r["ts"]) for r in rows] == [
        (1, None, 1542837407796), (2, None, 2), (4, None, 3)]


def test_bytes_that_are_not_utf8_reject_only_their_line(tmp_path: Path) -> None:
    content = event_line() + b"\n" + event_line(artist="x").replace(b'"x"', b'"\xff"') + b"\n" + event_line(ts=3)
    rows = parse(tmp_path, EVENTS, content)
    assert [(r["line"], r["reason"] is None) for r in rows] == [(1, True), (2, False), (3, True)]
    assert "UTF-8" in rows[1]["reason"]
    assert rows[0]["file"] == str(tmp_path / "f.json")


def test_raw_is_truncated(tmp_path: Path) -> None:
    [row] = parse(tmp_path, EVENTS, b"{" + b"x" * 5000)
    assert len(row["raw"]) == 1024


def test_song_number_title_is_text(tmp_path: Path) -> None:
    [row] = parse(tmp_path, SONGS, orjson.dumps({**GOOD_SONG, "title": 5}))
    assert row["reason"] is None and row["title"] == "5"
    assert row["year"] == 0 and row["duration"] == pytest.approx(269.58322)


@pytest.mark.parametrize(
    "layout",
    ["ndjson", "concatenated", "pretty", "array", "array-pretty"],
)
def test_song_files_with_several_objects(tmp_path: Path, layout: str) -> None:
    songs = [{**GOOD_SONG, "song_id": f"SO{i}"} for i in range(3)]
    content = {
        "ndjson": b"\n".join(orjson.dumps(s) for s in songs),
        "concatenated": b"".join(orjson.dumps(s) for s in songs),
        "pretty": b"\n".join(orjson.dumps(s, option=orjson.OPT_INDENT_2) for s in songs),
        "array": orjson.dumps(songs),
        "array-pretty": orjson.dumps(songs, option=orjson.OPT_INDENT_2),
    }[layout]
    rows = parse(tmp_path, SONGS, content)
    assert [r["song_id"] for r in rows] == ["SO0", "SO1", "SO2"]
    assert all(r["reason"] is None for r in rows)
    if layout == "ndjson":
        assert [r["line"] for r in rows] == [1, 2, 3]
    if layout == "pretty":
        assert [r["line"] for r in rows] == [1, 13, 25]


def test_song_file_with_garbage_between_objects(tmp_path: Path) -> None:
    content = orjson.dumps(GOOD_SONG) + b"\noops\n" + orjson.dumps({**GOOD_SONG, "song_id": "SO2"})
    rows = parse(tmp_path, SONGS, content)
    assert [(r["line"], r["reason"] is None) for r in rows] == [(1, True), (2, False), (3, True)]
    assert rows[1]["reason"].startswith("invalid JSON")


def test_empty_song_file_has_no_records(tmp_path: Path) -> None:
    assert parse(tmp_path, SONGS, b"  \n") == []


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b'{"page": "Home", "ts": 1542837407796,}', "invalid JSON: a trailing comma"),
        (b'{"page": "Home", "extra": [1, 2,]}', "invalid JSON: a trailing comma"),
        (b'{"page": "Home", "extra": {"a": 1 , }}', "invalid JSON: a trailing comma"),
        (b'{"page": "Home", "length": NaN}', "invalid JSON: NaN and Infinity are not JSON numbers"),
        (b'{"page": "Home", "length": -Infinity}', "invalid JSON: NaN and Infinity are not JSON numbers"),
        (b'{"page": "Home", "song": nan}', "invalid JSON: NaN and Infinity are not JSON numbers"),
        (b'{"page": "Home", "extra": [1, inf]}', "invalid JSON: NaN and Infinity are not JSON numbers"),
        (b'NaN', "invalid JSON: NaN and Infinity are not JSON numbers"),
        (b'{"page": "Home", "ts": 01542837407796}', "invalid JSON"),
        (b'{"page": "Home", "ts": +1}', "invalid JSON"),
        (b'{"page": "Home", "length": .5}', "invalid JSON"),
        (b'{"page": "Home", "ts": 0x10}', "invalid JSON"),
        (b'{"page": "Home" /* comment */}', "invalid JSON"),
        (b'{"page": "Home"} // comment', "invalid JSON"),
        (b"{'page': 'Home'}", "invalid JSON"),
        (b'{page: "Home"}', "invalid JSON"),
        (b'{"page": "Home", "song": "\\ud800"}', "invalid JSON"),  # a lone surrogate
        (b'{"page": "Home", "song": "tab\there"}', "invalid JSON"),  # a raw control character
        (b'{"page": "Home"', "invalid JSON"),
        (b"\x0c", "invalid JSON"),
        ("\u2028".encode(), "invalid JSON"),
    ],
)
def test_only_strict_json_is_staged(tmp_path: Path, line: bytes, reason: str) -> None:
    """RFC 8259, as Redshift's COPY and every JSON library's strict mode: what DuckDB's parser
    also accepts (NaN, Infinity, trailing commas) is rejected with its reason."""
    [row] = parse(tmp_path, EVENTS, line)
    assert row["reason"] == reason


@pytest.mark.parametrize("value", ["NaN, Infinity ,}", "x,]", "inf", '", NaN', "[1,]"])
def test_text_that_only_looks_lenient_is_staged(tmp_path: Path, value: str) -> None:
    [row] = parse(tmp_path, EVENTS, event_line(song=value))
    assert row["reason"] is None and row["song"] == value


def test_a_key_given_twice_keeps_its_first_value(tmp_path: Path) -> None:
    [row] = parse(tmp_path, EVENTS, b'{"page": "Home", "page": "NextSong", "ts": 1, "ts": 2}')
    assert (row["reason"], row["page"], row["ts"]) == (None, "Home", 1)


def test_numbers_too_big_for_their_type(tmp_path: Path) -> None:
    [row] = parse(tmp_path, EVENTS, b'{"page": "Home", "length": 1e400}')
    assert row["reason"] == "length: expected a number, got 1e400"
    [row] = parse(tmp_path, SONGS, b'{"song_id": "S", "title": 12345678901234567890123456789, "artist_name": 1.10}')
    # A number where text belongs: an integer keeps its digits, others read as a double's text.
    assert (row["reason"], row["title"], row["artist_name"]) == (None, "12345678901234567890123456789", "1.1")


@pytest.mark.parametrize("blank", ["\x0c", "\x0b", "\x1c", "\x85", "\u2028", "\u00a0", "\u3000", " \x0c\t"])
def test_a_line_of_characters_json_does_not_call_space_is_a_reject(tmp_path: Path, blank: str) -> None:
    """Lines end at LF only; a line of form feed, U+2028, NBSP … is not blank to JSON: a reject
    with its line number, on the fast path and the careful one (here: a file not all UTF-8)."""
    for name, tail in (("utf8.json", b""), ("latin1.json", b"\n\xff")):
        content = event_line() + b"\n" + blank.encode() + b"\n" + event_line(ts=3) + tail
        rows = parse(tmp_path, EVENTS, content, name=name)
        assert [(r["line"], r["reason"]) for r in rows][:3] == [(1, None), (2, "invalid JSON"), (3, None)]


def song_layouts(records: list[bytes]) -> dict[str, bytes]:
    return {
        "one object per file": records[0],
        "array": b"[" + b",".join(records) + b"]",
        "array, pretty": b"[\n  " + b",\n  ".join(records) + b"\n]\n",
        "one per line": b"\n".join(records),
        "concatenated": b"".join(records),
        "CR only": b"\r".join(records),
    }


SONG_ODDITIES = [
    orjson.dumps(GOOD_SONG),
    b'{"song_id": "S1", "duration": NaN}',
    b'{"song_id": "S2", "duration": Infinity, "year": 123456789012345678901234567890}',
    b'{"song_id": "S3", "duration": 1e400}',
    b'{"song_id": "S4", "title": "first", "title": "second"}',
    b'{"song_id": "S5", "title": 12345678901234567890123, "artist_name": 1.10}',
    b'{"song_id": "S6", "year": 123456789012345678901234567890, "artist_latitude": -nan}',
    b'{"song_id": "S7", "title": ' + b"[" * 300 + b"]" * 300 + b"}",
    b'{"song_id": "S8", "artist_id": "A",}',
    b'{"song_id": "S9", "title": "[1, 2,] NaN"}',
]


@pytest.mark.parametrize("index", range(len(SONG_ODDITIES)))
def test_a_song_record_is_judged_the_same_in_every_layout(tmp_path: Path, index: int) -> None:
    """Issue 18 item 5: the same record staged or rejected identically whatever the layout."""
    record = SONG_ODDITIES[index]
    seen = {}
    for layout, content in song_layouts([record]).items():
        rows = parse(tmp_path, SONGS, content, name=f"{layout}.json")
        seen[layout] = [{k: v for k, v in r.items() if k not in ("file", "line")} for r in rows]
    first = next(iter(seen.values()))
    assert len(first) == 1
    assert all(rows == first for rows in seen.values()), seen


def test_song_files_of_many_records_keep_each_records_line(tmp_path: Path) -> None:
    layouts = song_layouts(SONG_ODDITIES)
    one_by_one = [parse(tmp_path, SONGS, r, name=f"one-{i}.json")[0] for i, r in enumerate(SONG_ODDITIES)]
    expected = [(r["reason"], r["song_id"], r["title"]) for r in one_by_one]
    for layout, content in layouts.items():
        if layout == "one object per file":
            continue
        rows = parse(tmp_path, SONGS, content, name=f"all-{layout}.json")
        assert [(r["reason"], r["song_id"], r["title"]) for r in rows] == expected, layout
    rows = parse(tmp_path, SONGS, layouts["array, pretty"], name="lines.json")
    assert [r["line"] for r in rows] == list(range(2, 2 + len(SONG_ODDITIES)))
    rows = parse(tmp_path, SONGS, layouts["CR only"], name="cr.json")
    assert [r["line"] for r in rows] == list(range(1, 1 + len(SONG_ODDITIES)))


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"[]", []),
        (b"[ ]\n", []),
        (b"[" + orjson.dumps(GOOD_SONG) + b",]", [None, "invalid JSON: an empty array element (a trailing or doubled comma)"]),
        (b"[" + orjson.dumps(GOOD_SONG) + b",,1]", [None, "invalid JSON: an empty array element (a trailing or doubled comma)",
                                                     "not a JSON object but UBIGINT"]),
        (b"[" + orjson.dumps(GOOD_SONG), ["invalid JSON: the array is never closed (no `]`)"]),
        (b"[[" + orjson.dumps(GOOD_SONG) + b"]]", ["not a JSON object but ARRAY"]),
        (b"\x1f\x8b\x08\x00garbage", ["the file is gzip-compressed, not JSON text: decompress it first"]),
        ('{"song_id": "S"}'.encode("utf-16"), ["the file is UTF-16 text: JSON files must be UTF-8"]),
        ('{"song_id": "S"}'.encode("utf-16-le"), ["the file is UTF-16 text: JSON files must be UTF-8"]),
        (b"\x0c", ["invalid JSON"]),
    ],
)
def test_odd_song_files_are_clear_rejects(tmp_path: Path, content: bytes, expected: list) -> None:
    assert [r["reason"] for r in parse(tmp_path, SONGS, content)] == expected
