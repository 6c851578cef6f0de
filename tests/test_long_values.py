"""Issue 18 item 4: a value PostgreSQL's btree cannot index (6 KB of mojibake that still takes
~3 KB compressed, over the 2704-byte limit) loads there as it loads in DuckDB: text_repairs is
unique on a hash of the value, and the index on songs' title is a hash index."""

from __future__ import annotations

import json
import random
from pathlib import Path

from sparkify.warehouse.repair import fix
from tests.oddities import event, song
from tests.test_contract import assert_same, run_both, warehouses  # noqa: F401 -- the fixture

#: Latin-1 letters: once doubly encoded (UTF-8 read as Latin-1), each becomes two characters.
LETTERS = "".join(map(chr, range(0xC0, 0x100)))


def mojibake(seed: int, length: int = 1600) -> str:
    """`length` random letters, doubly encoded: random enough that compression cannot shrink
    them under the btree limit."""
    rng = random.Random(seed)
    text = "".join(rng.choice(LETTERS) for _ in range(length))
    return text.encode("utf-8").decode("latin-1")


def test_three_kilobyte_values_load_on_both_backends(tmp_path: Path, warehouses: dict[str, str]) -> None:  # noqa: F811
    title, location, artist = mojibake(1), mojibake(2), mojibake(3)
    assert all(len(v.encode()) > 6000 for v in (title, location, artist))
    songs, logs = tmp_path / "songs", tmp_path / "logs"
    songs.mkdir()
    logs.mkdir()
    (songs / "long.json").write_text(json.dumps(song(title=title, artist_name=artist, artist_location=location)))
    (logs / "long.json").write_text("\n".join(json.dumps(e) for e in [
        event(page="NextSong", song=title, artist=artist, length=218.93179, location=location),
        event(page="NextSong", song="short", artist="Casual", itemInSession=1, ts=1541105830796 + 1000),
    ]))
    results = run_both(warehouses, "etl", "--songs", str(songs), "--logs", str(logs))
    assert results["duckdb"].exit_code == 0, {k: r.output for k, r in results.items()}
    tables = assert_same(warehouses)
    fixed = fix(title)
    assert [r[1] for r in tables["analytics.songs"][1]] == [fixed]
    plays = tables["analytics.songplays"][1]
    columns = tables["analytics.songplays"][0]
    matched = [dict(zip(columns, r)) for r in plays if r[columns.index("song_id")]]
    assert len(matched) == 1 and matched[0]["location"] == fix(location)
    assert len(tables["staging.text_repairs"][1]) == 3
    # The same values again in a later load (a repair already known) change nothing.
    (logs / "again.json").write_text(json.dumps(event(page="NextSong", song=title, artist=artist, location=location,
                                                      itemInSession=2, ts=1541105830796 + 2000)))
    results = run_both(warehouses, "etl", "--songs", str(songs), "--logs", str(logs))
    assert results["duckdb"].exit_code == 0, {k: r.output for k, r in results.items()}
    assert len(assert_same(warehouses)["staging.text_repairs"][1]) == 3
