"""The HTML report, opened in a real headless Chromium (Debian's `chromium`).

Chromium is driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`: JSON
messages ending in NUL on fds 3 and 4), so the test needs no websocket client, no Playwright
and no network. It asserts the charts rendered, nothing was logged as an error, nothing was
fetched from the network, and a song titled `<script>alert(1)</script>` stayed text.
Set SPARKIFY_UPDATE_SCREENSHOT=1 to refresh docs/report.png from this run.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.conftest import ROOT, run_cli

XSS = "<script>alert(1)</script>"
VIEWPORT = {"width": 1366, "height": 900}  # a laptop screen
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio"]


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path:
        return path
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed; .ci/run installs Debian's chromium package")
    pytest.skip("chromium is not installed (apt-get install chromium)")


class Chromium:
    """Just enough of the DevTools protocol: commands, their replies, and the events between."""

    def __init__(self, executable: str, user_data_dir: str) -> None:
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def wire_fds() -> None:  # in the child: Chromium reads commands on fd 3, answers on fd 4
            a = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self._stderr = tempfile.TemporaryFile()  # a file, not a pipe: a chatty browser never blocks on it
        self.proc = subprocess.Popen(
            [executable, *FLAGS, "--remote-debugging-pipe", f"--user-data-dir={user_data_dir}",
             f"--window-size={VIEWPORT['width']},{VIEWPORT['height']}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._stderr,
            close_fds=False, preexec_fn=wire_fds,  # noqa: PLW1509 -- the test starts no threads
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None,
             timeout: float = 60) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        reply = self._read_until(lambda m: m.get("id") == self._next_id, timeout, method)
        if "error" in reply:
            raise AssertionError(f"{method} failed: {reply['error']}")
        return reply.get("result", {})

    def wait_for(self, event: str, timeout: float = 60) -> dict[str, Any]:
        for seen in self.events:
            if seen.get("method") == event:
                return seen
        return self._read_until(lambda m: m.get("method") == event, timeout, event)

    def _read_until(self, wanted: Any, timeout: float, what: str) -> dict[str, Any]:
        # A deadline so a hung browser fails the test instead of hanging CI (not a timing assertion).
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                message = json.loads(raw)
                if "id" not in message:
                    self.events.append(message)
                    self._on_event(message)
                if wanted(message):
                    return message
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._from_chrome], [], [], max(left, 0))
            if not ready:
                raise AssertionError(f"Chromium did not answer {what} within {timeout} s")
            chunk = os.read(self._from_chrome, 1 << 20)
            if not chunk:
                self._stderr.seek(0)
                stderr = self._stderr.read().decode(errors="replace")
                raise AssertionError(f"Chromium exited while waiting for {what}: {stderr[-2000:]}")
            self._buffer += chunk

    def _on_event(self, message: dict[str, Any]) -> None:
        if message.get("method") == "Page.javascriptDialogOpening":  # a script ran: dismiss, record
            params = {"accept": False}
            payload = {"id": 10**9 + len(self.events), "method": "Page.handleJavaScriptDialog",
                       "params": params, "sessionId": message.get("sessionId")}
            os.write(self._to_chrome, json.dumps(payload).encode() + b"\0")

    def close(self) -> None:
        try:
            os.write(self._to_chrome, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
            self.proc.wait(timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        finally:
            os.close(self._to_chrome)
            os.close(self._from_chrome)
            self._stderr.close()


def open_page(html: Path, screenshot: Path) -> dict[str, Any]:
    """Load the page in Chromium; return what it rendered, logged and fetched; save a screenshot."""
    with tempfile.TemporaryDirectory(prefix="sparkify-chromium-") as profile:
        browser = Chromium(chromium_path(), profile)
        try:
            target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                browser.send(f"{domain}.enable", session=session)
            browser.send("Emulation.setDeviceMetricsOverride",
                         {**VIEWPORT, "deviceScaleFactor": 1, "mobile": False}, session=session)
            browser.send("Page.navigate", {"url": html.resolve().as_uri()}, session=session)
            browser.wait_for("Page.loadEventFired")
            rendered = browser.send("Runtime.evaluate", {"returnByValue": True, "expression": """
                JSON.stringify({
                  title: document.title,
                  charts: [...document.querySelectorAll('svg.chart')].map(s => {
                    const box = s.getBoundingClientRect();
                    return {section: s.closest('section') ? s.closest('section').id : null,
                            width: box.width, height: box.height,
                            marks: s.querySelectorAll('rect.bar, rect.cell, circle, polyline').length};
                  }),
                  scripts: document.querySelectorAll('script').length,
                  text: document.body.innerText,
                  callout: (document.querySelector('#song-match-rate') || {}).innerText || '',
                  scrollWidth: document.documentElement.scrollWidth,
                })"""}, session=session)["result"]["value"]
            shot = browser.send("Page.captureScreenshot", {"format": "png"}, session=session)
            screenshot.write_bytes(base64.b64decode(shot["data"]))
        finally:
            browser.close()
    events = browser.events
    errors = [e["params"] for e in events if e.get("method") == "Runtime.exceptionThrown"]
    errors += [e["params"] for e in events if e.get("method") == "Runtime.consoleAPICalled"
               and e["params"].get("type") in ("error", "assert")]
    errors += [e["params"]["entry"] for e in events if e.get("method") == "Log.entryAdded"
               and e["params"]["entry"].get("level") == "error"]
    requests = [e["params"]["request"]["url"] for e in events if e.get("method") == "Network.requestWillBeSent"]
    dialogs = [e["params"] for e in events if e.get("method") == "Page.javascriptDialogOpening"]
    return {**json.loads(rendered), "errors": errors, "requests": requests, "dialogs": dialogs}


@pytest.fixture(scope="module")
def hostile_warehouse(sample_warehouse: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The real sample plus one played song whose title, artist and location are HTML."""
    path = tmp_path_factory.mktemp("hostile") / "hostile.duckdb"
    shutil.copy(sample_warehouse, path)
    con = duckdb.connect(str(path))
    con.execute("INSERT INTO analytics.artists VALUES ('ARXSS', '<b>Bold</b> & \"Quoted\"', '<i>here</i>', NULL, NULL)")
    con.execute("INSERT INTO analytics.songs (song_id, title, artist_id, year, duration) VALUES ('SOXSS', ?, 'ARXSS', 2020, 200.0)", [XSS])
    con.execute("UPDATE analytics.songplays SET song_id = 'SOXSS', artist_id = 'ARXSS', location = ? "
                "WHERE songplay_id IN (1, 2, 3)", ["<img src=x onerror=alert(2)>"])
    con.close()
    return str(path)


