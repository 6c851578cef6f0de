"""Each user's events, session after session, as eventsim plays them: the page mix of free and paid
users, logged-out visits, upgrades and downgrades, and heavy-tailed song popularity.

Speed: a user is a generator of its own lines (writers.write_logs merges them in `ts` order), and
a line is joined from the user's ready JSON fragments; nothing is encoded per event.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator

from sparkify.generate.catalogue import Song
from sparkify.generate.users import MS, Clock, User
from sparkify.generate.writers import Event, log_json, num_json

#: Share of NextSong plays of songs that are not in the generated catalogue (as in the real logs).
UNKNOWN_SHARE = 0.08

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


class SongPicker:
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
                self.items.append((log_json(s.artist_name), num_json(s.duration), log_json(s.title),
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



def _pause(rng: random.Random, scale: float = 1.0) -> int:
    """Milliseconds (whole seconds, so every ts keeps its 796) a user spends on a page that is not a song."""
    return 1000 * (1 + int(scale * rng.lognormvariate(3.9, 0.9)))


def user_events(user: User, rng: random.Random, clock: Clock, songs: SongPicker, session_ids: Iterator[int],
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
