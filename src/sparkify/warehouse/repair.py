"""Repairing text the data mangled, for the star schema (staging keeps the raw value).

Two defects, both undone exactly and nothing else touched:
- doubly-encoded UTF-8: 326 events of the real sample carry `BjÃ\\x83Â¶rk` for Björk;
- punctuation that lost its high byte: U+2010–U+201F (dashes and curly quotes) written as the
  control characters U+0010–U+001F, e.g. `Don\\x19t` for Don’t, `Tapes \\x18n Tapes`,
  `Baila Baila \\x13 Vent Remix`, `The \\x1cW" Song` (and U+2026 … as a `&` stuck to a word).
Only values that look mangled are read back into Python (a cheap SQL filter finds them), repaired
here, and stored in `staging.text_repairs (raw_text, fixed)`; the models look values up there.
"""

from __future__ import annotations

import re
import unicodedata

import ftfy

from sparkify.warehouse.base import Warehouse
from sparkify.warehouse.recorder import sql_int

#: Text columns that analysts read, per staging table.
REPAIRED_COLUMNS = {
    "staging_events": ("artist", "song", "first_name", "last_name", "location"),
    "staging_songs": ("title", "artist_name", "artist_location"),
}

#: Characters that betray mojibake or a stray control character: C0 controls but NUL, DEL and the
#: C1 controls, and the first characters of UTF-8 read as Latin-1.
_SUSPECT_RANGES = ((0x01, 0x1F), (0x7F, 0x9F))
_SUSPECT_CHARS = "ÃÂâ"
#: The class for DuckDB (RE2) and PostgreSQL, which understand `\xNN` escapes.
SUSPECT = "[" + "".join(f"\\x{a:02x}-\\x{b:02x}" for a, b in _SUSPECT_RANGES) + _SUSPECT_CHARS + "]"
#: The same class for Redshift: its `~` documents no `\xNN` escape, and its string literals take a
#: backslash as an escape, so every character is written out (no ranges, no backslash).
SUSPECT_LITERAL = "[" + "".join(chr(c) for a, b in _SUSPECT_RANGES for c in range(a, b + 1)) + _SUSPECT_CHARS + "]"


_IS_SUSPECT = re.compile(SUSPECT)
#: U+0010–U+001F are U+2010–U+201F (‐ ‑ ‒ – — ― ‖ ‗ ‘ ’ ‚ ‛ “ ” „ ‟) with the high byte lost.
_LOST_HIGH_BYTE = {c: 0x2000 + c for c in range(0x10, 0x20)}
_HAS_LOST_HIGH_BYTE = re.compile("[\x10-\x1f]")
#: U+2026 … lost its high byte too, as `&` (0x26): in text that shows the defect, a `&` right after
#: a word and before a space or the end is an ellipsis ("It\x19s Fun To Be A Vampire&").
_LOST_ELLIPSIS = re.compile(r"(?<=\w)&(?=\s|$)")
#: Mojibake left after the exact inverse (cp1252 read as Latin-1, text only partly mangled): ftfy's job.
_MOJIBAKE_LEFT = re.compile("[\x80-\x9f" + _SUSPECT_CHARS + "]")
#: ftfy's encoding fixes only: every step that deletes or changes well-formed characters is off
#: (control characters, line breaks, terminal escapes and HTML entities stay, and so do curly
#: quotes, ligatures and character widths).
_FTFY = ftfy.TextFixerConfig(
    unescape_html=False, remove_terminal_escapes=False, fix_latin_ligatures=False, fix_character_width=False,
    uncurl_quotes=False, fix_line_breaks=False, remove_control_chars=False, normalization="NFC", explain=False,
)


