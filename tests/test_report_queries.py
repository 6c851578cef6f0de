"""The report's newer questions on a small hand-made data set, on DuckDB and on PostgreSQL.

Five users over three weeks (17 plays, two of them of a catalogue song, and a few other pages:
an upgrade, a visit to the downgrade page); every expected answer
below was counted by hand from the table in `PLAYS`, not taken from a run.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli, run_sparkify

USERS = {  # user_id: first, last, gender, location
    1: ("Ann", "Lee", "F", "Austin-Round Rock, TX"),
    2: ("Bob", "Ray", "M", "New York-Newark-Jersey City, NY-NJ-PA"),
    3: ("Cat", "Day", "F", "Portland-Vancouver-Hillsboro, OR-WA"),
    4: ("Dan", "Fox", "M", "Toronto, ON"),  # not a US state: left out of plays_by_state
    5: ("Eve", "Kim", "F", "Seattle-Tacoma-Bellevue, WA"),
}
# (user, session, level, "YYYY-MM-DD HH:MM" UTC, page); items count up within a session.
# Weeks start on Monday: 2018-11-05, 2018-11-12, 2018-11-19.
PLAYS = [
    (1, 10, "free", "2018-11-05 09:59", "Home"),
    (1, 10, "free", "2018-11-05 10:00", "NextSong*"),  # * = the catalogue song (200 s; others 180 s)
    (1, 10, "free", "2018-11-05 10:04", "NextSong"),
    (1, 10, "free", "2018-11-05 10:10", "NextSong"),
    (1, 10, "free", "2018-11-05 10:11", "Upgrade"),
    (1, 10, "free", "2018-11-05 10:12", "Submit Upgrade"),
    (2, 20, "paid", "2018-11-05 12:00", "NextSong*"),
    (2, 20, "paid", "2018-11-05 12:05", "NextSong"),
    (3, 30, "free", "2018-11-06 09:00", "NextSong"),
    (4, 40, "free", "2018-11-06 20:00", "NextSong"),
    (4, 40, "free", "2018-11-06 20:03", "NextSong"),
    (4, 40, "free", "2018-11-06 20:05", "NextSong"),
    (1, 11, "paid", "2018-11-12 10:00", "NextSong"),
    (1, 11, "paid", "2018-11-12 10:07", "NextSong"),
    (2, 21, "paid", "2018-11-13 07:59", "Home"),
    (2, 21, "paid", "2018-11-13 08:00", "NextSong"),
    (2, 21, "paid", "2018-11-13 08:05", "Downgrade"),
    (5, 50, "free", "2018-11-13 18:00", "NextSong"),
    (5, 50, "free", "2018-11-13 18:01", "NextSong"),
    (5, 50, "free", "2018-11-13 18:02", "NextSong"),
    (1, 12, "paid", "2018-11-19 11:00", "NextSong"),
    (5, 51, "free", "2018-11-20 18:00", "NextSong"),
]


def write_data(folder: Path) -> None:
    """The song file and one event log per day, in the real data's layout and format."""
    song = {"num_songs": 1, "artist_id": "ARAAA1", "artist_latitude": None, "artist_longitude": None,
            "artist_location": "", "artist_name": "Artist A", "song_id": "SOAAA1", "title": "Song A",
            "duration": 200.0, "year": 2000}
    (folder / "song_data" / "A").mkdir(parents=True)
    (folder / "song_data" / "A" / "TRAAA1.json").write_text(json.dumps(song))
    items: dict[tuple[int, int], int] = {}
    days: dict[str, list[str]] = {}
    for user, session, level, when, page in PLAYS:
        first, last, gender, location = USERS[user]
        ts = int(dt.datetime.fromisoformat(when).replace(tzinfo=dt.UTC).timestamp() * 1000)
        item = items[(user, session)] = items.get((user, session), -1) + 1
        play = page.startswith("NextSong")
        catalogue = page.endswith("*")
        event = {"artist": ("Artist A" if catalogue else "Nobody") if play else None, "auth": "Logged In",
                 "firstName": first, "gender": gender, "itemInSession": item, "lastName": last,
                 "length": (200.0 if catalogue else 180.0) if play else None, "level": level,
                 "location": location, "method": "PUT" if play else "GET", "page": page.rstrip("*"),
                 "registration": 1540000000000.0, "sessionId": session,
                 "song": ("Song A" if catalogue else "Unknown Tune") if play else None, "status": 200, "ts": ts,
                 "userAgent": "Mozilla/5.0 (Windows NT 6.1) Chrome/36.0", "userId": str(user)}
        days.setdefault(when[:10], []).append(json.dumps(event))
    logs = folder / "log_data" / "2018" / "11"
    logs.mkdir(parents=True)
    for day, lines in days.items():
        (logs / f"{day}-events.json").write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report-fixture")
    write_data(folder)
    return folder


