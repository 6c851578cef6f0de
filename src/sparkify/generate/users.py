"""The listeners: who they are (name, place, browser, level), how active, and when their sessions start.

Each user keeps the constant JSON fragments of its event lines, so an event line is a few string
joins, never a JSON encoder call.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from sparkify.generate.vocabulary import AGENTS, FIRST_F, FIRST_M, LAST, METROS
from sparkify.generate.writers import log_json

#: Mean events a user writes per day: 1000 users over 30 days give about 100 k events.
EVENTS_PER_USER_DAY = 3.3
#: Every `ts` and `registration` in the real logs ends in the same milliseconds.
MS = 796

#: Relative listening activity by UTC hour: low at night, rising through the day, peak in the evening.
HOUR_WEIGHTS = (0.6, 0.45, 0.3, 0.2, 0.15, 0.15, 0.2, 0.3, 0.45, 0.55, 0.6, 0.65,
                0.7, 0.7, 0.75, 0.8, 0.9, 1.0, 1.15, 1.3, 1.4, 1.35, 1.1, 0.85)
WEEKEND_FACTOR = 1.35
_MAX_WEIGHT = max(HOUR_WEIGHTS) * WEEKEND_FACTOR
_MEAN_WEIGHT = sum(HOUR_WEIGHTS) / 24 * (5 + 2 * WEEKEND_FACTOR) / 7


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
    agents = [a for a, _ in AGENTS]
    agent_weights = [w for _, w in AGENTS]
    users = []
    mean_rate = EVENTS_PER_USER_DAY / _mean_session_events() / 86400
    for user_id in range(1, n + 1):
        gender = "F" if rng.random() < 0.55 else "M"
        first = rng.choice(FIRST_F if gender == "F" else FIRST_M)
        registered = start_s - int(rng.uniform(1, 450) * 86400)
        # Lognormal activity, mean 1: a few heavy listeners, many occasional ones.
        activity = rng.lognormvariate(-0.5, 1.0)
        users.append(User(
            user_id, first, rng.choice(LAST), gender, rng.choice(METROS)[0],
            rng.choices(agents, agent_weights)[0], registered * 1000 + MS,
            "paid" if rng.random() < 0.35 else "free", mean_rate * activity,
        ))
    return users


def _mean_session_events() -> float:
    """Events per session of the model below, measured on generated data: turns a daily event rate
    into a session rate (1000 users over 30 days then write about 100 k events)."""
    return 14.0


class Clock:
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
