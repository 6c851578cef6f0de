"""The analysts' questions: named queries over the star schema, one SQL file each.

Each file in sql/report/ starts with a comment header (title, description, chart) so the SQL, its
meaning and how to draw it stay together; the terminal, CSV/JSON files and the HTML page are all
rendered from the same results.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from sparkify.errors import SparkifyError
from sparkify.answers.output import as_csv, as_json
from sparkify.warehouse.sqlfiles import read_sql
from sparkify.warehouse.base import QueryResult, Warehouse

#: The questions, in the order the report answers them.
QUERIES = (
    "song_match_rate", "top_songs", "top_artists", "top_songs_in_logs", "top_artists_in_logs",
    "plays_by_day", "new_vs_returning_by_day", "plays_by_hour", "busiest_hour", "plays_by_weekday",
    "plays_by_weekday_hour", "plays_by_level", "sessions_by_level", "paid_share_by_day",
    "level_changes_by_week", "upgrade_funnel_by_week", "retention_by_week", "churn_rate_by_week",
    "plays_by_gender", "plays_by_state", "top_locations", "quiet_locations", "user_agents",
    "most_active_users", "churn_risk",
)

#: The fact tables whose rows a period limits (`{songplays}`, `{page_views}` in the SQL).
FACTS = ("songplays", "page_views")
DEFAULT_LIMIT = 10
DEFAULT_CHURN_DAYS = 7

_HEADER = re.compile(r"^--\s*(title|description|chart)\s*:\s*(.*?)\s*$")
_PARAM = re.compile(r"\{(limit|churn_days)\}")
_PERIOD = re.compile(r"\{in_period:([a-z_][a-z_.]*)\}")


@dataclass(frozen=True)
class Chart:
    """How to draw a result: `bar`, `line`, `heatmap` or `none`, and which columns."""

    kind: str = "none"
    options: dict[str, str] = field(default_factory=dict)
    flags: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, text: str) -> Chart:
        kind, *words = text.split() or ["none"]
        options = dict(w.split("=", 1) for w in words if "=" in w)
        return cls(kind, options, frozenset(w for w in words if "=" not in w))

    def columns(self, key: str) -> list[str]:
        return [c for c in self.options.get(key, "").split(",") if c]


@dataclass(frozen=True)
class Question:
    name: str
    title: str
    description: str
    chart: Chart
    sql: str


@dataclass
class Params:
    """What the report is asked: top-N size, churn window, and the days it covers (both included)."""

    limit: int = DEFAULT_LIMIT
    churn_days: int = DEFAULT_CHURN_DAYS
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def __post_init__(self) -> None:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise SparkifyError(f"the period starts ({self.date_from}) after it ends ({self.date_to})")

    def period(self, column: str) -> str:
        """A condition keeping `column` (a timestamp) inside the period; TRUE when there is none."""
        parts = []
        if self.date_from:
            parts.append(f"{column} >= TIMESTAMP '{self.date_from.isoformat()} 00:00:00'")
        if self.date_to:
            parts.append(f"{column} < TIMESTAMP '{(self.date_to + dt.timedelta(days=1)).isoformat()} 00:00:00'")
        return " AND ".join(parts) or "1 = 1"

    def fill(self, text: str) -> str:
        """Put the parameters into SQL or a description; ints and dates, so this is injection-free.

        Inlined rather than bound because the backends' drivers disagree on placeholders (?, %s).
        `{songplays}` and `{page_views}` are the period's rows (always followed by an alias),
        `{in_period:COLUMN}` a condition for other timestamps (user versions).
        """
        for fact in FACTS:
            rows = (f"analytics.{fact}" if not (self.date_from or self.date_to)
                    else f"(SELECT * FROM analytics.{fact} WHERE {self.period('start_time')})")
            text = text.replace(f"{{{fact}}}", rows)
        text = _PERIOD.sub(lambda m: self.period(m.group(1)), text)
        return _PARAM.sub(lambda m: str(int(getattr(self, m.group(1)))), text)

    def describe(self) -> str:
        """The period in words, for page headers: '' when the report covers everything."""
        if not (self.date_from or self.date_to):
            return ""
        return f"Period: {self.date_from or 'the first play'} to {self.date_to or 'the last play'} (UTC days, both included)."


def question(name: str, dialect: str, params: Params | None = None) -> Question:
    """The named question, its SQL for `dialect` (sql/<dialect>/report/NAME.sql when present)."""
    if name not in QUERIES:
        raise SparkifyError(f"no query named {name!r}: run `sparkify queries` to list them")
    params = params or Params()
    text = read_sql(f"report/{name}", dialect)
    meta = {"title": name, "description": "", "chart": "none"}
    for line in text.splitlines():
        match = _HEADER.match(line.strip())
        if match:
            meta[match.group(1)] = match.group(2)
        elif line.strip() and not line.lstrip().startswith("--"):
            break
    sql = params.fill(text).strip().rstrip(";")
    return Question(name, meta["title"], params.fill(meta["description"]), Chart.parse(meta["chart"]), sql)


def questions(dialect: str, params: Params | None = None) -> list[Question]:
    return [question(name, dialect, params) for name in QUERIES]


def run(wh: Warehouse, params: Params | None = None, names: tuple[str, ...] = QUERIES,
        ) -> list[tuple[Question, QueryResult]]:
    """Answer the questions (all by default) on this warehouse."""
    return [(q, wh.query(q.sql)) for q in (question(n, wh.dialect, params) for n in names)]


def write_files(answers: list[tuple[Question, QueryResult]], fmt: str, out_dir: str | Path) -> list[Path]:
    """One file per question (NAME.csv or NAME.json) in `out_dir`, for BI tools."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    render = as_csv if fmt == "csv" else as_json
    paths = []
    for q, result in answers:
        path = folder / f"{q.name}.{fmt}"
        text = render(result)
        path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def match_rate_sentence(result: QueryResult, with_rate: bool = True) -> str:
    """`Only 1 of 6,820 plays (0.0147%) …`: the caveat every song and artist answer carries."""
    row = dict(zip(result.columns, result.rows[0])) if result.rows else {}
    plays, matched = int(row.get("plays") or 0), int(row.get("matched_plays") or 0)
    if not plays:
        return "No plays yet."
    rate = f" ({100.0 * matched / plays:.3g}%)" if with_rate else ""
    lead = "Only " if matched < plays / 2 else ""
    return (f"{lead}{matched:,} of {plays:,} plays{rate} matched a song in the catalogue: the catalogue's "
            f"song and artist rankings cover those plays only; the rankings by the logs' names count every play.")


def for_terminal(q: Question, result: QueryResult) -> QueryResult:
    """A heat-map answer as a grid (one row per y, one column per x) that fits a terminal.

    CSV and JSON keep the long form, which is what BI tools want.
    """
    if q.chart.kind != "heatmap" or not result.rows:
        return result
    x, y, value = q.chart.options["x"], q.chart.options["y"], q.chart.options["value"]
    ix, iy, iv = (result.columns.index(c) for c in (x, y, value))
    xs = sorted({row[ix] for row in result.rows})
    ys = sorted({row[iy] for row in result.rows})
    cells = {(row[iy], row[ix]): row[iv] for row in result.rows}
    return QueryResult([f"{y} \\ {x}", *map(str, xs)], [(v, *(cells.get((v, h), 0) for h in xs)) for v in ys])
