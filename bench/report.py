"""The bench's one table (measure, value, ratio, target, met) from the raw rows, and RESULTS.md."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

GB = 1e9
OLDER = "## Older runs"  # RESULTS.md from this heading on is kept as it is: earlier code's figures
RSS_LIMIT_MB = 4 * 1024
TARGET_SIZES = (1_000_000, 10_000_000)  # DuckDB etl ≤ 1.3× bare read_json
SCALE = (50_000_000, 10_000_000, 5.5)  # 50 M events take ≤ 5.5× the 10 M time


@dataclass
class Line:
    measure: str
    value: str
    ratio: str = ""
    target: str = ""
    met: str = ""  # "yes", "no", or "" for a line with no target


def _met(ok: bool) -> str:
    return "yes" if ok else "no"


def _rss(mb: float) -> str:
    return f"{mb / 1024:.2f} GB" if mb >= 1024 else f"{mb:,.0f} MB"


def _rss_line(name: str, mb: float, limited: bool = True) -> Line:
    if not limited:
        return Line(name, _rss(mb))
    return Line(name, _rss(mb), "", "< 4 GB", _met(mb < RSS_LIMIT_MB))


def duckdb_lines(row: dict[str, Any], by_size: dict[int, dict[str, Any]]) -> list[Line]:
    n = row["events"]
    at = f"DuckDB {n:,} events"
    ratio = row["etl_s"] / row["bare_s"]
    lines = [
        Line(f"{at}: `sparkify etl`, whole process", f"{row['etl_s']:.1f} s", f"{ratio:.2f}× bare read_json",
             "≤ 1.3×" if n in TARGET_SIZES else "", _met(ratio <= 1.3) if n in TARGET_SIZES else ""),
        Line(f"{at}: bare `read_json` into tables, whole process", f"{row['bare_s']:.1f} s"),
    ]
    if "dlt_s" in row:
        speedup = row["dlt_s"] / row["etl_s"]
        lines.append(Line(f"{at}: dlt pipeline (../shared/peers/dlt_etl.py), whole process", f"{row['dlt_s']:.1f} s",
                          f"{speedup:.2f}× the etl time", "≥ 2×" if n == 1_000_000 else "",
                          _met(speedup >= 2) if n == 1_000_000 else ""))
    big, base, limit = SCALE
    if n > base and base in by_size:
        scale = row["etl_s"] / by_size[base]["etl_s"]
        lines.append(Line(f"{at}: etl time against {base:,} events", f"{row['etl_s']:.1f} s",
                          f"{scale:.2f}× the {base // 1_000_000} M etl", f"≤ {limit}×" if n == big else "",
                          _met(scale <= limit) if n == big else ""))
    lines.append(_rss_line(f"{at}: peak RSS of `sparkify etl`", row["etl_rss_mb"]))
    if "phases" in row:
        p = row["phases"]
        lines.append(Line(f"{at}: phases (in-process child): stage songs / stage events / star / checks; "
                          "all of run_etl", f"{p.get('stage_songs', 0):.1f} / {p.get('stage_events', 0):.1f} / "
                          f"{p['star']:.1f} / {p['checks']:.1f} s; {p['etl']:.1f} s ({p['etl_cpu']:.1f} CPU-s)"))
        lines.append(_rss_line(f"{at}: peak RSS of the phases child", row["phases_rss_mb"]))
    lines.append(Line(f"{at}: disk needed: data + peak warehouse (file, WAL, spill)",
                      f"{(row['data_disk_bytes'] + row['warehouse_peak_bytes']) / GB:.2f} GB (data "
                      f"{row['data_disk_bytes'] / GB:.2f} + warehouse {row['warehouse_peak_bytes'] / GB:.2f})"))
    return lines


def postgres_lines(row: dict[str, Any]) -> list[Line]:
    n = row["events"]
    at = f"PostgreSQL {n:,} events"
    ratio = row["stage_s"] / row["copy_s"]
    return [
        Line(f"{at}: `sparkify etl`, whole process", f"{row['etl_s']:.1f} s", "",
             "≤ 20 s" if n == 1_000_000 else "", _met(row["etl_s"] <= 20) if n == 1_000_000 else ""),
        Line(f"{at}: staging (songs + events, the etl's own timing)", f"{row['stage_s']:.1f} s",
             f"{ratio:.2f}× bare COPY", "≤ 3×", _met(ratio <= 3)),
        Line(f"{at}: bare COPY FROM STDIN (psql \\copy) of the {row['copy_rows']:,} staged rows",
             f"{row['copy_s']:.1f} s"),
        _rss_line(f"{at}: peak RSS of the `sparkify etl` client", row["etl_rss_mb"], limited=False),
        Line(f"{at}: database size after the load", f"{row['database_bytes'] / GB:.2f} GB"),
    ]


def incremental_lines(row: dict[str, Any]) -> list[Line]:
    backend = "DuckDB" if row["scenario"].endswith("duckdb") else "PostgreSQL"
    at = f"Incremental {backend}, {row['events']:,}-event set"
    on, empty = row["on_history_s"], row["on_empty_s"]
    quiet_ratio = row["on_history_no_checks_s"] / row["on_empty_no_checks_s"]
    eq = row["equal"]
    lines = [
        Line(f"{at}: history load ({row['days'] - 1} days) and its warehouse's size",
             f"{row['history_s']:.1f} s, {row['history_bytes'] / GB:.2f} GB"),
        Line(f"{at}: one new day ({row['day_file']}, {row['day_bytes'] / 1e6:,.0f} MB) on that history",
             f"{on:.2f} s", f"{on / empty:.2f}× the day on empty", "≤ 1.5×", _met(on / empty <= 1.5)),
        Line(f"{at}: the same day into an empty warehouse (songs loaded)", f"{empty:.2f} s"),
        Line(f"{at}: the same two, checks' time (audit) left out", f"{row['on_history_no_checks_s']:.2f} s vs "
             f"{row['on_empty_no_checks_s']:.2f} s", f"{quiet_ratio:.2f}×"),
        _rss_line(f"{at}: peak RSS (history, day on history)", max(row["history_rss_mb"], row["on_history_rss_mb"]),
                  limited=backend == "DuckDB"),
        Line(f"{at}: history + day = a full load of all days, every star table row for row",
             f"{len(eq['tables']) - len(eq['differ'])} of {len(eq['tables'])} tables equal"
             + (f" (differ: {', '.join(eq['differ'])})" if eq["differ"] else ""), "", "all equal",
             _met(not eq["differ"])),
    ]
    if "history_vacuum_s" in row:
        lines.insert(1, Line(f"{at}: the history vacuumed before the day, as autovacuum (off on this server) "
                             "would have", f"{row['history_vacuum_s']:.1f} s"))
    if "full_s" in row:
        lines.insert(-1, Line(f"{at}: full load of all days (the reference for the check below)",
                              f"{row['full_s']:.1f} s"))
    return lines


def lines(rows: list[dict[str, Any]]) -> list[Line]:
    by_size = {r["events"]: r for r in rows if r["scenario"] == "duckdb" and "error" not in r}
    out: list[Line] = []
    for row in rows:
        if "error" in row:
            first = row["error"].strip().splitlines()[0][:200].replace("|", "/")
            out.append(Line(f"{row['scenario']} {row['events']:,} events: failed (details in the raw rows)",
                            first, "", "runs", "no"))
        elif row["scenario"] == "duckdb":
            out += duckdb_lines(row, by_size)
        elif row["scenario"] == "postgresql":
            out += postgres_lines(row)
        else:
            out += incremental_lines(row)
    return out


def table(found: list[Line]) -> str:
    text = ["| measure | value | ratio | target | met |", "| --- | --- | --- | --- | --- |"]
    text += [f"| {x.measure} | {x.value} | {x.ratio} | {x.target} | {x.met} |" for x in found]
    return "\n".join(text)


def machine_text(info: dict[str, Any]) -> str:
    load = ", ".join(str(x) for x in info["load_average"])
    end = ", ".join(str(x) for x in info.get("load_average_end", []))
    dlt = f", dlt {info['dlt']}" if info.get("dlt") else ""
    return (f"{info['cpu']}, {info['cores']} cores, {info['ram_gib']} GiB RAM, {info['os']}; load average at "
            f"start {load} (1, 5, 15 min)" + (f", at the end {end}" if end else "")
            + f"; Python {info['python']}, DuckDB {info['duckdb']}, PostgreSQL {info['postgresql']}{dlt}; "
            f"code {info['commit']}; {info['disk_free_gb']} GB free on the data disk at start")


def write_results(path: Path, info: dict[str, Any], command: str, found: list[Line],
                  rows: list[dict[str, Any]]) -> None:
    """The new run on top of RESULTS.md; everything from the OLDER heading on is kept as it was."""
    older = ""
    if path.exists():
        text = path.read_text(encoding="utf-8")
        older = text[text.index(OLDER):] if OLDER in text else ""
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    raw = "\n".join(json.dumps(r) for r in rows)
    path.write_text(
        f"# Benchmark results\n\n## Latest run: {info['started']} to {stamp}\n\n"
        f"Written by `bench/run.py` (see README.md). Command:\n\n```sh\n{command}\n```\n\n"
        f"Machine: {machine_text(info)}.\n\n{table(found)}\n\n"
        "Times are medians over the rounds of whole processes (interpreter start-up counted on every "
        "side); peak RSS is each child's own `ru_maxrss` (wait4), the largest over the rounds.\n\n"
        f"Raw rows:\n\n```json\n{json.dumps(info)}\n{raw}\n```\n\n" + older, encoding="utf-8")
