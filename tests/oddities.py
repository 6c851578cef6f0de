"""A small hand-made dataset with the odd cases real Sparkify data has (and worse)."""

from __future__ import annotations

import json
from pathlib import Path

BASE_TS = 1541105830796  # 2018-11-01 20:57:10.796 UTC


def event(**overrides: object) -> dict[str, object]:
    record: dict[str, object] = {
        "artist": None, "auth": "Logged In", "firstName": "Walter", "gender": "M", "itemInSession": 0,
        "lastName": "Frye", "length": None, "level": "free", "location": "San Francisco-Oakland-Hayward, CA",
        "method": "GET", "page": "Home", "registration": 1540919166796.0, "sessionId": 38, "song": None,
        "status": 200, "ts": BASE_TS, "userAgent": '"Mozilla/5.0 (Macintosh)"', "userId": "39",
    }
    record.update(overrides)
    return record


def song(**overrides: object) -> dict[str, object]:
    record: dict[str, object] = {
        "num_songs": 1, "artist_id": "ARD7TVE1187B99BFB1", "artist_latitude": None, "artist_longitude": None,
        "artist_location": "California - LA", "artist_name": "Casual", "song_id": "SOMZWCG12A8C13C480",
        "title": "I Didn't Mean To", "duration": 218.93179, "year": 0,
    }
    record.update(overrides)
    return record


def _line(record: object) -> bytes:
    return json.dumps(record, ensure_ascii=False).encode()


def write_oddities(root: Path) -> tuple[Path, Path]:
    """Write song_data/ and log_data/ under `root`; return both folders."""
    songs, logs = root / "song_data", root / "log_data"
    (songs / "A").mkdir(parents=True)
    (logs / "2018").mkdir(parents=True)
    s = {
        "plain.json": _line(song()),
        "array.json": _line([
            song(song_id="SOB", title="Café Ünïcode", artist_id="ARB", artist_name="Zoë", duration=100.5, year=2001),
            song(song_id="SOC", title="Twin", artist_id="ARB", artist_name="Zoë", artist_location="  ",
                 artist_latitude=1.25, duration=200.0),
        ]),
        "pretty.json": json.dumps(song(song_id="SOD", title="Twin", artist_id="ARD", artist_name="Dee",
                                       artist_location='Quote "here", comma', duration=201.0), indent=2).encode(),
        "dupe.json": _line(song(title="I Didn't Mean To (remaster)", duration=219.0)),
        "bad_type.json": _line(song(song_id="SOE", duration="long")),
        "invalid.json": b'{"num_songs": 1, "song_id": "SOF", ',
        "empty_strings.json": _line(song(song_id="SOG", title="", artist_id="ARG", artist_name="", year=1999)),
    }
    for name, data in s.items():
        (songs / "A" / name).write_bytes(data)
    day1 = [
        event(),
        event(page="NextSong", artist="Zoë", song="Café Ünïcode", length=100.0, itemInSession=1, ts=BASE_TS + 1),
        event(page="NextSong", artist="Dee", song="Twin", length=200.4, itemInSession=2, ts=BASE_TS + 2),
        event(page="NextSong", artist="Casual", song="I Didn't Mean To", length=218.9, itemInSession=3,
              ts=BASE_TS + 3, level="paid"),
        event(page="NextSong", userId="", firstName=None, lastName=None, gender=None, itemInSession=4,
              ts=BASE_TS + 4),
        event(page="NextSong", userId=7, firstName="", lastName="O'Brien, \"Jr\"", itemInSession=0,
              sessionId=2, ts=BASE_TS + 5, location=None, userAgent=""),
        event(page="NextSong", userId="8", level=None, firstName=None, lastName=None, gender=None,
              sessionId=3, ts=BASE_TS + 6),
        event(page="NextSong", ts="yesterday", itemInSession=9),
        event(page="NextSong", sessionId=1.5, itemInSession=10),
        [1, 2, 3],
    ]
    lines = [_line(r) for r in day1] + [b'{"broken": ', b"  ", "\u00e9t\u00e9".encode("latin-1")]
    (logs / "2018" / "day1.json").write_bytes(b"\xef\xbb\xbf" + b"\r\n".join(lines))
    day2 = [
        event(page="NextSong", artist="Zoë", song="Café Ünïcode", length=100.0, itemInSession=1, ts=BASE_TS + 1),
        event(page="NextSong", itemInSession=5, ts=BASE_TS + 86_400_000, level="paid", firstName="Walt"),
        event(page="NextSong", itemInSession=6, ts=BASE_TS + 86_400_001, level="free", length=1e300),
    ]
    (logs / "2018" / "day2.json").write_bytes(b"\n".join(_line(r) for r in day2) + b"\n")
    return songs, logs


def write_late_songs(songs: Path) -> None:
    """Songs that arrive after their plays (they must be matched on the next load)."""
    (songs / "B").mkdir(exist_ok=True)
    (songs / "B" / "late.json").write_bytes(
        _line(song(song_id="SOH", title="Late", artist_id="ARH", artist_name="Later", duration=10.0))
    )
