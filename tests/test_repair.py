"""Repairing mangled text: exactly the damage the data has, and nothing that is fine."""

from __future__ import annotations

import json
import re
import unicodedata
from contextlib import nullcontext
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sparkify.warehouse import connect
from sparkify.warehouse.repair import SUSPECT, SUSPECT_LITERAL, fix
from tests.conftest import run_cli
from tests.oddities import BASE_TS, event, song
from tests.pg import fresh_database, require_postgres


@pytest.mark.parametrize(
    ("raw", "fixed"),
    [
        ("BjÃ\x83Â¶rk", "Björk"),  # UTF-8 read as Latin-1, twice
        ("SÃ\x83Â¥ng", "Sång"),
        ("Cafe\u0301", "Café"),  # normalised to NFC
        ("CafÃ©", "Café"),  # once
        ("Donâ\x80\x99t", "Don’t"),  # a curly apostrophe read as Latin-1
        ("Donâ€™t", "Don’t"),  # ... and as cp1252: ftfy's part
        # U+2010–U+201F whose high byte was lost (real titles and artist names)
        ("Don\x19t Stop", "Don’t Stop"),
        ("Baila Baila \x13 Vent Remix", "Baila Baila – Vent Remix"),
        ("Tapes \x18n Tapes", "Tapes ‘n Tapes"),
        ('The \x1cW" Song', 'The “W" Song'),
        ("\x1cHello\x1d \x14 Goodbye", "“Hello” — Goodbye"),
        ("It\x19s Fun To Be A Vampire&", "It’s Fun To Be A Vampire…"),  # U+2026 lost its high byte too
        ("Rock & Roll Don\x19t Stop", "Rock & Roll Don’t Stop"),  # a `&` between spaces stays
        ("BeyoncÃ\x83Â© \x13 Halo", "Beyoncé – Halo"),  # both defects in one value
        ("Tab\there\x07 Don\x19t", "Tab\there\x07 Don’t"),  # other control characters are kept, never deleted
    ],
)
def test_fixes_mangled_text(raw: str, fixed: str) -> None:
    assert fix(raw) == fixed


@pytest.mark.parametrize(
    "fine",
    ["Björk", "Sigur Rós", "Beyoncé", "Mötley Crüe", "東京事変", "plain ASCII", "À la", "Don’t", "“Quoted” — dash…",
     "AT&T", "Vampire&", "Rock &amp; Roll", "ＦＵＬＬ width", "ﬁne ligature", "two\r\nlines"],
)
def test_leaves_good_text_alone(fine: str) -> None:
    assert fix(fine) == fine


# -- properties ----------------------------------------------------------------------------------

#: Characters no well-formed text holds: those that start mojibake (Ã Â â) and U+00A0–U+00BF (the
#: bytes that continue UTF-8), besides controls, surrogates and unassigned code points.
_NOT_WELL_FORMED = "ÃÂâ" + "".join(map(chr, range(0xA0, 0xC0)))
WELL_FORMED = st.text(st.characters(exclude_categories=("Cc", "Cs", "Co", "Cn"), exclude_characters=_NOT_WELL_FORMED),
                      max_size=40).map(lambda s: unicodedata.normalize("NFC", s))
#: Punctuation that loses its high byte: U+2010–U+201F, and the ellipsis (a `&` once mangled).
LOST_PUNCTUATION = [chr(c) for c in range(0x2010, 0x2020)]
#: Control characters that are no lost punctuation: kept as they are.
OTHER_CONTROLS = [chr(c) for c in range(0x01, 0x10)] + ["\x7f"]
#: Words of mangled text: well-formed, without `&` or `…` (an ellipsis is added only after a word).
_WORDS = st.text(st.characters(exclude_categories=("Cc", "Cs", "Co", "Cn"),
                               exclude_characters=_NOT_WELL_FORMED + "&…"), min_size=1, max_size=12)


def _lose_high_bytes(text: str) -> str:
    return text.translate({ord(c): (ord(c) & 0xFF) for c in [*LOST_PUNCTUATION, "…"]})


def _as_latin1(text: str, times: int) -> str:
    for _ in range(times):
        text = text.encode("utf-8").decode("latin-1")
    return text


@st.composite
def mangled(draw: st.DrawFn) -> tuple[str, str]:
    """(raw, what it should repair to): words, punctuation that lost its high byte (an ellipsis right
    after a word), other control characters, and all of it read as Latin-1 from UTF-8 0–2 times."""
    word = st.tuples(_WORDS.filter(lambda w: w[-1].isalnum()), st.sampled_from(["…", ""])).map("".join)
    parts = draw(st.lists(st.one_of(word, _WORDS, st.sampled_from(LOST_PUNCTUATION), st.sampled_from(OTHER_CONTROLS)),
                          min_size=1, max_size=8))
    if not any(p in LOST_PUNCTUATION for p in parts):  # a lost `…` is evident only beside other lost bytes
        parts = [p.removesuffix("…") for p in parts]
    meant = unicodedata.normalize("NFC", " ".join(parts))
    return _as_latin1(_lose_high_bytes(meant), draw(st.integers(0, 2))), meant


