"""Small inline-SVG charts (bars, lines, a heat map) drawn in Python.

The HTML report must open with no network access, so no charting library: each chart is a few
SVG shapes with a <title> per mark as its tooltip. Every string that comes from the data goes
through `esc`, so a song called `<script>` is drawn as text.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

PALETTE = ("#3566a8", "#e07b39", "#4f9a5b", "#8e5ba8")
HIGHLIGHT = "#c2410c"
FONT = 12


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def fmt_number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _nice_scale(value: float, ticks: int = 4) -> tuple[float, int]:
    """A round tick step (1, 2, 2.5 or 5 × 10^n) and how many ticks reach `value`: (step, ticks)."""
    if value <= 0:
        return 1.0, 1
    raw = value / ticks
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return step, max(1, math.ceil(value / step - 1e-9))


def _svg(width: int, height: int, body: list[str], label: str) -> str:
    return (f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
            f'role="img" aria-label="{esc(label)}" xmlns="http://www.w3.org/2000/svg">'
            + "".join(body) + "</svg>")


def hbar(labels: Sequence[str], values: Sequence[float], label: str, width: int = 560) -> str:
    """Horizontal bars, largest first: for top-N answers with long labels."""
    row, left, right, top = 24, 236, 56, 6
    height = top * 2 + row * max(len(values), 1)
    top_value = max(values, default=0) or 1
    body = []
    for i, (name, value) in enumerate(zip(labels, values)):
        y = top + i * row
        bar = (width - left - right) * value / top_value
        body.append(
            f'<g><title>{esc(name)}: {fmt_number(value)}</title>'
            f'<text x="{left - 8}" y="{y + row / 2 + 4:.1f}" text-anchor="end" font-size="{FONT}">'
            f'{esc(_clip(name, 32))}</text>'
            f'<rect class="bar" x="{left}" y="{y + 3}" width="{bar:.1f}" height="{row - 6}" fill="{PALETTE[0]}"/>'
            f'<text x="{left + bar + 5:.1f}" y="{y + row / 2 + 4:.1f}" font-size="{FONT}">{fmt_number(value)}</text>'
            f'</g>'
        )
    return _svg(width, height, body, label)


def columns(labels: Sequence[str], series: dict[str, Sequence[float]], label: str, width: int = 560,
            height: int = 240, highlight_max: bool = False) -> str:
    """Vertical bars, one group per label and one bar per series: hours, weekdays, weeks."""
    left, right, top, bottom = 44, 10, 24 if len(series) > 1 else 10, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    step_value, ticks = _nice_scale(max((v for vs in series.values() for v in vs), default=0))
    top_value = step_value * ticks
    body = _y_axis(left, top, plot_w, plot_h, step_value, ticks)
    group = plot_w / max(len(labels), 1)
    bar_w = group * 0.8 / max(len(series), 1)
    peak = max(series[next(iter(series))], default=None) if highlight_max and len(series) == 1 else None
    step = max(1, round(len(labels) / 12))
    for i, name in enumerate(labels):
        x0 = left + i * group + group * 0.1
        for s, (series_name, values) in enumerate(series.items()):
            value = values[i]
            h = plot_h * value / top_value
            color = HIGHLIGHT if peak is not None and value == peak else PALETTE[s % len(PALETTE)]
            body.append(
                f'<rect class="bar" x="{x0 + s * bar_w:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}" fill="{color}"><title>{esc(name)} {esc(series_name)}: '
                f'{fmt_number(value)}</title></rect>'
            )
        if i % step == 0:
            body.append(f'<text x="{left + (i + 0.5) * group:.1f}" y="{height - bottom + 16}" '
                        f'text-anchor="middle" font-size="{FONT}">{esc(_clip(str(name), 12))}</text>')
    if len(series) > 1:
        body += _legend(list(series), left)
    return _svg(width, height, body, label)


def line(labels: Sequence[str], values: Sequence[float], label: str, width: int = 560, height: int = 240,
         suffix: str = "") -> str:
    """A line over time (labels are dates, in order), a dot per point with its value as tooltip."""
    left, right, top, bottom = 44, 14, 10, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    step_value, ticks = _nice_scale(max(values, default=0))
    top_value = step_value * ticks
    body = _y_axis(left, top, plot_w, plot_h, step_value, ticks, suffix)
    n = len(values)
    xs = [left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2) for i in range(n)]
    ys = [top + plot_h - plot_h * v / top_value for v in values]
    if n:
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys))
        body.append(f'<polyline class="line" points="{points}" fill="none" stroke="{PALETTE[0]}" '
                    f'stroke-width="2"/>')
    for x, y, name, value in zip(xs, ys, labels, values):
        body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{PALETTE[0]}">'
                    f'<title>{esc(name)}: {fmt_number(value)}{esc(suffix)}</title></circle>')
    step = max(1, round(n / 6))
    for i in range(0, n, step):
        body.append(f'<text x="{xs[i]:.1f}" y="{height - bottom + 16}" text-anchor="middle" '
                    f'font-size="{FONT}">{esc(labels[i])}</text>')
    return _svg(width, height, body, label)


def heatmap(rows: Sequence[str], cols: Sequence[str], cells: dict[tuple[int, int], float], label: str,
            width: int = 560) -> str:
    """A grid of rows × cols (weekday × hour); darker means more."""
    left, top, bottom = 40, 6, 24
    cell_w = (width - left - 6) / max(len(cols), 1)
    cell_h = min(28.0, cell_w * 1.2)
    height = int(top + cell_h * len(rows) + bottom)
    peak = max(cells.values(), default=0) or 1
    body = []
    for r, row_name in enumerate(rows):
        y = top + r * cell_h
        body.append(f'<text x="{left - 6}" y="{y + cell_h / 2 + 4:.1f}" text-anchor="end" '
                    f'font-size="{FONT}">{esc(row_name)}</text>')
        for c, col_name in enumerate(cols):
            value = cells.get((r, c), 0)
            share = value / peak
            body.append(
                f'<rect class="cell" x="{left + c * cell_w:.1f}" y="{y:.1f}" width="{cell_w - 1:.1f}" '
                f'height="{cell_h - 1:.1f}" fill="{PALETTE[0]}" fill-opacity="{0.06 + 0.94 * share:.2f}">'
                f'<title>{esc(row_name)} {esc(col_name)}: {fmt_number(value)}</title></rect>'
            )
    for c, col_name in enumerate(cols):
        if c % 3 == 0:
            body.append(f'<text x="{left + (c + 0.5) * cell_w:.1f}" y="{height - 8}" text-anchor="middle" '
                        f'font-size="{FONT}">{esc(col_name)}</text>')
    return _svg(width, height, body, label)


def _y_axis(left: int, top: int, plot_w: float, plot_h: float, step: float, ticks: int,
            suffix: str = "") -> list[str]:
    body = []
    for k in range(ticks + 1):
        y = top + plot_h - plot_h * k / ticks
        body.append(f'<line x1="{left}" x2="{left + plot_w:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
                    f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="{FONT - 1}">'
                    f'{fmt_number(step * k)}{esc(suffix)}</text>')
    return body


def _legend(names: list[str], left: int) -> list[str]:
    body, x = [], left
    for s, name in enumerate(names):
        body.append(f'<rect x="{x}" y="4" width="12" height="12" fill="{PALETTE[s % len(PALETTE)]}"/>'
                    f'<text x="{x + 16}" y="14" font-size="{FONT}">{esc(name)}</text>')
        x += 24 + 8 * len(name)
    return body
