"""Realistic Sparkify input data at any scale, in exactly the layout and format of the real sample.

Writes `song_data/A/B/C/TRABC….json` (one Million-Song-Dataset-style object per file) and
`log_data/YYYY/MM/YYYY-MM-DD-events.json` (eventsim-style events, one per line, sorted by `ts`).

Behaviour follows eventsim rather than uniform noise: heavy-tailed song popularity, artists with
several songs, users with their own activity level who listen in sessions (more in the evening
and at weekends), the real page mix, logged-out events, and users who upgrade and downgrade.

Speed and memory: every user is a generator of its own events; a heap merges them in `ts` order,
so only one pending event per user is held, whatever the number of events. Lines are built from
per-user string fragments (already JSON-escaped the way the real logs are), not by a JSON encoder.
"""

from __future__ import annotations

import heapq
import itertools
import json
import math
import os
import random
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Protocol

from sparkify.errors import SparkifyError

DEFAULT_SONGS = 2000
DEFAULT_USERS = 1000
DEFAULT_DAYS = 30
DEFAULT_SEED = 42
DEFAULT_START = date(2018, 11, 1)

#: Mean events a user writes per day: 1000 users over 30 days give about 100 k events.
EVENTS_PER_USER_DAY = 3.3
#: Share of NextSong plays of songs that are not in the generated catalogue (as in the real logs).
UNKNOWN_SHARE = 0.08
#: Every `ts` and `registration` in the real logs ends in the same milliseconds.
MS = 796

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_HEX = "0123456789ABCDEF"
_ALNUM = _LETTERS + "0123456789"


class Progress(Protocol):
    """Same shape as sparkify.pipeline.load.Progress, counted in items (files, events or days), not bytes."""

    def start(self, description: str, total: int) -> None: ...
    def advance(self, n: int) -> None: ...
    def finish(self) -> None: ...


class _NoProgress:
    def start(self, description: str, total: int) -> None:
        pass

    def advance(self, n: int) -> None:
        pass

    def finish(self) -> None:
        pass


@dataclass
class GenerateSummary:
    """What was written, with the counts a warehouse built from it must reconcile with."""

    out_dir: Path
    seed: int
    songs: int = 0
    artists: int = 0
    users: int = 0
    first_day: date | None = None
    last_day: date | None = None
    log_files: int = 0
    events: int = 0
    next_song_events: int = 0
    catalogue_plays: int = 0
    logged_out_events: int = 0
    sessions: int = 0
    level_changes: int = 0
    song_bytes: int = 0
    log_bytes: int = 0
    seconds: float = 0.0
    log_seconds: float = 0.0  # of `seconds`, the time spent on the event logs (not the song files)
    pages: dict[str, int] = field(default_factory=dict)

    @property
    def events_per_second(self) -> float:
        """Event-log throughput: events over the time spent writing the logs."""
        return self.events / self.log_seconds if self.log_seconds else 0.0

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1 if self.first_day and self.last_day else 0


# -- JSON text as the real files write it ------------------------------------------------------


def log_json(value: str | None) -> str:
    """A string as the real event logs write it: ASCII-only with \\uXXXX, and `/` escaped as `\\/`."""
    if value is None:
        return "null"
    return json.dumps(value, ensure_ascii=True).replace("/", "\\/")


def _num(value: float) -> str:
    return repr(round(value, 5))


# -- the song catalogue ------------------------------------------------------------------------