@settings(max_examples=300, deadline=None)
@given(mangled())
def test_property_restores_exactly_what_was_mangled(case: tuple[str, str]) -> None:
    """Nothing is deleted: every control character that is no lost punctuation survives, every lost
    high byte comes back, and only the exact mojibake inverse makes the text shorter."""
    raw, meant = case
    assert fix(raw) == meant


@settings(max_examples=300, deadline=None)
@given(WELL_FORMED)
def test_property_leaves_well_formed_text_alone(text: str) -> None:
    assert fix(text) == text


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_property_is_idempotent_and_keeps_controls(text: str) -> None:
    fixed = fix(text)
    assert fix(fixed) == fixed
    assert not re.search("[\x10-\x1f]", fixed)  # every lost high byte is restored
    for control in [*OTHER_CONTROLS, "\x00"]:  # the other control characters are never deleted
        assert fixed.count(control) == text.count(control)


# -- which values are sent to fix(), on every dialect ---------------------------------------------

LOST = [chr(c) for c in range(0x10, 0x20)]


def test_duckdb_pattern_finds_every_lost_high_byte() -> None:
    con = duckdb.connect()
    for c in LOST:
        assert con.execute(f"SELECT regexp_matches(?, '{SUSPECT}')", [f"a{c}b"]).fetchone() == (True,), hex(ord(c))
    assert con.execute(f"SELECT regexp_matches('Don’t — “fine”', '{SUSPECT}')").fetchone() == (False,)


@pytest.mark.parametrize("dialect", ["postgresql", "redshift"])
def test_postgresql_and_redshift_patterns_find_every_lost_high_byte(dialect: str) -> None:
    """PostgreSQL's `~` with the `\\xNN` class, and Redshift's spelled-out literal, as candidates_sql
    writes them (Redshift's POSIX `~` reads the bracket class as PostgreSQL does)."""
    import psycopg

    pattern = SUSPECT_LITERAL if dialect == "redshift" else SUSPECT
    with psycopg.connect(require_postgres()) as con:
        for c in LOST:
            found = con.execute(f"SELECT %s ~ '{pattern}'", [f"a{c}b"]).fetchone()
            assert found == (True,), hex(ord(c))
        assert con.execute(f"SELECT %s ~ '{pattern}'", ["Don’t — “fine”"]).fetchone() == (False,)


# -- end to end: the real values, through a load, on DuckDB and PostgreSQL -------------------------

#: (raw as the real data holds it, repaired): titles and artist names found in the real catalogue.
REAL_LOST_BYTES = [
    ("Baila Baila \x13 Vent Remix", "Baila Baila – Vent Remix"),
    ("The \x1cW\" Song", "The “W\" Song"),
    ("Howlin\x19 For You", "Howlin’ For You"),
]


@pytest.mark.parametrize("backend", ["duckdb", "postgresql"])
def test_lost_high_bytes_are_repaired_in_the_star_and_still_match(backend: str, tmp_path: Path) -> None:
    """Songs and plays whose text lost its high bytes: the star holds the repaired text, the plays
    match their songs, staging keeps the raw value, and a correct curly apostrophe is no repair."""
    songs, logs = tmp_path / "song_data", tmp_path / "log_data"
    songs.mkdir()
    logs.mkdir()
    artists = [("Tapes \x18n Tapes", "Tapes ‘n Tapes"), ("Ba\x13Da", "Ba–Da"), ("Curly’s", "Curly’s")]
    plays = []
    for n, ((title, _), (artist, _)) in enumerate(zip(REAL_LOST_BYTES, artists)):
        record = song(song_id=f"SOLOST{n}", artist_id=f"ARLOST{n}", title=title, artist_name=artist, duration=200.0)
        (songs / f"TRLOST{n}.json").write_text(json.dumps(record), encoding="utf-8")
        plays.append(json.dumps(event(page="NextSong", method="PUT", song=title, artist=artist, length=200.0,
                                      itemInSession=n, ts=BASE_TS + n * 300_000)))
    (logs / "2018-11-01-events.json").write_text("\n".join(plays), encoding="utf-8")
    with (fresh_database("sparkify_repair") if backend == "postgresql" else nullcontext(str(tmp_path / "w.duckdb"))
          ) as url:
        result = run_cli("etl", "--no-check", "--songs", str(songs), "--logs", str(logs), "--warehouse", url)
        assert result.exit_code == 0, result.output
        assert "Repaired 5 mangled text values" in result.output  # 3 titles, 2 artist names; not Curly’s
        with connect(url, read_only=True) as wh:
            def rows(sql: str) -> list[tuple[object, ...]]:
                return sorted(wh.query(sql).rows, key=repr)

            assert rows("SELECT song_id, title FROM analytics.songs") == [
                (f"SOLOST{n}", fixed) for n, (_, fixed) in enumerate(REAL_LOST_BYTES)]
            assert rows("SELECT artist_id, name FROM analytics.artists") == [
                (f"ARLOST{n}", fixed) for n, (_, fixed) in enumerate(artists)]
            assert rows("SELECT song_id, artist_id FROM analytics.songplays") == [
                (f"SOLOST{n}", f"ARLOST{n}") for n in range(3)]
            assert rows("SELECT title FROM staging.staging_songs") == sorted(
                [(raw,) for raw, _ in REAL_LOST_BYTES], key=repr)