def _render_and_open(warehouse: str, folder: Path) -> dict[str, Any]:
    html = folder / "report.html"
    result = run_cli("report", "-w", warehouse, "--html", str(html))
    assert result.exit_code == 0, result.output
    shot = folder / "report.png"
    seen = open_page(html, shot)
    return {**seen, "html": html.read_text(encoding="utf-8"), "screenshot": shot}


@pytest.fixture(scope="module")
def page(sample_warehouse: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The report of the real sample, as Chromium showed it."""
    return _render_and_open(sample_warehouse, tmp_path_factory.mktemp("html"))


@pytest.fixture(scope="module")
def hostile_page(hostile_warehouse: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _render_and_open(hostile_warehouse, tmp_path_factory.mktemp("hostile-html"))


def test_page_is_self_contained(page: dict[str, Any]) -> None:
    html = page["html"]
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in html


def test_charts_render_in_chromium_without_errors(page: dict[str, Any]) -> None:
    assert page["title"] == "Sparkify listening report"
    assert page["errors"] == [], page["errors"]
    assert page["dialogs"] == []
    assert all(url.startswith("file://") for url in page["requests"]), page["requests"]
    charts = {c["section"]: c for c in page["charts"]}
    for name in ("top_songs", "top_artists", "plays_by_day", "plays_by_hour", "plays_by_weekday",
                 "plays_by_weekday_hour", "plays_by_level", "paid_share_by_day", "level_changes_by_week",
                 "top_locations", "quiet_locations", "user_agents", "most_active_users"):
        assert name in charts, f"no chart for {name}"
        assert charts[name]["width"] > 200 and charts[name]["height"] > 20, charts[name]
        assert charts[name]["marks"] > 0, charts[name]
    assert charts["plays_by_hour"]["marks"] == 24
    assert charts["plays_by_weekday"]["marks"] == 7
    assert charts["plays_by_weekday_hour"]["marks"] == 7 * 24
    assert charts["plays_by_day"]["marks"] == 30 + 1  # a dot a day and the line
    assert charts["level_changes_by_week"]["marks"] == 3 * 2  # 3 weeks × (upgrades, downgrades)
    assert page["scrollWidth"] <= VIEWPORT["width"]  # nothing wider than a laptop screen


def test_page_shows_the_real_numbers(page: dict[str, Any]) -> None:
    text = page["text"]
    assert "Song-match rate: 0.0147%" in page["callout"]
    assert "Only 1 of 6,820 plays matched a song" in page["callout"]
    assert "16:00" in text and "busiest hour" in text
    assert "5591" in text and "1229" in text  # paid and free plays
    assert "Setanta matins" in text  # the one matched song


def test_screenshot_is_saved(page: dict[str, Any]) -> None:
    png = page["screenshot"].read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 20_000
    if os.environ.get("SPARKIFY_UPDATE_SCREENSHOT"):
        (ROOT / "docs").mkdir(exist_ok=True)
        shutil.copy(page["screenshot"], ROOT / "docs" / "report.png")


def test_data_strings_are_escaped_and_never_run(hostile_page: dict[str, Any]) -> None:
    html = hostile_page["html"]
    assert "<script" not in html.replace("&lt;script", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "<b>Bold" not in html and "&lt;b&gt;Bold&lt;/b&gt; &amp; &quot;Quoted&quot;" in html
    assert hostile_page["dialogs"] == []  # no alert() ran
    assert hostile_page["scripts"] == 0
    assert hostile_page["errors"] == [], hostile_page["errors"]
    assert all(url.startswith("file://") for url in hostile_page["requests"]), hostile_page["requests"]
    text = hostile_page["text"]
    assert XSS in text and "<img src=x onerror=alert(2)>" in text and '<b>Bold</b> & "Quoted"' in text
