"""How check results are shown: the failures and a count of passes, or every row on request."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from sparkify.answers.checks import CheckResult, as_result
from sparkify.answers.output import show
from sparkify.cli.common import err, out
from sparkify.pipeline.load import window_text


def show_checks(results: Sequence[CheckResult], fmt: str = "table", *, verbose: bool = False,
                quiet: bool = False, since_ms: int | None = None) -> bool:
    """Print `results`; True when nothing blocks (no failed check of severity error).

    A terminal table lists the checks that failed (all of them with `verbose`) and one line
    counting the passes (and, for a load's checks of what it changed, from when: `since_ms`);
    csv and json list every check, for programs.
    """
    failed = [r for r in results if not r.passed]
    blocking = [r for r in failed if r.blocks]
    if fmt != "table":
        show(as_result(results), fmt, out)
        return not blocking
    shown = list(results) if verbose else failed
    if shown and not (quiet and not failed):
        show(as_result(shown), "table", out, title="Data-quality checks")
    if not quiet or failed:
        line = f"{len(results) - len(failed)} of {len(results)} checks passed"
        if since_ms is not None:
            line += f" (on the rows this load could change: since {window_text(since_ms)})"
        if failed:
            line += f", {len(blocking)} failed" + (f", {len(failed) - len(blocking)} warnings" if len(failed) > len(blocking) else "")
        (err if blocking else out).print(Text(line, style="bold red" if blocking else ""), highlight=False)
    return not blocking
