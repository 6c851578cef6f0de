"""`sparkify generate`: generated data has the real sample's exact shape, is realistic, and loads cleanly."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import pytest

from sparkify.generate import GenerateSummary, generate, log_json
from sparkify.generate.catalogue import FEATURING_SHARE, NUMBER_SHARE, VARIANT_SHARE, Song, make_catalogue
from tests.conftest import run_cli

SONG_PATH = re.compile(r"song_data/([A-Z])/([A-Z])/([A-Z])/TR\1\2\3[A-Z0-9]{13}\.json")
LOG_PATH = re.compile(r"log_data/(\d{4})/(\d{2})/\1-\2-(\d{2})-events\.json")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> GenerateSummary:
    """A small dataset (about 20 k events) written once by the library and shared by read-only tests."""
    return generate(tmp_path_factory.mktemp("gen") / "data", songs=400, users=300, days=14, seed=7)


def _files(root: Path, kind: str) -> list[Path]:
    return sorted((root / kind).rglob("*.json"))


def _events(root: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for f in _files(root, "log_data") for line in f.read_text().split("\n") if line]


def _json_type(value: Any) -> str:
    return type(value).__name__


def _shape(root: Path) -> dict[str, Any]:
    """What must be identical between the real sample and generated data (not the values)."""
    logs, songs = _files(root, "log_data"), _files(root, "song_data")
    event_keys, song_keys = set(), set()
    event_types: dict[str, set[str]] = {}
    song_types: dict[str, set[str]] = {}
    for f in logs:
        data = f.read_bytes()
        assert not data.endswith(b"\n"), f"{f} ends with a newline"
        for line in data.split(b"\n"):
            assert line.isascii() and b"/" not in line.replace(b"\\/", b""), "non-ASCII or unescaped /"
            record = json.loads(line)
            event_keys.add(tuple(record))
            for key, value in record.items():
                event_types.setdefault(key, set()).add(_json_type(value))
    for f in songs:
        text = f.read_text()
        record = json.loads(text)
        assert text == json.dumps(record), f"{f} is not one json.dumps line"
        song_keys.add(tuple(record))
        for key, value in record.items():
            song_types.setdefault(key, set()).add(_json_type(value))
    return {"event_keys": event_keys, "song_keys": song_keys, "event_types": event_types, "song_types": song_types}


def test_generated_files_have_the_real_sample_shape(sample: Path, dataset: GenerateSummary) -> None:
    real, ours = _shape(sample), _shape(dataset.out_dir)
    assert ours["event_keys"] == real["event_keys"]  # same 18 keys, in the same order, on every line
    assert ours["song_keys"] == real["song_keys"]
    assert ours["event_types"] == real["event_types"]  # e.g. userId always str, registration float or null
    # The sample's 71 songs all have num_songs 1 and one null-free year; every type matches.
    assert ours["song_types"] == real["song_types"]


def test_generated_file_names_follow_the_real_layout(sample: Path, dataset: GenerateSummary) -> None:
    for root in (sample, dataset.out_dir):
        for f in _files(root, "song_data"):
            rel = f.relative_to(root).as_posix()
            assert SONG_PATH.fullmatch(rel), rel
            assert json.loads(f.read_text())["num_songs"] == 1
        for f in _files(root, "log_data"):
            rel = f.relative_to(root).as_posix()
            assert LOG_PATH.fullmatch(rel), rel
            day = date.fromisoformat(f.name.removesuffix("-events.json"))
            stamps = [json.loads(line)["ts"] for line in f.read_text().split("\n")]
            assert stamps == sorted(stamps)
            assert {datetime.fromtimestamp(ts / 1000, timezone.utc).date() for ts in stamps} == {day}


def test_generated_pages_and_field_values_look_like_the_real_ones(sample: Path, dataset: GenerateSummary) -> None:
    real, ours = _events(sample), _events(dataset.out_dir)
    assert {e["page"] for e in ours} == {e["page"] for e in real}
    def page_meta(events: list[dict[str, Any]]) -> set[tuple[str, str, int]]:
        return {(e["page"], e["method"], e["status"]) for e in events}

    assert page_meta(ours) <= page_meta(real)
    pages = Counter(e["page"] for e in ours)
    assert 0.80 < pages["NextSong"] / len(ours) < 0.90  # real: 84.7 %
    for e in ours:
        assert e["ts"] % 1000 == 796 and (e["registration"] is None or e["registration"] % 1000 == 796)
        if e["auth"] == "Logged Out":
            assert e["userId"] == "" and e["page"] in {"Home", "Login", "About", "Help"}
            assert all(e[k] is None for k in ("firstName", "lastName", "gender", "location", "registration",
                                              "userAgent", "artist", "song", "length"))
        else:
            assert e["userId"].isdigit() and e["location"].count(", ") == 1
        assert (e["page"] == "NextSong") == (e["song"] is not None) == (e["length"] is not None)
    agents = {e["userAgent"] for e in ours if e["userAgent"]}
    assert any(a.startswith('"Mozilla') and a.endswith('"') for a in agents)  # literal quotes, as in the sample
    assert any(not a.startswith('"') for a in agents)
    # Sessions: one user each, items numbered 0, 1, 2, … in time order.
    sessions: dict[int, list[dict[str, Any]]] = {}
    for e in ours:
        sessions.setdefault(e["sessionId"], []).append(e)
    for events in sessions.values():
        assert [e["itemInSession"] for e in events] == list(range(len(events)))
        assert len({e["userId"] for e in events} - {""}) <= 1


def test_summary_counts_match_the_files(dataset: GenerateSummary) -> None:
    events = _events(dataset.out_dir)
    assert dataset.events == len(events)
    assert dataset.pages == dict(Counter(e["page"] for e in events))
    assert dataset.logged_out_events == sum(e["auth"] == "Logged Out" for e in events)
    assert dataset.sessions == len({e["sessionId"] for e in events})
    assert dataset.songs == len(_files(dataset.out_dir, "song_data"))
    assert dataset.log_files == 14 and (dataset.first_day, dataset.last_day) == (date(2018, 11, 1), date(2018, 11, 14))
    assert dataset.song_bytes + dataset.log_bytes == sum(f.stat().st_size for f in dataset.out_dir.rglob("*.json"))


def test_behaviour_is_modelled_not_uniform(dataset: GenerateSummary) -> None:
    events = _events(dataset.out_dir)
    plays = [e for e in events if e["page"] == "NextSong"]
    by_song = Counter((e["artist"], e["song"]) for e in plays).most_common()
    top = by_song[: max(1, len(by_song) // 100)]
    assert sum(n for _, n in top) > 0.15 * len(plays)  # the top 1 % of songs get a large share of plays
    hours = Counter(datetime.fromtimestamp(e["ts"] / 1000, timezone.utc).hour for e in plays)
    assert sum(hours[h] for h in range(18, 23)) > 2 * sum(hours[h] for h in range(2, 7))  # evenings, not nights
    days = Counter(datetime.fromtimestamp(e["ts"] / 1000, timezone.utc).date() for e in plays)
    weekend = [n for d, n in days.items() if d.weekday() >= 5]
    weekday = [n for d, n in days.items() if d.weekday() < 5]
    assert sum(weekend) / len(weekend) > sum(weekday) / len(weekday)
    per_user = Counter(e["userId"] for e in events if e["userId"])
    assert max(per_user.values()) > 5 * (sum(per_user.values()) / len(per_user))  # some heavy listeners
    levels = {}
    for e in events:
        if e["userId"]:
            levels.setdefault(e["userId"], []).append(e["level"])
    changes = sum(a != b for seq in levels.values() for a, b in zip(seq, seq[1:]))
    assert 0 < changes <= dataset.level_changes
    assert {e["page"] for e in events if e["userId"] and e["level"] != levels[e["userId"]][0]} >= {"NextSong"}
    song_ids = [json.loads(f.read_text())["artist_id"] for f in _files(dataset.out_dir, "song_data")]
    assert max(Counter(song_ids).values()) >= 3  # artists with several songs


def test_same_seed_same_bytes_other_seed_other_data(tmp_path: Path) -> None:
    def digest(root: Path) -> str:
        h = hashlib.sha256()
        for f in sorted(root.rglob("*.json")):
            h.update(f.relative_to(root).as_posix().encode() + f.read_bytes())
        return h.hexdigest()

    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        assert run_cli("generate", "--out", str(tmp_path / name), "--songs", "50", "--events", "2000",
                       "--seed", str(seed), "-q").exit_code == 0
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert digest(tmp_path / "a") != digest(tmp_path / "c")


def test_events_gives_the_exact_count_and_start_moves_the_dates(tmp_path: Path) -> None:
    result = run_cli("generate", "--out", str(tmp_path / "d"), "--songs", "30", "--events", "1234",
                     "--start", "2020-02-27")
    assert result.exit_code == 0, result.output
    assert "1234 events" in result.output
    events = _events(tmp_path / "d")
    assert len(events) == 1234
    first = sorted(_files(tmp_path / "d", "log_data"))[0]
    assert first.relative_to(tmp_path / "d").as_posix() == "log_data/2020/02/2020-02-27-events.json"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--days", "3", "--events", "10"], "give --days or --events, not both"),
        (["--songs", "0"], "--songs must be at least 1"),
        (["--events", "-5"], "--events must be at least 1"),
    ],
)
def test_bad_options_are_one_line_errors(tmp_path: Path, args: list[str], message: str) -> None:
    result = run_cli("generate", "--out", str(tmp_path / "x"), *args)
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "x").exists()


def test_a_non_empty_out_is_refused_unless_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "data"
    assert run_cli("generate", "--out", str(out), "--songs", "5", "--events", "100", "-q").exit_code == 0
    (out / "notes.txt").write_text("mine")
    again = run_cli("generate", "--out", str(out), "--songs", "5", "--events", "100")
    assert again.exit_code == 2 and "not empty" in again.output
    replaced = run_cli("generate", "--out", str(out), "--songs", "7", "--events", "100", "--overwrite", "-q")
    assert replaced.exit_code == 0
    assert len(_files(out, "song_data")) == 7 and (out / "notes.txt").read_text() == "mine"


def test_log_strings_are_escaped_like_the_real_logs() -> None:
    assert log_json("AC/DC Björk") == '"AC\\/DC Bj\\u00f6rk"'
    assert log_json(None) == "null"


def test_generated_data_builds_a_sensible_star_schema(dataset: GenerateSummary, warehouse_path: str) -> None:
    root = dataset.out_dir
    result = run_cli("etl", "--songs", str(root / "song_data"), "--logs", str(root / "log_data"),
                     "--warehouse", warehouse_path)
    assert result.exit_code == 0, result.output
    con = duckdb.connect(warehouse_path, read_only=True)
    try:
        def one(sql: str) -> Any:
            return con.execute(sql).fetchall()[0]

        assert one("SELECT count(*) FROM staging.staging_events")[0] == dataset.events
        assert one("SELECT count(*) FROM staging.load_errors")[0] == 0
        plays, matched = one("SELECT count(*), count(song_id) FROM analytics.songplays")
        assert plays == dataset.next_song_events  # every NextSong event has a userId
        assert matched >= dataset.catalogue_plays  # unknown songs match only by a rare title collision
        assert matched / plays > 0.85
        assert one("SELECT count(*) FROM analytics.songs")[0] == dataset.songs
        assert one("SELECT count(*) FROM analytics.artists")[0] == dataset.artists
        # songs credited under a variant name keep it, and their plays match them (counted above)
        assert one("SELECT count(*) FROM analytics.songs AS s JOIN analytics.artists AS a USING (artist_id) "
                   "WHERE s.artist_name <> a.name")[0] > 0
        changed, users = one("SELECT count(*) FILTER (WHERE NOT is_current), count(DISTINCT user_id) "
                             "FROM analytics.users")
        assert 0 < changed <= dataset.level_changes and users <= dataset.users
        assert one("SELECT count(*) FROM analytics.time")[0] == one(
            "SELECT count(DISTINCT start_time) FROM analytics.songplays")[0]
    finally:
        con.close()


# -- the real catalogue's traits -----------------------------------------------------------------

_CREDIT = re.compile(r" / | Featuring | feat\. | featuring | & ")


@pytest.fixture(scope="module")
def big_catalogue() -> list[Song]:
    """A catalogue large enough to measure shares (no files written)."""
    return make_catalogue(8000, seed=11)[0]


def test_a_share_of_artists_is_credited_under_variant_names(big_catalogue: list[Song]) -> None:
    names: dict[str, set[str]] = {}
    songs: Counter[str] = Counter()
    for s in big_catalogue:
        names.setdefault(s.artist.artist_id, set()).add(s.artist_name)
        songs[s.artist.artist_id] += 1
    several = [a for a, n in songs.items() if n > 1]
    varied = [a for a in several if len(names[a]) > 1]
    assert abs(len(varied) / len(several) - VARIANT_SHARE) < 0.03
    for s in big_catalogue:  # a variant is the artist's own name with others credited
        if s.artist_name != s.artist.name:
            assert s.artist_name.startswith(s.artist.name) and _CREDIT.match(s.artist_name[len(s.artist.name):])
    variants = [s.artist_name[len(s.artist.name):] for s in big_catalogue if s.artist_name != s.artist.name]
    assert {m.group() for v in variants if (m := _CREDIT.match(v))} == {" / ", " Featuring ", " feat. ",
                                                                           " featuring ", " & "}
    assert any(v.count(" / ") >= 2 for v in variants)  # "Kid Cudi / Kanye West / Common"


def test_featuring_credits_and_numbers_in_text_at_their_shares(big_catalogue: list[Song]) -> None:
    artists = {s.artist.artist_id: s.artist.name for s in big_catalogue}
    featuring = sum(bool(re.search(r" Featuring | feat\. | featuring | / ", n)) for n in artists.values())
    assert abs(featuring / len(artists) - FEATURING_SHARE * 4 / 5) < 0.02  # 4 of the 5 credit forms
    numbered_titles = [s for s in big_catalogue if s.title.isdigit()]
    assert abs(len(numbered_titles) / len(big_catalogue) - NUMBER_SHARE) < 0.003
    assert 0 < sum(n.isdigit() for n in artists.values()) < 4 * NUMBER_SHARE * len(artists)
    # written as JSON strings, as the real song files hold them ("1999", never 1999)
    assert all(isinstance(json.loads(s.json())["title"], str) for s in numbered_titles)


def test_plays_name_the_songs_own_credited_artist(dataset: GenerateSummary) -> None:
    """Each play of a catalogue song names the artist as that song credits it, so an artist with
    variant names is played under each of them."""
    credited = {}
    for f in _files(dataset.out_dir, "song_data"):
        record = json.loads(f.read_text())
        credited[record["title"], record["artist_name"]] = record["artist_id"]
    played: dict[str, set[str]] = {}
    for e in _events(dataset.out_dir):
        if e["page"] == "NextSong" and (e["song"], e["artist"]) in credited:
            played.setdefault(credited[e["song"], e["artist"]], set()).add(e["artist"])
    assert sum(len(v) >= 2 for v in played.values()) >= 3  # several artists played under two names
