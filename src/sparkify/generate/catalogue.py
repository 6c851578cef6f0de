"""The song catalogue: Million-Song-Dataset-like artists and songs, with their IDs, names and titles.

Artists get a geometric number of songs; a song file's line is written exactly as the real ones
(`json.dumps` key order and spacing). The real catalogue's traits are modelled at stated shares:
artists credited under variant names on some of their songs ("Kid Cudi" and "Kid Cudi / Kanye
West / Common"), artists whose own name is a "featuring" credit, and titles and names that are a
number ("1999", "311"; JSON strings, as the real files hold them). The same seed gives the same catalogue.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass

from sparkify.generate.vocabulary import (
    ARTIST_PLACES,
    FIRST_F,
    FIRST_M,
    FOREIGN,
    FUNCTION_WORDS,
    LAST,
    METROS,
    SUFFIXES,
    WORDS,
)

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_HEX = "0123456789ABCDEF"
_ALNUM = _LETTERS + "0123456789"

#: Of the artists with several songs, the share credited under a variant name on some of them (in
#: the real S3 catalogue 426 artist_ids carry different names on different songs).
VARIANT_SHARE = 0.15
#: Share of artists whose own name is a collaboration credit ("Shakira Featuring Wyclef Jean"):
#: 4 % of the real sample's artists, 8 % of its plays.
FEATURING_SHARE = 0.05
#: Share of titles, and of artist names, that are a number ("1999", "42", "311").
NUMBER_SHARE = 0.005
#: How the real data credits several artists: "A / B / C", "A Featuring B", "A feat. B", "A & The Bs".
_CREDITS = (" / ", " Featuring ", " feat. ", " featuring ", " & ")


@dataclass(frozen=True)
class Artist:
    artist_id: str
    name: str
    latitude: float | None
    longitude: float | None
    location: str


@dataclass(frozen=True)
class Song:
    track_id: str
    song_id: str
    title: str
    duration: float
    year: int
    artist: Artist
    artist_name: str  # the name this song credits: the artist's own, or a variant of it

    def json(self) -> str:
        """The song file's one line, keys in the real order, `json.dumps` spacing and escapes."""
        a = self.artist
        return json.dumps({
            "num_songs": 1, "artist_id": a.artist_id, "artist_latitude": a.latitude,
            "artist_longitude": a.longitude, "artist_location": a.location, "artist_name": self.artist_name,
            "song_id": self.song_id, "title": self.title, "duration": self.duration, "year": self.year,
        })


