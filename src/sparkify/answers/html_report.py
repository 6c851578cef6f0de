"""`sparkify report --html`: one self-contained page, a chart per question where it helps.

No scripts and no external resources: the page opens offline, from an e-mail or a file share, and
a value from the data can never run as code (everything is escaped by `svg_charts.esc`).
"""

from __future__ import annotations

import datetime as dt
import decimal
from pathlib import Path
from typing import Any

from sparkify.answers import svg_charts as svg
from sparkify.answers.report import Question, match_rate_sentence
from sparkify.answers.svg_charts import esc
from sparkify.warehouse.base import QueryResult

WEEKDAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")
TABLE_OPEN_ROWS = 12  # longer tables start folded under their chart
#: Answers shown in the page's header (the match-rate banner, the key numbers) instead of a section.
IN_HEADER = ("song_match_rate", "busiest_hour")
#: Song and artist panels: ranked by plays matched to the catalogue, or by the names in the logs.
RANKED_BY_MATCH = ("top_songs", "top_artists")
RANKED_BY_LOG = ("top_songs_in_logs", "top_artists_in_logs")
#: Axis titles for well-known columns; others are the column name with spaces.
TITLES = {"hour": "hour of day (UTC)", "day": "day (UTC)", "week": "week (starting Monday)",
          "weekday": "weekday", "weekday_name": "weekday", "cohort_week": "cohort (week of first play)"}

STYLE = """
:root { color-scheme: light; --ink: #1f2933; --muted: #5b6770; --line: #e3e7eb; --warn: #fff4e5; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color: var(--ink); background: #f6f7f9; }
header { padding: 18px 28px 8px; }
h1 { margin: 0 0 4px; font-size: 24px; }
.meta { color: var(--muted); margin: 0; }
.callout { margin: 12px 28px; padding: 12px 16px; border-left: 6px solid #c2410c; background: var(--warn);
           border-radius: 6px; font-size: 15px; }
.callout strong { font-size: 18px; }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(190px, 1fr)); gap: 12px; margin: 0 28px; }
.kpi { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.kpi .value { font-size: 22px; font-weight: 600; }
.kpi .label { color: var(--muted); }
main { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 540px), 1fr)); gap: 16px;
       padding: 16px 28px; }
@media (max-width: 600px) { header, main { padding-left: 10px; padding-right: 10px; }
                            .callout, .kpis { margin-left: 10px; margin-right: 10px; } }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; min-width: 0; }
section.wide { grid-column: 1 / -1; }
section h2 { font-size: 17px; margin: 0 0 2px; }
section p { color: var(--muted); margin: 0 0 8px; }
svg.chart { width: 100%; height: auto; max-width: 640px; display: block; font-family: inherit; fill: var(--ink); }
.scroll { max-height: 360px; overflow: auto; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
th { vertical-align: bottom; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; overflow-wrap: normal; }
td.when { white-space: nowrap; }
.ranking { color: var(--ink); font-weight: 600; }
details summary { cursor: pointer; color: var(--muted); margin-top: 6px; }
code { font-size: 12px; }
"""


def write_html(answers: list[tuple[Question, QueryResult]], path: str | Path, period: str = "") -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render(answers, period), encoding="utf-8")
    return target


def render(answers: list[tuple[Question, QueryResult]], period: str = "") -> str:
    """The page; `period` (Params.describe()) says which days it covers when not all."""
    by_name = {q.name: r for q, r in answers}
    match = by_name.get("song_match_rate")
    sections = "\n".join(_section(q, r, match) for q, r in _in_page_order(answers, match)
                          if q.name not in IN_HEADER)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sparkify listening report</title>