_WORDS = (
    "Love Night Heart Fire Rain Blue Dream Road Home Light Dance Gold River Star Moon Sun Time World Girl Boy "
    "Baby Soul Ghost Shadow Summer Winter Angel Devil Money Train Highway City Ocean Wind Storm Thunder Paradise "
    "Heaven Stone Rose Wild Sweet Broken Lonely Crazy Lost Young Golden Silver Electric Midnight Morning Sunday "
    "Freedom Memory Echo Mirror Window Door Street Party Kiss Tears Smile Promise Secret Ocean Mountain Desert "
    "Island Revolution Machine Radio Disco Funk Blues Jazz Rock Roll Boogie Groove Rhythm Song Melody Harmony "
    "Fever Sugar Honey Candy Cherry Whiskey Wine Coffee Cigarette Diamond Velvet Satin Steel Iron Glass Paper "
    "Tiger Wolf Eagle Horse Dog Snake Butterfly Lion Dragon Queen King Prince Soldier Sailor Cowboy Stranger "
    "Hero Fool Lover Sinner Saint Preacher Mama Papa Sister Brother Friend Enemy Everything Nothing Forever "
    "Tonight Tomorrow Yesterday Again Away Down Up Alone Together Inside Outside Beyond Under Over"
).split()
_FUNCTION_WORDS = "The A My Your Our In On Of To For With Without Into After Before".split()
_FOREIGN = (
    "Corazón Mañana Canción Niña Señor Café Été Amour Rêve Fenêtre Mädchen Straße Schön Über Björk Ångström "
    "Sjöberg Mélodie Noël Déjà Vu Pequeño Añoranza Garçon Ça São Coração Estação Ação Nação"
).split()
_SUFFIXES = (
    "(Album Version)", "(Live)", "(Remastered)", "(Radio Edit)", "(Acoustic)", "(Demo)", "(Remix)",
    "(2005 Digital Remaster)", "(Extended Mix)", "[Live At The Fillmore]", "(LP Version)", "(Instrumental)",
)
_FIRST_F = (
    "Lily Kate Jacqueline Chloe Tegan Kaylee Aleena Jayden Ava Emily Sophia Mia Olivia Layla Avery Harper "
    "Madison Zoe Brooklyn Natalie Hannah Addison Leah Lillian Samantha Stella Aubrey Ellie Claire Violet "
    "Savannah Anna Skylar Paisley Audrey Caroline Kennedy Autumn Piper Ruby Sadie Naomi Eva Isabella Maya "
    "Riley Molly Jessica Amanda Rebecca Sarah Ashley Megan Rachel Lauren Kayla Alexis Sydney Morgan Faith"
).split()
_FIRST_M = (
    "Ryan Jacob Noah Liam Mason William Ethan Michael Alexander James Daniel Elijah Benjamin Logan Aiden "
    "Jackson David Joseph Samuel Henry Owen Sebastian Gabriel Carter Jayden John Luke Anthony Isaac Dylan "
    "Wyatt Andrew Joshua Christopher Grayson Jack Julian Lucas Nathan Aaron Isaiah Thomas Charles Caleb "
    "Josiah Christian Hunter Eli Jonathan Connor Landon Adrian Asher Cameron Leo Theodore Jeremiah Hudson"
).split()
_LAST = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez "
    "Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez "
    "Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker "
    "Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins "
    "Reyes Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly "
    "Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes"
).split()
#: (metropolitan area as the logs write it, latitude, longitude)
_METROS = (
    ("New York-Newark-Jersey City, NY-NJ-PA", 40.71, -74.0),
    ("Los Angeles-Long Beach-Anaheim, CA", 34.05, -118.24),
    ("Chicago-Naperville-Elgin, IL-IN-WI", 41.88, -87.63),
    ("Dallas-Fort Worth-Arlington, TX", 32.78, -96.8),
    ("Houston-The Woodlands-Sugar Land, TX", 29.76, -95.37),
    ("Washington-Arlington-Alexandria, DC-VA-MD-WV", 38.9, -77.04),
    ("Miami-Fort Lauderdale-West Palm Beach, FL", 25.76, -80.19),
    ("Philadelphia-Camden-Wilmington, PA-NJ-DE-MD", 39.95, -75.17),
    ("Atlanta-Sandy Springs-Roswell, GA", 33.75, -84.39),
    ("Boston-Cambridge-Newton, MA-NH", 42.36, -71.06),
    ("Phoenix-Mesa-Scottsdale, AZ", 33.45, -112.07),
    ("San Francisco-Oakland-Hayward, CA", 37.77, -122.42),
    ("Riverside-San Bernardino-Ontario, CA", 33.95, -117.4),
    ("Detroit-Warren-Dearborn, MI", 42.33, -83.05),
    ("Seattle-Tacoma-Bellevue, WA", 47.61, -122.33),
    ("Minneapolis-St. Paul-Bloomington, MN-WI", 44.98, -93.27),
    ("San Diego-Carlsbad, CA", 32.72, -117.16),
    ("Tampa-St. Petersburg-Clearwater, FL", 27.95, -82.46),
    ("Denver-Aurora-Lakewood, CO", 39.74, -104.99),
    ("St. Louis, MO-IL", 38.63, -90.2),
    ("Baltimore-Columbia-Towson, MD", 39.29, -76.61),
    ("Charlotte-Concord-Gastonia, NC-SC", 35.23, -80.84),
    ("Orlando-Kissimmee-Sanford, FL", 28.54, -81.38),
    ("San Antonio-New Braunfels, TX", 29.42, -98.49),
    ("Portland-Vancouver-Hillsboro, OR-WA", 45.52, -122.68),
    ("Sacramento--Roseville--Arden-Arcade, CA", 38.58, -121.49),
    ("Pittsburgh, PA", 40.44, -79.99),
    ("Las Vegas-Henderson-Paradise, NV", 36.17, -115.14),
    ("Austin-Round Rock, TX", 30.27, -97.74),
    ("Cincinnati, OH-KY-IN", 39.1, -84.51),
    ("Kansas City, MO-KS", 39.1, -94.58),
    ("Columbus, OH", 39.96, -83.0),
    ("Indianapolis-Carmel-Anderson, IN", 39.77, -86.16),
    ("Cleveland-Elyria, OH", 41.5, -81.69),
    ("San Jose-Sunnyvale-Santa Clara, CA", 37.34, -121.89),
    ("Nashville-Davidson--Murfreesboro--Franklin, TN", 36.16, -86.78),
    ("Virginia Beach-Norfolk-Newport News, VA-NC", 36.85, -75.98),
    ("Providence-Warwick, RI-MA", 41.82, -71.41),
    ("Milwaukee-Waukesha-West Allis, WI", 43.04, -87.91),
    ("Jacksonville, FL", 30.33, -81.66),
    ("Memphis, TN-MS-AR", 35.15, -90.05),
    ("Oklahoma City, OK", 35.47, -97.52),
    ("Louisville/Jefferson County, KY-IN", 38.25, -85.76),
    ("Richmond, VA", 37.54, -77.44),
    ("New Orleans-Metairie, LA", 29.95, -90.07),
    ("Raleigh, NC", 35.78, -78.64),
    ("Salt Lake City, UT", 40.76, -111.89),
    ("Birmingham-Hoover, AL", 33.52, -86.8),
    ("Buffalo-Cheektowaga-Niagara Falls, NY", 42.89, -78.88),
    ("Tucson, AZ", 32.22, -110.97),
    ("Tulsa, OK", 36.15, -95.99),
    ("Fresno, CA", 36.74, -119.79),
    ("Albany-Schenectady-Troy, NY", 42.65, -73.75),
    ("Omaha-Council Bluffs, NE-IA", 41.26, -95.94),
    ("Albuquerque, NM", 35.08, -106.65),
    ("Bakersfield, CA", 35.37, -119.02),
    ("Knoxville, TN", 35.96, -83.92),
    ("El Paso, TX", 31.76, -106.49),
    ("Lubbock, TX", 33.58, -101.86),
    ("Boise City, ID", 43.62, -116.2),
    ("Madison, WI", 43.07, -89.4),
    ("Anchorage, AK", 61.22, -149.9),
    ("Des Moines-West Des Moines, IA", 41.59, -93.62),
    ("Spokane-Spokane Valley, WA", 47.66, -117.43),
    ("Columbia, SC", 34.0, -81.03),
    ("Lansing-East Lansing, MI", 42.73, -84.56),
    ("Eugene, OR", 44.05, -123.09),
)
_ARTIST_PLACES = (
    "London, England", "Los Angeles, CA", "New York, NY", "Chicago, IL", "Nashville, TN", "Austin, TX",
    "Seattle, WA", "Detroit, MI", "Atlanta, GA", "Memphis, TN", "Toronto, Ontario, Canada", "Manchester, England",
    "Berlin, Germany", "Paris, France", "Stockholm, Sweden", "Kingston, Jamaica", "California - SF",
    "California - LA", "Brooklyn, NY", "Minneapolis, MN", "Dublin, Ireland", "Glasgow, Scotland", "Ohio",
    "Texas", "Georgia", "United States", "UK", "Sweden", "Montreal, Quebec, Canada", "São Paulo, Brazil",
    "Reykjavík, Iceland", "Melbourne, Australia", "Bristol, England", "New Orleans, LA", "Philadelphia, PA",
)
#: (user agent, relative weight): browsers of the time, as eventsim writes them.
_AGENTS = (
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_4) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/36.0.1985.143 Safari/537.36", 14),
    ("Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/36.0.1985.143 "
     "Safari/537.36", 12),
    ("Mozilla/5.0 (Windows NT 6.1; WOW64; rv:31.0) Gecko/20100101 Firefox/31.0", 9),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_4) AppleWebKit/537.78.2 (KHTML, like Gecko) Version/7.0.6 "
     "Safari/537.78.2", 9),
    ("Mozilla/5.0 (Windows NT 6.3; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/36.0.1985.143 "
     "Safari/537.36", 7),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/37.0.2062.94 "
     "Safari/537.36", 4),
    ("Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/36.0.1985.125 "
     "Safari/537.36", 6),
    ("Mozilla/5.0 (Windows NT 5.1; rv:31.0) Gecko/20100101 Firefox/31.0", 4),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10.9; rv:31.0) Gecko/20100101 Firefox/31.0", 4),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 7_1_2 like Mac OS X) AppleWebKit/537.51.2 (KHTML, like Gecko) "
     "Version/7.0 Mobile/11D257 Safari/9537.53", 5),
    ("Mozilla/5.0 (iPad; CPU OS 7_1_2 like Mac OS X) AppleWebKit/537.51.2 (KHTML, like Gecko) Version/7.0 "
     "Mobile/11D257 Safari/9537.53", 3),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Ubuntu Chromium/36.0.1985.125 "
     "Chrome/36.0.1985.125 Safari/537.36", 3),
    ("Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko", 3),
    ("Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.2; WOW64; Trident/6.0)", 1),
    ("Mozilla/5.0 (Windows NT 6.1; WOW64; rv:32.0) Gecko/20100101 Firefox/32.0", 2),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_10_0) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/37.0.2062.120 Safari/537.36", 2),
    ("Mozilla/5.0 (Windows NT 6.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/36.0.1985.143 Safari/537.36", 2),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_3) AppleWebKit/537.75.14 (KHTML, like Gecko) Version/7.0.3 "
     "Safari/537.75.14", 2),
    ("Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:31.0) Gecko/20100101 Firefox/31.0", 1),
    ("Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.1; Trident/5.0)", 1),
)


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

    def json(self) -> str:
        """The song file's one line, keys in the real order, `json.dumps` spacing and escapes."""
        a = self.artist
        return json.dumps({
            "num_songs": 1, "artist_id": a.artist_id, "artist_latitude": a.latitude,
            "artist_longitude": a.longitude, "artist_location": a.location, "artist_name": a.name,
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
    out = [r.choice(_FOREIGN) if r.random() < 0.03 else r.choice(_WORDS) for _ in range(n)]
    if n > 1 and r.random() < 0.35:
        out.insert(0, r.choice(_FUNCTION_WORDS))
    return " ".join(out)


def _artist_name(r: random.Random) -> str:
    kind = r.random()
    if kind < 0.35:
        return f"{r.choice(_FIRST_F + _FIRST_M)} {r.choice(_LAST)}"
    if kind < 0.55:
        return f"The {_words(r, 1)}s"
    if kind < 0.75:
        return _words(r, r.choice((1, 2)))
    if kind < 0.85:
        return f"{r.choice(_FIRST_F + _FIRST_M)} {r.choice(_LAST)} & The {_words(r, 1)}s"
    if kind < 0.92:
        return f"DJ {_words(r, 1)}"
    return f"{_words(r, 1)} {r.choice(('Orchestra', 'Quartet', 'Collective', 'Band', 'Trio', 'Project'))}"


def _title(r: random.Random) -> str:
    # Mostly several words: one-word titles collide across artists (like the real "Intro"s), but rarely.
    title = _words(r, 1 if r.random() < 0.12 else min(8, 2 + int(r.expovariate(0.55))))
    if r.random() < 0.12:
        title += " " + r.choice(_SUFFIXES)
    return title


def _make_artist(r: random.Random, ids: _Ids) -> Artist:
    name = _artist_name(r)
    lat: float | None = None
    lon: float | None = None
    if r.random() < 0.45:  # coordinates near a US metro, and (when known) a location that agrees
        metro, lat, lon = r.choice(_METROS)
        lat, lon = round(lat + r.uniform(-0.3, 0.3), 5), round(lon + r.uniform(-0.3, 0.3), 5)
        place = f"{metro.split('-')[0].split(',')[0]}, {metro.rsplit(', ', 1)[1][:2]}"
    else:
        place = r.choice(_ARTIST_PLACES)
    return Artist(ids.artist(), name, lat, lon, "" if r.random() < 0.4 else place)


def _make_song(r: random.Random, ids: _Ids, artist: Artist) -> Song:
    duration = round(min(1800.0, max(20.0, r.lognormvariate(math.log(230), 0.38))), 5)
    year = 0 if r.random() < 0.45 else max(1950, min(2010, int(2011 - r.expovariate(1 / 12))))
    return Song(ids.track(), ids.song(), _title(r), duration, year, artist)


def make_catalogue(songs: int, seed: int) -> tuple[list[Song], list[Song]]:
    """(catalogue, unknown): songs written to song_data, and songs only the logs play.

    Artists get a geometric number of songs (mean about 2.5). Half of the unknown songs are by
    catalogue artists, so their plays find the artist but not the song, as in the real logs.
    """
    r = random.Random(f"{seed}:catalogue")
    ids = _Ids(r)
    catalogue: list[Song] = []
    artists: list[Artist] = []
    while len(catalogue) < songs:
        artist = _make_artist(r, ids)
        artists.append(artist)
        for _ in range(min(songs - len(catalogue), 1 + int(r.expovariate(1 / 1.5)))):
            catalogue.append(_make_song(r, ids, artist))
    unknown = []
    for _ in range(max(20, songs // 3)):
        artist = r.choice(artists) if r.random() < 0.5 else _make_artist(r, ids)
        unknown.append(_make_song(r, ids, artist))
    return catalogue, unknown


def write_songs(catalogue: list[Song], song_dir: Path, progress: Progress) -> int:
    """One file per song at song_data/A/B/C/TRABC….json, one line, no trailing newline. Returns bytes."""
    total = 0
    made: set[Path] = set()
    progress.start("writing song files", len(catalogue))
    for i, song in enumerate(catalogue, start=1):
        folder = song_dir / song.track_id[2] / song.track_id[3] / song.track_id[4]
        if folder not in made:
            folder.mkdir(parents=True, exist_ok=True)
            made.add(folder)
        data = song.json().encode("ascii")
        (folder / f"{song.track_id}.json").write_bytes(data)
        total += len(data)
        if i % 1000 == 0:
            progress.advance(1000)
    progress.advance(len(catalogue) % 1000)
    progress.finish()
    return total


# -- users and their sessions ------------------------------------------------------------------

#: Relative listening activity by UTC hour: low at night, rising through the day, peak in the evening.
HOUR_WEIGHTS = (0.6, 0.45, 0.3, 0.2, 0.15, 0.15, 0.2, 0.3, 0.45, 0.55, 0.6, 0.65,
                0.7, 0.7, 0.75, 0.8, 0.9, 1.0, 1.15, 1.3, 1.4, 1.35, 1.1, 0.85)
WEEKEND_FACTOR = 1.35
_MAX_WEIGHT = max(HOUR_WEIGHTS) * WEEKEND_FACTOR
_MEAN_WEIGHT = sum(HOUR_WEIGHTS) / 24 * (5 + 2 * WEEKEND_FACTOR) / 7

#: Pages of a logged-in step after the first: (page, cumulative probability), free and paid users.
_STEPS_FREE = (("NextSong", 0.8963), ("Home", 0.9613), ("Settings", 0.9683), ("Help", 0.9743), ("About", 0.9788),
               ("Upgrade", 0.9848), ("Downgrade", 0.9848), ("Error", 0.986), ("Logout", 1.0))
_STEPS_PAID = (("NextSong", 0.8943), ("Home", 0.9593), ("Settings", 0.9663), ("Help", 0.9723), ("About", 0.9768),
               ("Upgrade", 0.9768), ("Downgrade", 0.9888), ("Error", 0.99), ("Logout", 1.0))
_PAGE_META = {  # page: (method, status)
    "NextSong": ("PUT", 200), "Home": ("GET", 200), "Login": ("PUT", 307), "Logout": ("PUT", 307),
    "Settings": ("GET", 200), "Save Settings": ("PUT", 307), "Help": ("GET", 200), "About": ("GET", 200),
    "Upgrade": ("GET", 200), "Downgrade": ("GET", 200), "Submit Upgrade": ("PUT", 307),
    "Submit Downgrade": ("PUT", 307), "Error": ("GET", 404),
}
PAGES = tuple(_PAGE_META)
#: ',"method":…,"page":…' and ',"status":…,"ts":' per page, the constant parts of a line.
_METHOD_PAGE = {p: f',"method":"{m}","page":{log_json(p)}' for p, (m, _) in _PAGE_META.items()}
_STATUS_TS = {p: f',"status":{s},"ts":' for p, (_, s) in _PAGE_META.items()}


@dataclass
class User:
    """One listener: fixed profile, a level that changes, and JSON fragments for both states."""

    user_id: int
    first_name: str
    last_name: str
    gender: str
    location: str
    agent: str
    registration: int
    level: str
    sessions_per_second: float
    head: str = ""  # ,"auth":"Logged In",…,"itemInSession":
    middle: str = ""  # ,"lastName":…,"length":
    level_part: str = ""  # ,"level":…,"location":…
    registration_part: str = ""  # ,"registration":….0,"sessionId":
    tail: str = ""  # ,"userAgent":…,"userId":"…"}

    def __post_init__(self) -> None:
        self.head = (f',"auth":"Logged In","firstName":{log_json(self.first_name)},'
                     f'"gender":"{self.gender}","itemInSession":')
        self.middle = f',"lastName":{log_json(self.last_name)},"length":'
        self.registration_part = f',"registration":{self.registration}.0,"sessionId":'
        # eventsim writes the agent CSV-quoted when it holds a comma: literal quotes survive in JSON.
        agent = f'"{self.agent}"' if "," in self.agent else self.agent
        self.tail = f',"userAgent":{log_json(agent)},"userId":"{self.user_id}"}}'
        self.set_level(self.level)

    def set_level(self, level: str) -> None:
        self.level = level
        self.level_part = f',"level":"{level}","location":{log_json(self.location)}'


def make_users(n: int, rng: random.Random, start_s: int) -> list[User]:
    """Users with names, gender, a metro area, a browser, a registration before `start`, and a level."""
    agents = [a for a, _ in _AGENTS]
    agent_weights = [w for _, w in _AGENTS]
    users = []
    mean_rate = EVENTS_PER_USER_DAY / _mean_session_events() / 86400
    for user_id in range(1, n + 1):
        gender = "F" if rng.random() < 0.55 else "M"
        first = rng.choice(_FIRST_F if gender == "F" else _FIRST_M)
        registered = start_s - int(rng.uniform(1, 450) * 86400)
        # Lognormal activity, mean 1: a few heavy listeners, many occasional ones.
        activity = rng.lognormvariate(-0.5, 1.0)
        users.append(User(
            user_id, first, rng.choice(_LAST), gender, rng.choice(_METROS)[0],
            rng.choices(agents, agent_weights)[0], registered * 1000 + MS,
            "paid" if rng.random() < 0.35 else "free", mean_rate * activity,
        ))
    return users


def _mean_session_events() -> float:
    """Events per session of the model below, measured on generated data: turns a daily event rate
    into a session rate (1000 users over 30 days then write about 100 k events)."""
    return 14.0


class _Clock:
    """Next session start of a user: a Poisson process thinned by hour of day and weekday."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.weights = [w * (WEEKEND_FACTOR if day >= 5 else 1.0) / _MAX_WEIGHT
                        for day in range(7) for w in HOUR_WEIGHTS]

    def next_start(self, after_s: float, rate: float) -> float:
        r = self.rng
        peak = rate * _MAX_WEIGHT / _MEAN_WEIGHT
        t = after_s
        while True:
            t += r.expovariate(peak)
            hour = int(t // 3600)
            # 1970-01-01 was a Thursday: weekday() = (days + 3) % 7, Monday = 0.
            if r.random() < self.weights[((hour // 24 + 3) % 7) * 24 + hour % 24]:
                return t


class _Songs:
    """Heavy-tailed (Zipf) choice of what a NextSong plays, drawn in batches for speed."""

    def __init__(self, rng: random.Random, catalogue: list[Song], unknown: list[Song]) -> None:
        self.rng = rng
        # (artist JSON, length text, title JSON, ms until the next event, in the catalogue?)
        self.items: list[tuple[str, str, str, int, bool]] = []
        weights: list[float] = []
        for pool, share, known in ((catalogue, 1 - UNKNOWN_SHARE, True), (unknown, UNKNOWN_SHARE, False)):
            order = list(range(len(pool)))
            rng.shuffle(order)  # popularity is not related to catalogue order
            raw = [1 / (rank + 1) ** 0.9 for rank in range(len(pool))]
            scale = share / sum(raw)
            for rank, index in enumerate(order):
                s = pool[index]
                self.items.append((log_json(s.artist.name), _num(s.duration), log_json(s.title),
                                   1000 * round(s.duration), known))
                weights.append(raw[rank] * scale)
        self.cum = list(itertools.accumulate(weights))
        self.batch: list[tuple[str, str, str, int, bool]] = []

    def pick(self) -> tuple[str, str, str, int, bool]:
        if not self.batch:
            self.batch = self.rng.choices(self.items, cum_weights=self.cum, k=8192)
        return self.batch.pop()


#: What each written event was, for the summary: (page, logged in, song in the catalogue).
KINDS: tuple[tuple[str, bool, bool], ...] = (
    ("NextSong", True, True), ("NextSong", True, False),
    *((p, True, False) for p in PAGES if p != "NextSong"),
    *((p, False, False) for p in ("Home", "About", "Help", "Login")),
)
_IN = {page: code for code, (page, logged_in, known) in enumerate(KINDS) if logged_in and not known}
_OUT = {page: code for code, (page, logged_in, _) in enumerate(KINDS) if not logged_in}
_LOGGED_OUT = ',"auth":"Logged Out","firstName":null,"gender":null,"itemInSession":'

Event = tuple[int, str, int]  # ts in ms, the line, kind * 2 + (1 if it opens a session)


def _pause(rng: random.Random, scale: float = 1.0) -> int:
    """Milliseconds (whole seconds, so every ts keeps its 796) a user spends on a page that is not a song."""
    return 1000 * (1 + int(scale * rng.lognormvariate(3.9, 0.9)))


def user_events(user: User, rng: random.Random, clock: _Clock, songs: _Songs, session_ids: Iterator[int],
                start_s: float) -> Iterator[Event]:
    """One user's events, forever and in time order: session after session, as eventsim plays them."""
    t_s = start_s
    while True:
        ts = int(clock.next_start(t_s, user.sessions_per_second)) * 1000 + MS
        sid = next(session_ids)
        item = 0
        if rng.random() < 0.2:  # arrives logged out: Home (perhaps About or Help), then Login
            visit = ("Home", rng.choice(("About", "Help")), "Login") if rng.random() < 0.25 else ("Home", "Login")
            for page in visit:
                yield ts, _logged_out_line(user, page, item, sid, ts), _OUT[page] * 2 + (item == 0)
                item += 1
                ts += _pause(rng, 0.25)
        page = "Home" if rng.random() < 0.35 else "NextSong"
        for step in range(max(1, int(rng.lognormvariate(2.45, 1.0)))):
            if step:
                page = _next_page(rng, user.level)
            if page == "NextSong":
                artist, length, title, ms, known = songs.pick()
                yield ts, (f'{{"artist":{artist}{user.head}{item}{user.middle}{length}{user.level_part}'
                           f'{_METHOD_PAGE[page]}{user.registration_part}{sid},"song":{title}'
                           f'{_STATUS_TS[page]}{ts}{user.tail}'), (0 if known else 2) + (item == 0)
                ts += ms
            else:
                yield ts, _page_line(user, page, item, sid, ts), _IN[page] * 2 + (item == 0)
                ts += _pause(rng)
            item += 1
            follow = _follow_up(rng, page)
            if follow:
                yield ts, _page_line(user, follow, item, sid, ts), _IN[follow] * 2
                item += 1
                ts += _pause(rng)
                if follow == "Submit Upgrade" or follow == "Submit Downgrade":
                    user.set_level("paid" if follow == "Submit Upgrade" else "free")
            if page == "Logout":
                if rng.random() < 0.9:
                    yield ts, _logged_out_line(user, "Home", item, sid, ts), _OUT["Home"] * 2
                    ts += _pause(rng)
                break
        t_s = ts / 1000 + 600  # at least ten minutes between sessions


def _next_page(rng: random.Random, level: str) -> str:
    steps = _STEPS_PAID if level == "paid" else _STEPS_FREE
    x = rng.random()
    for page, p in steps:
        if x < p:
            return page
    return "NextSong"


def _follow_up(rng: random.Random, page: str) -> str | None:
    """The page a user goes to right after this one, when there is one (Save, Submit)."""
    if page == "NextSong" or page == "Home":
        return None
    x = rng.random()
    if page == "Settings" and x < 0.18:
        return "Save Settings"
    if page == "Upgrade" and x < 0.35:
        return "Submit Upgrade"
    if page == "Downgrade" and x < 0.08:
        return "Submit Downgrade"
    return None


def _page_line(user: User, page: str, item: int, sid: int, ts: int) -> str:
    return (f'{{"artist":null{user.head}{item}{user.middle}null{user.level_part}{_METHOD_PAGE[page]}'
            f'{user.registration_part}{sid},"song":null{_STATUS_TS[page]}{ts}{user.tail}')


def _logged_out_line(user: User, page: str, item: int, sid: int, ts: int) -> str:
    return (f'{{"artist":null{_LOGGED_OUT}{item},"lastName":null,"length":null,"level":"{user.level}",'
            f'"location":null{_METHOD_PAGE[page]},"registration":null,"sessionId":{sid},"song":null'
            f'{_STATUS_TS[page]}{ts},"userAgent":null,"userId":""}}')


# -- writing the logs --------------------------------------------------------------------------


class _DayFiles:
    """log_data/YYYY/MM/YYYY-MM-DD-events.json, one per UTC day, lines joined without a final newline."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.day = -1
        self.handle: IO[str] | None = None
        self.started = False
        self.files = 0
        self.bytes = 0
        self.first: date | None = None
        self.last: date | None = None

    def open_day(self, day: int) -> None:
        self.close()
        d = date(1970, 1, 1) + timedelta(days=day)
        folder = self.log_dir / f"{d.year:04d}" / f"{d.month:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        self.handle = open(folder / f"{d.isoformat()}-events.json", "w", encoding="ascii", newline="")
        self.day, self.started, self.files = day, False, self.files + 1
        self.first = self.first or d
        self.last = d

    def write(self, lines: list[str]) -> None:
        if lines and self.handle:
            text = "\n".join(lines)
            if self.started:
                text = "\n" + text
            self.handle.write(text)
            self.bytes += len(text)
            self.started = True

    def close(self) -> None:
        if self.handle:
            self.handle.close()
            self.handle = None


def write_logs(log_dir: Path, streams: list[Iterator[Event]], *, end_ms: int | None, limit: int | None,
               progress: Progress) -> tuple[_DayFiles, list[int]]:
    """Merge the users' streams in `ts` order into one file per UTC day; stop at end_ms or after limit.

    Returns the files and the tally of written events per kind code (see KINDS).
    """
    heap = [(ts, index, line, kind, stream) for index, stream in enumerate(streams)
            for ts, line, kind in (next(stream),)]
    heapq.heapify(heap)
    files = _DayFiles(log_dir)
    tally = [0] * (2 * len(KINDS))
    lines: list[str] = []
    remaining = limit if limit is not None else -1
    end = end_ms if end_ms is not None else 1 << 62
    next_day_ms = -1
    report = 0
    replace = heapq.heapreplace
    while remaining and heap[0][0] < end:
        ts, index, line, kind, stream = heap[0]
        if ts >= next_day_ms:
            files.write(lines)
            lines = []
            files.open_day(ts // 86_400_000)
            next_day_ms = (files.day + 1) * 86_400_000
        lines.append(line)
        tally[kind] += 1
        remaining -= 1
        if len(lines) == 20_000:
            files.write(lines)
            lines = []
            progress.advance(20_000)
            report += 20_000
        ts, line, kind = next(stream)
        replace(heap, (ts, index, line, kind, stream))
    files.write(lines)
    files.close()
    progress.advance(sum(tally) - report)
    return files, tally


def _check_options(songs: int, users: int | None, days: int | None, events: int | None) -> None:
    if days is not None and events is not None:
        raise SparkifyError("give --days or --events, not both: --days fixes the time span, --events the count")
    for name, value in (("--songs", songs), ("--users", users), ("--days", days), ("--events", events)):
        if value is not None and value < 1:
            raise SparkifyError(f"{name} must be at least 1, got {value}")


def _prepare_out(out_dir: Path, overwrite: bool) -> None:
    """Refuse to mix with existing data; --overwrite replaces only song_data/ and log_data/."""
    if out_dir.exists() and not out_dir.is_dir():
        raise SparkifyError(f"--out {str(out_dir)!r} is a file, not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        if not overwrite:
            raise SparkifyError(
                f"--out {str(out_dir)!r} is not empty: choose a new folder, or pass --overwrite "
                "to replace its song_data/ and log_data/"
            )
        for sub in ("song_data", "log_data"):
            shutil.rmtree(out_dir / sub, ignore_errors=True)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SparkifyError(f"cannot create --out {str(out_dir)!r}: {exc.strerror}") from exc


def generate(
    out_dir: str | os.PathLike[str],
    *,
    songs: int = DEFAULT_SONGS,
    users: int | None = None,
    days: int | None = None,
    events: int | None = None,
    seed: int = DEFAULT_SEED,
    start: date = DEFAULT_START,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> GenerateSummary:
    """Write a song catalogue and event logs under `out_dir`; the same arguments give the same bytes.

    `days` fixes the time span (default 30) and the event count follows from the users' activity;
    `events` fixes the exact count and the span follows. Without `users` there are 1000 users or,
    with `events`, one per ~100 events, so any size spans about a month, like the real data.
    """
    _check_options(songs, users, days, events)
    began = time.perf_counter()
    progress = progress or _NoProgress()
    out = Path(out_dir)
    _prepare_out(out, overwrite)
    if users is None:
        users = DEFAULT_USERS if events is None else max(1, round(events / (EVENTS_PER_USER_DAY * DEFAULT_DAYS)))
    if events is None and days is None:
        days = DEFAULT_DAYS

    catalogue, unknown = make_catalogue(songs, seed)
    summary = GenerateSummary(out, seed, songs=len(catalogue), artists=len({s.artist.artist_id for s in catalogue}))
    summary.song_bytes = write_songs(catalogue, out / "song_data", progress)

    logs_began = time.perf_counter()
    rng = random.Random(f"{seed}:events")
    start_s = int(datetime(start.year, start.month, start.day, tzinfo=timezone.utc).timestamp())
    user_list = make_users(users, rng, start_s)
    clock, picker, session_ids = _Clock(rng), _Songs(rng, catalogue, unknown), itertools.count(1)
    streams = [user_events(u, rng, clock, picker, session_ids, start_s) for u in user_list]
    end_ms = None if days is None else (start_s + days * 86400) * 1000
    expected = events or round(users * days * EVENTS_PER_USER_DAY)  # type: ignore[operator]
    progress.start("writing events", expected)
    files, tally = write_logs(out / "log_data", streams, end_ms=end_ms, limit=events, progress=progress)
    progress.finish()
    _summarise(summary, files, tally)
    summary.users = users
    summary.seconds = time.perf_counter() - began
    summary.log_seconds = time.perf_counter() - logs_began
    return summary


def _summarise(summary: GenerateSummary, files: _DayFiles, tally: list[int]) -> None:
    summary.log_files, summary.log_bytes, summary.first_day, summary.last_day = (
        files.files, files.bytes, files.first, files.last)
    pages: dict[str, int] = {}
    for code, (page, logged_in, known) in enumerate(KINDS):
        count = tally[2 * code] + tally[2 * code + 1]
        pages[page] = pages.get(page, 0) + count
        summary.logged_out_events += 0 if logged_in else count
        summary.catalogue_plays += count if known else 0
    summary.pages = {p: n for p, n in sorted(pages.items(), key=lambda kv: -kv[1]) if n}
    summary.events = sum(tally)
    summary.next_song_events = pages.get("NextSong", 0)
    summary.sessions = sum(tally[1::2])
    summary.level_changes = pages.get("Submit Upgrade", 0) + pages.get("Submit Downgrade", 0)
