"""Data-quality checks: one SQL query each, with the result it must give.

Checks live in SQL files with a small comment header (see sql/checks/builtin.sql), so they read
like the SQL an analyst would write by hand and run unchanged on every backend. Redshift does not
enforce keys, so uniqueness and references are checked here rather than trusted.

A load that only added events after a fully checked load checks only the rows it can have
changed (`{{ since_load(x) }}` in a check; see builtin.sql), so a day's load into a year of
history costs what the day costs, while `sparkify check` still looks at every row.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sparkify.errors import SparkifyError
from sparkify.warehouse.dialects import epoch_ms, expand
from sparkify.warehouse.readonly import split_script
from sparkify.warehouse.sqlfiles import read_sql
from sparkify.warehouse.base import QueryResult, Warehouse

BUILTIN = "checks/builtin"

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq, "==": operator.eq, "!=": operator.ne, "<>": operator.ne,
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
}
_HEADER = re.compile(r"^\s*--\s*(check|description|expect|severity)\s*:\s*(.*?)\s*$", re.IGNORECASE)
#: error: a failure blocks the load's commit (and `sparkify check` exits 1); warn: it is reported only.
SEVERITIES = ("error", "warn")
_STAGING = re.compile(r"\bstaging\.\w+", re.IGNORECASE)
_EXPECT = re.compile(r"^(=|==|!=|<>|>=|<=|>|<)?\s*(-?\d+(?:\.\d+)?)$")
_SINCE_LOAD = re.compile(r"\{\{\s*since_load(?P<ms>_ms)?\s*\((?P<value>.*?)\)\s*\}\}", re.DOTALL)


@dataclass(frozen=True)
class Check:
    name: str
    sql: str
    expect: str = "= 0"
    description: str = ""
    source: str = "builtin"
    severity: str = "error"

    def passes(self, value: Any) -> bool:
        op, number = parse_expect(self.expect)
        if value is None:
            return False
        try:
            return _OPS[op](float(value), number)
        except (TypeError, ValueError):
            return False


@dataclass(frozen=True)
class CheckResult:
    check: Check
    value: Any = None
    error: str | None = None
    #: Why the check did not run: it reads staged data this session may not read (an analyst role).
    skipped: str | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and (self.skipped is not None or self.check.passes(self.value))

    @property
    def status(self) -> str:
        if self.skipped is not None:
            return "skipped"
        if self.error is not None:
            return "error"
        return "pass" if self.passed else ("FAIL" if self.check.severity == "error" else "warn")

    @property
    def blocks(self) -> bool:
        """A failed (or broken) check of severity error: the load must not be published."""
        return not self.passed and self.check.severity == "error"


def parse_expect(text: str) -> tuple[str, float]:
    """`> 0` → ('>', 0.0); a bare number means equality."""
    match = _EXPECT.match(text.strip())
    if not match:
        raise SparkifyError(f"bad expectation {text!r}: write e.g. `= 0`, `> 0`, `>= 10`")
    return match.group(1) or "=", float(match.group(2))


def parse_checks(text: str, source: str) -> list[Check]:
    """The checks of one file: each starts at `-- check: NAME`; its query runs to the next one."""
    checks: list[Check] = []
    current: dict[str, Any] | None = None

    def finish() -> None:
        if current is None:
            return
        sql = "\n".join(current["lines"]).strip().rstrip(";").strip()
        if not sql:
            raise SparkifyError(f"{source}: check {current['name']!r} has no query")
        if len(split_script(sql)) > 1:
            raise SparkifyError(f"{source}: check {current['name']!r} holds more than one statement; "
                                "a check is one query")
        checks.append(Check(current["name"], sql, current["expect"], current["description"], source,
                            current["severity"]))

    for line in text.splitlines():
        header = _HEADER.match(line)
        if header and header.group(1).lower() == "check":
            finish()
            current = {"name": header.group(2), "expect": "= 0", "description": "", "severity": "error",
                       "lines": []}
        elif current is None:
            continue  # the file's preamble
        elif header and not current["lines"]:
            key = header.group(1).lower()
            if key == "expect":
                parse_expect(header.group(2))  # fail on a typo now, not after running queries
            if key == "severity" and header.group(2).lower() not in SEVERITIES:
                raise SparkifyError(f"{source}: check {current['name']!r}: severity must be error or warn, "
                                    f"not {header.group(2)!r}")
            current[key] = header.group(2).lower() if key == "severity" else header.group(2)
        elif line.strip() and not line.lstrip().startswith("--"):
            current["lines"].append(line)
    finish()
    names = [c.name for c in checks]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SparkifyError(f"{source}: check names used twice: {', '.join(duplicates)}")
    return checks


def load_checks(dialect: str, files: Sequence[str | Path] = (), builtin: bool = True) -> list[Check]:
    """The built-in checks (unless `builtin` is False), then those of each file given."""
    checks = parse_checks(read_sql(BUILTIN, dialect), "builtin") if builtin else []
    for path in files:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise SparkifyError(f"cannot read checks file {str(path)!r}: {exc.strerror or exc}") from exc
        checks.extend(parse_checks(text, str(path)))
    names = [c.name for c in checks]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SparkifyError(f"check names used twice: {', '.join(duplicates)}")
    if not checks:
        raise SparkifyError("no checks to run")
    return checks


def check_sql(sql: str, dialect: str, since_ms: int | None = None) -> str:
    """A check's query in `dialect`'s SQL, over the rows at or after `since_ms` (epoch
    milliseconds; None: every row). `{{ since_load(x) }}` holds for a TIMESTAMP x not known to be
    older than that, `{{ since_load_ms(x) }}` for BIGINT milliseconds; both always hold for None."""
    def window(match: re.Match[str]) -> str:
        if since_ms is None:
            return "1 = 1"
        value, bound = match.group("value").strip(), int(since_ms)
        start = str(bound) if match.group("ms") else epoch_ms(dialect, str(bound))
        return f"({value} IS NULL OR {value} >= {start})"

    return expand(_SINCE_LOAD.sub(window, sql), dialect)[0]


def run_checks(wh: Warehouse, checks: Iterable[Check], since_ms: int | None = None) -> list[CheckResult]:
    """Run every check, even after one fails or errors: a scheduler wants the whole picture.

    Each runs through Warehouse.audit: inside a load's transaction (write-audit-publish) a
    check can neither change the load nor, on PostgreSQL, break its transaction. Each says on
    the warehouse's progress (a load's display) which of how many it is. With `since_ms`, the
    checks look only at rows from then on (check_sql): what a load that only added events changed."""
    results: list[CheckResult] = []
    todo = list(checks)
    for number, check in enumerate(todo, 1):
        wh.progress.step(check.name, number, len(todo))
        hidden = [t for t in dict.fromkeys(_STAGING.findall(check.sql)) if not wh.can_read(t)]
        if hidden:
            results.append(CheckResult(check, skipped=f"cannot read {hidden[0]}"))
            continue
        try:
            rows = wh.audit(check_sql(check.sql, wh.dialect, since_ms)).rows
            results.append(CheckResult(check, rows[0][0] if rows and rows[0] else None))
        except Exception as exc:  # noqa: BLE001 -- any backend's error is this check's result, not a crash
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            results.append(CheckResult(check, error=message))
    return results


def as_result(results: Sequence[CheckResult]) -> QueryResult:
    """Results as a table for sparkify.answers.output.show: check, result, expected, status, description."""
    return QueryResult(
        ["check", "result", "expected", "severity", "status", "description"],
        [
            (r.check.name, r.error if r.error is not None else r.skipped or _number(r.value), r.check.expect, r.check.severity,
             r.status, r.check.description)
            for r in results
        ],
    )


def _number(value: Any) -> Any:
    """Integral results print as integers on every backend (PostgreSQL sums are Decimal)."""
    try:
        if value is not None and float(value) == int(value):
            return int(value)
    except (TypeError, ValueError, OverflowError):
        pass
    return value


class ChecksGate:
    """The audit of write-audit-publish: the checks run on the built, uncommitted star schema;
    a failed check of severity error blocks the commit (unless warn_only)."""

    def __init__(self, checks_files: tuple[str, ...], warn_only: bool) -> None:
        self.checks_files = checks_files
        self.warn_only = warn_only

    def __call__(self, warehouse: Warehouse, load_id: int, since_ms: int | None = None) -> list[CheckResult]:
        results = run_checks(warehouse, load_checks(warehouse.dialect, self.checks_files), since_ms)
        blocking = [r for r in results if r.blocks]
        if blocking and not self.warn_only:
            names = ", ".join(r.check.name for r in blocking)
            raise ChecksBlocked(
                f"load {load_id} blocked by {len(blocking)} failed check(s): {names}; nothing was published "
                f"(see `sparkify loads`; --check-warn-only publishes anyway)", results,
            )
        return results


class ChecksBlocked(SparkifyError):
    def __init__(self, message: str, results: list[CheckResult]) -> None:
        super().__init__(message, exit_code=1)
        self.results = results