<style>{STYLE}</style>
</head>
<body>
<header>
<h1>Sparkify listening report</h1>
<p class="meta">{esc(period)} {esc(_period(by_name.get("plays_by_day")))} Generated {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC.</p>
</header>
{_match_callout(by_name.get("song_match_rate"))}
{_kpis(by_name)}
<main>
{sections}
</main>
</body>
</html>
"""


def _rows(result: QueryResult | None) -> list[dict[str, Any]]:
    return [dict(zip(result.columns, row)) for row in result.rows] if result else []


def _period(result: QueryResult | None) -> str:
    rows = _rows(result)
    if not rows:
        return "No plays yet."
    return f"Plays from {_cell(rows[0]['day'])} to {_cell(rows[-1]['day'])} (UTC)."


def _match_callout(result: QueryResult | None) -> str:
    rows = _rows(result)
    if result is None or not rows:
        return ""
    plays, matched = int(rows[0].get("plays") or 0), int(rows[0].get("matched_plays") or 0)
    rate = f"{100.0 * matched / plays:.3g}%" if plays else "n/a"
    return (f'<div class="callout" id="song-match-rate"><strong>Song-match rate: {esc(rate)}</strong> '
            f'&mdash; {esc(match_rate_sentence(result, with_rate=False))}</div>')


def _kpis(by_name: dict[str, QueryResult]) -> str:
    cards: list[tuple[str, str]] = []
    match = _rows(by_name.get("song_match_rate"))
    if match:
        cards.append((svg.fmt_number(int(match[0]["plays"] or 0)), "plays"))
    paid = [r for r in _rows(by_name.get("plays_by_level")) if r.get("level") == "paid"]
    if paid:
        cards.append((f"{_cell(paid[0]['share_pct'])}%", f"of plays on the paid level ({svg.fmt_number(int(paid[0]['plays']))})"))
    busiest = _rows(by_name.get("busiest_hour"))
    if busiest:
        cards.append((f"{int(busiest[0]['hour']):02d}:00", f"busiest hour, UTC ({_cell(busiest[0]['share_pct'])}% of plays)"))
    churn = _rows(by_name.get("churn_rate_by_week"))
    if churn:
        cards.append((f"{_cell(churn[-1]['churn_rate_pct'])}%",
                      f"weekly churn (week of {_cell(churn[-1]['week'])}; {_trend(churn, 'churn_rate_pct')})"))
    if "churn_risk" in by_name and match:
        idle_rows = _rows(by_name["churn_risk"])  # the page lists the longest idle; the card counts them all
        idle, users = (int(idle_rows[0]["idle_users"]) if idle_rows else 0), _listeners(by_name)
        share = f" ({100.0 * idle / users:.0f}% of {svg.fmt_number(users)} listeners)" if users else ""
        cards.append((svg.fmt_number(idle), f"users at churn risk{share}"))
    body = "".join(f'<div class="kpi"><div class="value">{esc(v)}</div><div class="label">{esc(k)}</div></div>'
                   for v, k in cards)
    return f'<div class="kpis">{body}</div>'


def _trend(rows: list[dict[str, Any]], column: str) -> str:
    """`up 3.1 points on the week before` from the last two rows."""
    if len(rows) < 2:
        return "no earlier week"
    change = _num(rows[-1][column]) - _num(rows[-2][column])
    word = "up" if change > 0 else "down" if change < 0 else "unchanged"
    return f"{word} {abs(change):.1f} points on the week before" if change else "unchanged on the week before"


def _listeners(by_name: dict[str, QueryResult]) -> int:
    return sum(int(r["listeners"]) for r in _rows(by_name.get("plays_by_gender")))


def _ranking_note(q: Question, match: QueryResult | None) -> str:
    """Song and artist panels say which plays their ranking counts."""
    if q.name not in RANKED_BY_MATCH + RANKED_BY_LOG or not match or not match.rows:
        return ""
    row = dict(zip(match.columns, match.rows[0]))
    plays, matched = svg.fmt_number(int(row["plays"] or 0)), svg.fmt_number(int(row["matched_plays"] or 0))
    if q.name in RANKED_BY_LOG:
        return f'<p class="ranking">Ranking: all {plays} plays, by the names their events logged.</p>'
    return f'<p class="ranking">Ranking: plays matched to a catalogue song, {matched} of {plays} plays.</p>'


def _few_matched(match: QueryResult | None) -> bool:
    row = dict(zip(match.columns, match.rows[0])) if match and match.rows else {}
    return int(row.get("matched_plays") or 0) < int(row.get("plays") or 0) / 2


def _in_page_order(answers: list[tuple[Question, QueryResult]], match: QueryResult | None,
                   ) -> list[tuple[Question, QueryResult]]:
    """When few plays matched a song, the rankings by the logs' names come before the catalogue's."""
    if not _few_matched(match):
        return answers
    by_log = [a for a in answers if a[0].name in RANKED_BY_LOG]
    rest = [a for a in answers if a[0].name not in RANKED_BY_LOG]
    at = next((i for i, a in enumerate(rest) if a[0].name in RANKED_BY_MATCH), len(rest))
    return rest[:at] + by_log + rest[at:]


def _section(q: Question, result: QueryResult, match: QueryResult | None = None) -> str:
    chart = _chart(q, result) if result.rows else ""
    table = _table(result)
    if chart and len(result.rows) > TABLE_OPEN_ROWS:
        table = f"<details><summary>Table ({len(result.rows)} rows)</summary>{table}</details>"
    elif chart:
        table = f"<details open><summary>Table</summary>{table}</details>"
    empty = "<p><em>No rows.</em></p>" if not result.rows else ""
    wide = ' class="wide"' if not chart or "wide" in q.chart.flags else ""
    return (f'<section id="{esc(q.name)}"{wide}><h2>{esc(q.title)}</h2><p>{esc(q.description)} '
            f'<code>sparkify query {esc(q.name)}</code></p>{_ranking_note(q, match)}{chart}{empty}'
            f'<div class="scroll">{table}</div></section>')


def _title(spec_value: str | None, columns: list[str]) -> str:
    if spec_value:
        return spec_value.replace("_", " ")
    return " · ".join(TITLES.get(c, c.replace("_", " ")) for c in columns)


def _chart(q: Question, result: QueryResult) -> str:
    rows, spec = _rows(result), q.chart
    label, opt = q.title, spec.options
    suffix = "%" if "percent" in spec.flags else ""
    if spec.kind == "bar":
        label_cols, value_cols = spec.columns("label"), spec.columns("value")
        rows = _fill_hours(rows, label_cols[0], value_cols)
        labels = [" · ".join(_cell(r[c]) for c in label_cols if r.get(c) not in (None, "")) for r in rows]
        if "vertical" in spec.flags:
            series = {c.replace("_", " "): [_num(r[c]) for r in rows] for c in value_cols}
            return svg.columns(labels, series, label, _title(opt.get("xtitle"), label_cols),
                               _title(opt.get("ytitle"), value_cols), highlight_max=label_cols[0] == "hour")
        return svg.hbar(labels, [_num(r[value_cols[0]]) for r in rows], label,
                        _title(opt.get("xtitle"), value_cols[:1]), _title(opt.get("ytitle"), label_cols))
    if spec.kind == "line":
        x, ys = opt["x"], spec.columns("y")
        series = {c.replace("_", " "): [_num(r[c]) for r in rows] for c in ys}
        return svg.line([_cell(r[x]) for r in rows], series, label, _title(opt.get("xtitle"), [x]),
                        _title(opt.get("ytitle"), ys), suffix=suffix)
    if spec.kind == "heatmap":
        x, y, value = opt["x"], opt["y"], opt["value"]
        xs = list(range(24)) if x == "hour" else sorted({r[x] for r in rows})
        ys = list(range(7)) if y == "weekday" else sorted({r[y] for r in rows})
        cells = {(ys.index(r[y]), xs.index(r[x])): _num(r[value]) for r in rows if r[y] in ys and r[x] in xs}
        row_names = [WEEKDAYS[v] if y == "weekday" else _cell(v) for v in ys]
        return svg.heatmap(row_names, [_cell(v) for v in xs], cells, label, _title(opt.get("xtitle"), [x]),
                           _title(opt.get("ytitle"), [y]), _title(None, [value]), suffix=suffix)
    return ""


def _fill_hours(rows: list[dict[str, Any]], label_col: str, value_cols: list[str]) -> list[dict[str, Any]]:
    """Every hour 0–23 gets a bar, even with no plays."""
    if label_col != "hour":
        return rows
    seen = {int(r["hour"]): r for r in rows}
    return [seen.get(h, {"hour": h, **{c: 0 for c in value_cols}}) for h in range(24)]


def _table(result: QueryResult) -> str:
    numeric = [any(isinstance(r[i], (int, float, decimal.Decimal)) and not isinstance(r[i], bool)
                   for r in result.rows) for i in range(len(result.columns))]
    when = [any(isinstance(r[i], (dt.date, dt.datetime)) for r in result.rows) for i in range(len(result.columns))]
    kinds = ["num" if n else "when" if w else "" for n, w in zip(numeric, when)]
    head = "".join(f'<th class="{k}">{esc(c.replace("_", " "))}</th>' for c, k in zip(result.columns, kinds))
    plain = [c.endswith("_id") or c == "year" for c in result.columns]  # identifiers: no thousands separator
    body = "".join(
        "<tr>" + "".join(f'<td class="{k}">{esc(str(v) if p and v is not None else _cell(v))}</td>'
                         for v, k, p in zip(row, kinds, plain))
        + "</tr>"
        for row in result.rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float, decimal.Decimal)):
        return svg.fmt_number(value)
    return str(value)


def _num(value: Any) -> int | float:
    """A chart value: counts stay ints (drawn as `9,743`), the rest floats."""
    if value is None:
        return 0
    if isinstance(value, int) or isinstance(value, decimal.Decimal) and int(value.as_tuple().exponent) >= 0:
        return int(value)
    return float(value)