class _Ids:
    """Unique Million-Song-Dataset-like IDs: AR…/SO…/TR… plus 16 characters."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.seen: set[str] = set()

    def _unique(self, prefix: str) -> str:
        while True:
            value = self._one(prefix)
            if value not in self.seen:
                self.seen.add(value)
                return value

    def _one(self, prefix: str) -> str:
        r = self.rng
        if prefix == "TR":
            # Partitioned like the Udacity copy of the subset: song_data/{A,B}/A-Z/A-Z.
            head = r.choice("AB") + "".join(r.choices(_LETTERS, k=4))
        elif prefix == "SO":
            head = "".join(r.choices(_LETTERS, k=5))
        else:
            head = "".join(r.choices(_ALNUM, k=5))
        digits = "".join(r.choices("0123456789", k=r.choice((2, 3, 4))))
        return prefix + head + digits + "".join(r.choices(_HEX, k=11 - len(digits)))

    def artist(self) -> str:
        return self._unique("AR")

    def song(self) -> str:
        return self._unique("SO")

    def track(self) -> str:
        return self._unique("TR")


def _words(r: random.Random, n: int) -> str:
    out = [r.choice(FOREIGN) if r.random() < 0.03 else r.choice(WORDS) for _ in range(n)]
    if n > 1 and r.random() < 0.35:
        out.insert(0, r.choice(FUNCTION_WORDS))
    return " ".join(out)


def _number(r: random.Random) -> str:
    """A title or name that is a number: a year or a small count, as text."""
    return str(r.randint(1950, 2010) if r.random() < 0.4 else int(r.expovariate(1 / 150)) + 1)


def _person(r: random.Random) -> str:
    return f"{r.choice(FIRST_F + FIRST_M)} {r.choice(LAST)}"


def _credit(r: random.Random, name: str, others: list[Artist]) -> str:
    """`name` with others credited ("Kid Cudi / Kanye West / Common", "Shakira Featuring Wyclef Jean",
    "Bobby Helms & The Anita Kerr Singers"); the others are catalogue artists or new people."""
    how = r.choice(_CREDITS)
    if how == " & ":
        return f"{name} & The {_words(r, 1)}s"
    count = 1 + int(r.expovariate(1.5)) if how == " / " else 1
    guests = [r.choice(others).name if others and r.random() < 0.5 else _person(r) for _ in range(count)]
    return name + how + how.join(g if g != name else _person(r) for g in guests)


def _artist_name(r: random.Random) -> str:
    kind = r.random()
    if kind < NUMBER_SHARE:
        return _number(r)
    if kind < 0.35:
        return _person(r)
    if kind < 0.55:
        return f"The {_words(r, 1)}s"
    if kind < 0.75:
        return _words(r, r.choice((1, 2)))
    if kind < 0.85:
        return f"{_person(r)} & The {_words(r, 1)}s"
    if kind < 0.92:
        return f"DJ {_words(r, 1)}"
    return f"{_words(r, 1)} {r.choice(('Orchestra', 'Quartet', 'Collective', 'Band', 'Trio', 'Project'))}"


def _title(r: random.Random) -> str:
    if r.random() < NUMBER_SHARE:
        return _number(r)
    # Mostly several words: one-word titles collide across artists (like the real "Intro"s), but rarely.
    title = _words(r, 1 if r.random() < 0.12 else min(8, 2 + int(r.expovariate(0.55))))
    if r.random() < 0.12:
        title += " " + r.choice(SUFFIXES)
    return title


def _make_artist(r: random.Random, ids: _Ids, others: list[Artist]) -> Artist:
    name = _artist_name(r)
    if r.random() < FEATURING_SHARE:
        name = _credit(r, name, others)
    lat: float | None = None
    lon: float | None = None
    if r.random() < 0.45:  # coordinates near a US metro, and (when known) a location that agrees
        metro, lat, lon = r.choice(METROS)
        lat, lon = round(lat + r.uniform(-0.3, 0.3), 5), round(lon + r.uniform(-0.3, 0.3), 5)
        place = f"{metro.split('-')[0].split(',')[0]}, {metro.rsplit(', ', 1)[1][:2]}"
    else:
        place = r.choice(ARTIST_PLACES)
    return Artist(ids.artist(), name, lat, lon, "" if r.random() < 0.4 else place)


def _make_song(r: random.Random, ids: _Ids, artist: Artist, credited: str | None = None) -> Song:
    duration = round(min(1800.0, max(20.0, r.lognormvariate(math.log(230), 0.38))), 5)
    year = 0 if r.random() < 0.45 else max(1950, min(2010, int(2011 - r.expovariate(1 / 12))))
    return Song(ids.track(), ids.song(), _title(r), duration, year, artist, credited or artist.name)


def make_catalogue(songs: int, seed: int) -> tuple[list[Song], list[Song]]:
    """(catalogue, unknown): songs written to song_data, and songs only the logs play.

    Artists get a geometric number of songs (mean about 2.5); VARIANT_SHARE of those with several
    credit a variant of their name on some songs (always the second, then each with even odds).
    Half of the unknown songs are by catalogue artists, so their plays find the artist but not the
    song, as in the real logs.
    """
    r = random.Random(f"{seed}:catalogue")
    ids = _Ids(r)
    catalogue: list[Song] = []
    artists: list[Artist] = []
    while len(catalogue) < songs:
        artist = _make_artist(r, ids, artists)
        artists.append(artist)
        count = min(songs - len(catalogue), 1 + int(r.expovariate(1 / 1.5)))
        varies = count > 1 and r.random() < VARIANT_SHARE
        for i in range(count):
            credited = _credit(r, artist.name, artists) if varies and (i == 1 or (i and r.random() < 0.5)) else None
            catalogue.append(_make_song(r, ids, artist, credited))
    unknown = []
    for _ in range(max(20, songs // 3)):
        artist = r.choice(artists) if r.random() < 0.5 else _make_artist(r, ids, artists)
        unknown.append(_make_song(r, ids, artist))
    return catalogue, unknown