def fix(value: str) -> str:
    """The repaired text: mis-decoded UTF-8 undone, lost high bytes restored, ftfy for what is left.

    Text without a SUSPECT character is well-formed and comes back as it is (in NFC). UTF-8 read as
    Latin-1 (once or more) is undone exactly while the whole value decodes as UTF-8 (control
    characters pass through unchanged). No character is ever deleted: only undoing mojibake and
    NFC composition make text shorter.
    """
    text = value
    if _IS_SUSPECT.search(text):
        while True:
            try:
                undone = text.encode("latin-1").decode("utf-8")
            except (UnicodeEncodeError, UnicodeDecodeError):
                break
            if undone == text:
                break
            text = undone
        if _HAS_LOST_HIGH_BYTE.search(text):
            text = _LOST_ELLIPSIS.sub("\u2026", text).translate(_LOST_HIGH_BYTE)
        if _MOJIBAKE_LEFT.search(text):
            text = ftfy.fix_text(text, _FTFY)
    return unicodedata.normalize("NFC", text)


def candidates_sql(dialect: str, load_id: int | str) -> str:
    """Distinct suspect values staged by this load and not yet known to text_repairs.

    Each value comes back once (UNION) and only if text_repairs lacks it, so inserting the repairs
    never duplicates a raw, also on Redshift, which does not enforce the key (its loads run one at
    a time, under LOCK staging.loads).
    """
    pattern = SUSPECT_LITERAL if dialect == "redshift" else SUSPECT
    columns = [(table, column) for table, names in REPAIRED_COLUMNS.items() for column in names]
    this_load = f"load_id = {sql_int(load_id)}"
    if dialect == "duckdb":
        # Each distinct value once, and only then the pattern: a load repeats its values (an
        # artist plays thousands of times), and DuckDB hashes a value faster than RE2 tests it.
        values = " UNION ALL ".join(f"SELECT {c} AS raw_text FROM staging.{t} WHERE {this_load}" for t, c in columns)
        return (
            f"WITH distinct_values AS MATERIALIZED (SELECT DISTINCT raw_text FROM ({values}) AS v) "
            f"SELECT raw_text FROM distinct_values WHERE regexp_matches(raw_text, '{pattern}') "
            "AND raw_text NOT IN (SELECT raw_text FROM staging.text_repairs) ORDER BY raw_text"
        )
    suspects = " UNION ".join(
        f"SELECT {c} AS raw_text FROM staging.{t} WHERE {this_load} AND {c} ~ '{pattern}'" for t, c in columns
    )
    return (
        f"SELECT raw_text FROM ({suspects}) AS suspects "
        "WHERE raw_text NOT IN (SELECT raw_text FROM staging.text_repairs) ORDER BY raw_text"
    )


def prune_repairs(warehouse: Warehouse) -> None:
    """Forget the repairs of values no longer staged (their file was corrected or removed), so that
    text_repairs holds what a full load of the current files gives. Each join is built on the small
    text_repairs and probed by staging; a load that only adds files never runs it."""
    kept = " UNION ".join(
        f"SELECT t.raw_text FROM staging.text_repairs AS t JOIN staging.{table} AS s ON s.{column} = t.raw_text"
        for table, names in REPAIRED_COLUMNS.items() for column in names
    )
    warehouse.query(f"DELETE FROM staging.text_repairs WHERE raw_text NOT IN ({kept})")


def repair_new_text(warehouse: Warehouse, load_id: int | str) -> int:
    """Find and repair the suspect values of one load; returns how many values were repaired."""
    suspects = [row[0] for row in warehouse.query(candidates_sql(warehouse.dialect, load_id)).rows]
    repairs = [(raw, fixed) for raw in suspects if (fixed := fix(raw)) != raw]
    for raw, fixed in repairs:
        insert_repair(warehouse, raw, fixed)
    return len(repairs)


def insert_repair(warehouse: Warehouse, raw: str, fixed: str) -> None:
    """Keep one repair (the values are bound as parameters, never written into the SQL)."""
    mark = warehouse.placeholder
    warehouse.query(f"INSERT INTO staging.text_repairs (raw_text, fixed) VALUES ({mark}, {mark})", (raw, fixed))
