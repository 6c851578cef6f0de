"""Small inline-SVG charts (bars, lines, a heat map) drawn in Python.

The HTML report must open with no network access, so no charting library: each chart is a few
SVG shapes with a <title> per mark as its tooltip. Every chart has both axis titles and a legend
(series swatches, or a colour scale for the heat map), and labels too long for their place are
shortened with the whole text on hover. Every string that comes from the data goes through
`esc`, so a song called `<script>` is drawn as text.
"""

from __future__ import annotations

import decimal
import html
import math
from collections.abc import Sequence

PALETTE = ("#3566a8", "#e07b39", "#4f9a5b", "#8e5ba8")
HIGHLIGHT = "#c2410c"
FONT = 12
Number = int | float | decimal.Decimal


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def fmt_number(value: Number) -> str:
    """The page's one number format: `9,743` and `10,259`; fractions with one decimal (`7.9`)."""
    if isinstance(value, decimal.Decimal) and int(value.as_tuple().exponent) >= 0:
        value = int(value)  # PostgreSQL's sum() of integers
    if isinstance(value, int):
        return f"{value:,}"
    number = float(value)
    if number and abs(number) < 0.1:
        return f"{number:.2g}"
    return f"{number:,.1f}"


def _tick(value: float) -> str:
    return fmt_number(int(value)) if float(value).is_integer() else fmt_number(value)


def _label(text: str, width: int, **attrs: object) -> str:
    """A <text> cut to `width` characters; when cut, the whole text is its tooltip."""
    attributes = " ".join(f'{k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    if len(text) <= width:
        return f"<text {attributes}>{esc(text)}</text>"
    return f"<text {attributes}><title>{esc(text)}</title>{esc(text[: width - 1])}…</text>"


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


def _axis_titles(x_title: str, y_title: str, x_center: float, x_y: float, y_center: float) -> list[str]:
    return [f'<text class="axis-title x" x="{x_center:.1f}" y="{x_y:.1f}" text-anchor="middle" '
            f'font-size="{FONT}" font-weight="600">{esc(x_title)}</text>',
            f'<text class="axis-title y" transform="translate(12 {y_center:.1f}) rotate(-90)" '
            f'text-anchor="middle" font-size="{FONT}" font-weight="600">{esc(y_title)}</text>']


def _legend(names: Sequence[str], x: float, y: float = 4) -> list[str]:
    body = ['<g class="legend">']
    for s, name in enumerate(names):
        body.append(f'<rect x="{x:.1f}" y="{y}" width="12" height="12" fill="{PALETTE[s % len(PALETTE)]}"/>'
                    f'<text x="{x + 16:.1f}" y="{y + 10}" font-size="{FONT}">{esc(name)}</text>')
        x += 28 + 7 * len(name)
    return body + ["</g>"]


def hbar(labels: Sequence[str], values: Sequence[Number], label: str, x_title: str, y_title: str,
         width: int = 560) -> str:
    """Horizontal bars, largest first: for top-N answers with long labels."""
    row, left, right, top, bottom = 24, 236, 56, 24, 34
    height = top + bottom + row * max(len(values), 1)
    top_value = float(max(values, default=0)) or 1.0
    body = _legend([x_title], left)
    for i, (name, value) in enumerate(zip(labels, values)):
        y = top + i * row
        bar = (width - left - right) * float(value) / top_value
        body.append(
            f'<g><title>{esc(name)}: {fmt_number(value)}</title>'
            + _label(name, 30, x=left - 8, y=f"{y + row / 2 + 4:.1f}", text_anchor="end", font_size=FONT)
            + f'<rect class="bar" x="{left}" y="{y + 3}" width="{bar:.1f}" height="{row - 6}" fill="{PALETTE[0]}"/>'
            f'<text x="{left + bar + 5:.1f}" y="{y + row / 2 + 4:.1f}" font-size="{FONT}">{fmt_number(value)}</text>'
            f'</g>'
        )
    body.append(f'<line x1="{left}" x2="{width - right}" y1="{height - bottom + 4}" y2="{height - bottom + 4}" '
                f'stroke="#bbb"/>')
    body += _axis_titles(x_title, y_title, left + (width - left - right) / 2, height - 8, top + (height - top - bottom) / 2)
    return _svg(width, height, body, label)


def columns(labels: Sequence[str], series: dict[str, Sequence[Number]], label: str, x_title: str, y_title: str,
            width: int = 560, height: int = 260, highlight_max: bool = False) -> str:
    """Vertical bars, one group per label and one bar per series: hours, weekdays, weeks."""
    left, right, top, bottom = 64, 10, 26, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    step_value, ticks = _nice_scale(float(max((v for vs in series.values() for v in vs), default=0)))
    top_value = step_value * ticks
    body = _y_axis(left, top, plot_w, plot_h, step_value, ticks) + _legend(list(series), left)
    group = plot_w / max(len(labels), 1)
    bar_w = group * 0.8 / max(len(series), 1)
    first = series[next(iter(series))] if series else []
    peak = max(first, default=None) if highlight_max and len(series) == 1 else None
    step = max(1, round(len(labels) / 12))
    chars = max(4, int(group * step / 7))
    for i, name in enumerate(labels):
        x0 = left + i * group + group * 0.1
        for s, (series_name, values) in enumerate(series.items()):
            value = values[i]
            h = plot_h * float(value) / top_value
            color = HIGHLIGHT if peak is not None and value == peak else PALETTE[s % len(PALETTE)]
            body.append(
                f'<rect class="bar" x="{x0 + s * bar_w:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}" fill="{color}"><title>{esc(name)} {esc(series_name)}: '
                f'{fmt_number(value)}</title></rect>'
            )
        if i % step == 0:
            body.append(_label(str(name), chars, x=f"{left + (i + 0.5) * group:.1f}", y=height - bottom + 16,
                               text_anchor="middle", font_size=FONT))
    body += _axis_titles(x_title, y_title, left + plot_w / 2, height - 8, top + plot_h / 2)
    return _svg(width, height, body, label)


def line(labels: Sequence[str], series: dict[str, Sequence[Number]], label: str, x_title: str, y_title: str,
         width: int = 560, height: int = 260, suffix: str = "") -> str:
    """Lines over time (labels are dates, in order), one per series, a dot per point with its value."""
    left, right, top, bottom = 64, 40, 26, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    step_value, ticks = _nice_scale(float(max((v for vs in series.values() for v in vs), default=0)))
    top_value = step_value * ticks
    body = _y_axis(left, top, plot_w, plot_h, step_value, ticks, suffix) + _legend(list(series), left)
    n = len(labels)
    xs = [left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2) for i in range(n)]
    for s, (series_name, values) in enumerate(series.items()):
        color = PALETTE[s % len(PALETTE)]
        ys = [top + plot_h - plot_h * float(v) / top_value for v in values]
        if n:
            points = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys))
            body.append(f'<polyline class="line" points="{points}" fill="none" stroke="{color}" stroke-width="2"/>')
        for x, y, name, value in zip(xs, ys, labels, values):
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}">'
                        f'<title>{esc(name)} {esc(series_name)}: {fmt_number(value)}{esc(suffix)}</title></circle>')
    step = max(1, math.ceil(n / 6))
    for i in range(0, n, step):
        body.append(_label(labels[i], 12, x=f"{xs[i]:.1f}", y=height - bottom + 16, text_anchor="middle",
                           font_size=FONT))
    body += _axis_titles(x_title, y_title, left + plot_w / 2, height - 8, top + plot_h / 2)
    return _svg(width, height, body, label)