@pytest.fixture(scope="module", params=["duckdb", "postgresql"])
def warehouse(request: pytest.FixtureRequest, data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The small data set loaded by `sparkify etl` into each backend."""
    def load(url: str) -> str:
        result = run_cli("etl", "--songs", str(data / "song_data"), "--logs", str(data / "log_data"), "-w", url)
        assert result.exit_code == 0, result.output
        return url

    if request.param == "duckdb":
        yield load(str(tmp_path_factory.mktemp("duck") / "fixture.duckdb"))
    else:
        pg = pytest.importorskip("tests.pg")
        with pg.fresh_database("sparkify_report_fixture") as url:
            yield load(url)


def answer(warehouse: str, name: str, *options: str) -> list[dict[str, Any]]:
    result = run_cli("query", name, "-w", warehouse, "--format", "json", *options)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def rows(records: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [tuple(r.values()) for r in records]


def test_sessions_by_level(warehouse: str) -> None:
    # free: Ann s10 (3 plays, 10 min), Cat s30 (1, 0), Dan s40 (3, 5), Eve s50 (3, 2), Eve s51 (1, 0)
    # paid: Bob s20 (2, 5), Ann s11 (2, 7), Bob s21 (1, 0), Ann s12 (1, 0)
    assert answer(warehouse, "sessions_by_level") == [
        {"level": "free", "sessions": 5, "listeners": 4, "plays": 11, "plays_per_session": 2.2,
         "minutes_per_session": 3.4},
        {"level": "paid", "sessions": 4, "listeners": 2, "plays": 6, "plays_per_session": 1.5,
         "minutes_per_session": 3.0},
    ]


def test_retention_by_week(warehouse: str) -> None:
    # cohort 2018-11-05: Ann, Bob, Cat, Dan; a week later Ann and Bob; two weeks later Ann.
    # cohort 2018-11-12: Eve, and again the week after.
    assert rows(answer(warehouse, "retention_by_week")) == [
        ("2018-11-05", 0, 4, 4, 100.0), ("2018-11-05", 1, 4, 2, 50.0), ("2018-11-05", 2, 4, 1, 25.0),
        ("2018-11-12", 0, 1, 1, 100.0), ("2018-11-12", 1, 1, 1, 100.0),
    ]


def test_new_vs_returning_by_day(warehouse: str) -> None:
    assert rows(answer(warehouse, "new_vs_returning_by_day")) == [
        ("2018-11-05", 2, 2, 0), ("2018-11-06", 2, 2, 0), ("2018-11-12", 1, 0, 1),
        ("2018-11-13", 2, 1, 1), ("2018-11-19", 1, 0, 1), ("2018-11-20", 1, 0, 1),
    ]


def test_plays_by_gender(warehouse: str) -> None:
    # female: Ann 6 + Cat 1 + Eve 4 = 11 of 17 plays; male: Bob 3 + Dan 3.
    assert rows(answer(warehouse, "plays_by_gender")) == [("female", 11, 3, 64.7), ("male", 6, 2, 35.3)]


def test_plays_by_state_ranks_us_states_only(warehouse: str) -> None:
    # "…, NY-NJ-PA" counts for NY, "…, OR-WA" for OR; Toronto, ON is not a US state.
    assert rows(answer(warehouse, "plays_by_state")) == [("TX", 6, 1), ("WA", 4, 1), ("NY", 3, 1), ("OR", 1, 1)]


def test_churn_rate_by_week(warehouse: str) -> None:
    # week 1: Cat and Dan of 4 do not come back; week 2: Bob of 3; week 3 is the last (left out).
    assert rows(answer(warehouse, "churn_rate_by_week")) == [("2018-11-05", 4, 2, 50.0), ("2018-11-12", 3, 1, 33.3)]


def test_listening_time_comes_from_the_logged_length(warehouse: str) -> None:
    # free: Ann's first play 200 s + 10 plays of 180 s = 2,000 s; paid: Bob's first 200 s + 5 × 180 s.
    assert rows(answer(warehouse, "plays_by_level")) == [("free", 11, 64.7, 4, 11, 0.6), ("paid", 6, 35.3, 2, 6, 0.3)]


def test_rankings_by_the_names_in_the_logs(warehouse: str) -> None:
    assert rows(answer(warehouse, "top_songs_in_logs")) == [("Unknown Tune", "Nobody", 15, 5),
                                                            ("Song A", "Artist A", 2, 2)]
    assert rows(answer(warehouse, "top_artists_in_logs")) == [("Nobody", 15, 5), ("Artist A", 2, 2)]
    assert rows(answer(warehouse, "top_songs")) == [("Song A", "Artist A", 2, 2)]  # the catalogue's ranking


def test_upgrade_and_downgrade_funnels(warehouse: str) -> None:
    # Week 1: Ann opens Home, then Upgrade, then submits. Week 2: Bob opens Home, then Downgrade only.
    assert rows(answer(warehouse, "upgrade_funnel_by_week")) == [
        ("2018-11-05", "upgrade", 1, 1, 1, 100.0), ("2018-11-05", "downgrade", 1, 0, 0, None),
        ("2018-11-12", "upgrade", 1, 0, 0, None), ("2018-11-12", "downgrade", 1, 1, 0, 0.0),
    ]
    assert rows(answer(warehouse, "upgrade_funnel_by_week", "--from", "2018-11-12")) == [
        ("2018-11-12", "upgrade", 1, 0, 0, None), ("2018-11-12", "downgrade", 1, 1, 0, 0.0)]


def test_a_date_range_limits_every_answer(warehouse: str) -> None:
    week2 = ("--from", "2018-11-12", "--to", "2018-11-18")
    assert rows(answer(warehouse, "plays_by_day", *week2)) == [("2018-11-12", 2, 2, 0, 1), ("2018-11-13", 4, 1, 3, 2)]
    assert rows(answer(warehouse, "new_vs_returning_by_day", *week2)) == [("2018-11-12", 1, 0, 1),
                                                                          ("2018-11-13", 2, 1, 1)]
    assert rows(answer(warehouse, "retention_by_week", *week2)) == [("2018-11-12", 0, 1, 1, 100.0)]
    assert answer(warehouse, "churn_rate_by_week", *week2) == []  # its one week is the last
    assert answer(warehouse, "song_match_rate", *week2)[0]["plays"] == 6
    # Ann's upgrade (her first paid event, 2018-11-12) is in week 2, not in week 1.
    assert rows(answer(warehouse, "level_changes_by_week", *week2)) == [("2018-11-12", 1, 0)]
    assert answer(warehouse, "level_changes_by_week", "--from", "2018-11-05", "--to", "2018-11-11") == []
    # One side open: from a day on, or up to a day.
    assert sum(r["plays"] for r in answer(warehouse, "plays_by_day", "--from", "2018-11-19")) == 2
    assert sum(r["plays"] for r in answer(warehouse, "plays_by_day", "--to", "2018-11-05")) == 5


def test_the_whole_report_takes_the_range(warehouse: str, tmp_path: Path) -> None:
    html = tmp_path / "week.html"
    result = run_cli("report", "-w", warehouse, "--html", str(html), "--from", "2018-11-12", "--to", "2018-11-18",
                     "--format", "json", "--out", str(tmp_path / "json"))
    assert result.exit_code == 0, result.output
    assert "Period: 2018-11-12 to 2018-11-18 (UTC days, both included)." in html.read_text()
    assert json.loads((tmp_path / "json" / "song_match_rate.json").read_text())[0]["plays"] == 6


@pytest.mark.parametrize(("options", "message"), [
    (("--from", "2018-13-01"), "Error: --from '2018-13-01': not a date; use YYYY-MM-DD, e.g. 2018-11-05"),
    (("--to", "last week"), "Error: --to 'last week': not a date; use YYYY-MM-DD, e.g. 2018-11-05"),
    (("--from", "2018-11-20", "--to", "2018-11-10"),
     "Error: --from/--to: the period starts (2018-11-20) after it ends (2018-11-10)"),
])
def test_a_bad_date_is_one_clear_line(data: Path, tmp_path: Path, options: tuple[str, ...], message: str) -> None:
    for command in (("report",), ("query", "plays_by_day")):
        proc = run_sparkify(*command, "-w", str(tmp_path / "none.duckdb"), *options)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.strip() == message and proc.stdout == ""