def heatmap(rows: Sequence[str], cols: Sequence[str], cells: dict[tuple[int, int], Number], label: str,
            x_title: str, y_title: str, value_name: str, width: int = 560, suffix: str = "") -> str:
    """A grid of rows × cols (weekday × hour, cohort × week); darker means more; a colour scale below."""
    left, top, bottom = 104, 6, 70
    cell_w = (width - left - 6) / max(len(cols), 1)
    cell_h = min(28.0, cell_w * 1.2)
    grid_h = cell_h * len(rows)
    height = int(top + grid_h + bottom)
    peak = float(max(cells.values(), default=0)) or 1.0
    body = []
    for r, row_name in enumerate(rows):
        y = top + r * cell_h
        body.append(_label(row_name, 14, x=left - 6, y=f"{y + cell_h / 2 + 4:.1f}", text_anchor="end",
                           font_size=FONT))
        for c, col_name in enumerate(cols):
            value = cells.get((r, c), 0)
            body.append(
                f'<rect class="cell" x="{left + c * cell_w:.1f}" y="{y:.1f}" width="{cell_w - 1:.1f}" '
                f'height="{cell_h - 1:.1f}" fill="{PALETTE[0]}" fill-opacity="{_shade(float(value) / peak):.2f}">'
                f'<title>{esc(row_name)} · {esc(col_name)}: {fmt_number(value)}{esc(suffix)}</title></rect>'
            )
    every = max(1, math.ceil(len(cols) / 12))
    for c, col_name in enumerate(cols):
        if c % every == 0:
            body.append(_label(col_name, 6, x=f"{left + (c + 0.5) * cell_w:.1f}", y=f"{top + grid_h + 14:.1f}",
                               text_anchor="middle", font_size=FONT))
    body.append(f'<text class="axis-title x" x="{left + (width - left) / 2:.1f}" y="{top + grid_h + 32:.1f}" '
                f'text-anchor="middle" font-size="{FONT}" font-weight="600">{esc(x_title)}</text>')
    body.append(f'<text class="axis-title y" transform="translate(12 {top + grid_h / 2:.1f}) rotate(-90)" '
                f'text-anchor="middle" font-size="{FONT}" font-weight="600">{esc(y_title)}</text>')
    body += _colour_scale(left, top + grid_h + 44, peak, value_name, suffix)
    return _svg(width, height, body, label)


def _shade(share: float) -> float:
    return 0.06 + 0.94 * max(0.0, min(1.0, share))


def _colour_scale(x: float, y: float, peak: float, value_name: str, suffix: str) -> list[str]:
    """The heat map's legend: five swatches from 0 to the peak, each with its value."""
    body = ['<g class="legend">', f'<text x="{x - 6:.1f}" y="{y + 11:.1f}" text-anchor="end" font-size="{FONT}">'
            f'{esc(value_name)}</text>']
    for k in range(5):
        value = peak * k / 4
        body.append(f'<rect x="{x + k * 70:.1f}" y="{y}" width="24" height="14" fill="{PALETTE[0]}" '
                    f'fill-opacity="{_shade(k / 4):.2f}" stroke="#ccc"/>'
                    f'<text x="{x + k * 70 + 28:.1f}" y="{y + 11:.1f}" font-size="{FONT - 1}">'
                    f'{_tick(round(value, 1))}{esc(suffix)}</text>')
    return body + ["</g>"]


def _y_axis(left: int, top: int, plot_w: float, plot_h: float, step: float, ticks: int,
            suffix: str = "") -> list[str]:
    body = []
    for k in range(ticks + 1):
        y = top + plot_h - plot_h * k / ticks
        body.append(f'<line x1="{left}" x2="{left + plot_w:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
                    f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="{FONT - 1}">'
                    f'{_tick(step * k)}{esc(suffix)}</text>')
    return body
