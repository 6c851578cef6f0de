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

    def wait_for_count(self, event: str, count: int, timeout: float = 60) -> None:
        """Until `event` has been seen `count` times in all (a page loaded once more, say)."""
        if sum(e.get("method") == event for e in self.events) >= count:
            return
        self._read_until(lambda m: sum(e.get("method") == event for e in self.events) >= count, timeout, event)

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


#: What the page looks like to a test: layout of every panel (with every folded table opened, so a
#: table that would overflow once unfolded counts), every chart's parts, and every SVG text's box.
LAYOUT_JS = """
document.querySelectorAll('details').forEach(d => { d.open = true; });
const inside = (r, box) => r.left >= box.left - 1 && r.right <= box.right + 1;
JSON.stringify({
  title: document.title,
  sections: [...document.querySelectorAll('main > section')].map(s => {
    const box = s.getBoundingClientRect();
    return {id: s.id, left: Math.round(box.left), width: box.width,
            overflow: [...s.querySelectorAll('*')].filter(e => {
                const r = e.getBoundingClientRect();
                return r.width > 0 && !inside(r, box);
              }).map(e => e.tagName + '.' + (e.getAttribute('class') || '') + ' ' + (e.textContent || '').slice(0, 40)),
            scrollbars: [...s.querySelectorAll('.scroll')].filter(d => d.scrollWidth > d.clientWidth + 1).length};
  }),
  charts: [...document.querySelectorAll('svg.chart')].map(s => {
    const box = s.getBoundingClientRect();
    const text = q => [...s.querySelectorAll(q)].map(t => t.textContent.trim()).filter(t => t);
    return {section: s.closest('section') ? s.closest('section').id : null,
            width: box.width, height: box.height,
            marks: s.querySelectorAll('rect.bar, rect.cell, circle, polyline').length,
            xTitle: text('.axis-title.x'), yTitle: text('.axis-title.y'),
            legend: text('.legend text'),
            cut: [...s.querySelectorAll('text')].filter(t => !inside(t.getBoundingClientRect(), box)
                  || t.getBoundingClientRect().top < box.top - 1 || t.getBoundingClientRect().bottom > box.bottom + 1)
                  .map(t => t.textContent),
            shortened: [...s.querySelectorAll('text')].filter(t => t.textContent.includes('…'))
                  .map(t => ({shown: [...t.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join(''),
                              hover: t.querySelector('title') ? t.querySelector('title').textContent : null}))};
  }),
  scripts: document.querySelectorAll('script').length,
  text: document.body.innerText,
  callout: (document.querySelector('#song-match-rate') || {}).innerText || '',
  scrollWidth: document.documentElement.scrollWidth,
})"""


def open_page(html: Path, folder: Path, widths: tuple[int, ...] = (VIEWPORT["width"],)) -> dict[str, Any]:
    """Load the page in Chromium at each width; return what it laid out, logged and fetched.

    A screenshot per width is saved as folder/report-WIDTH.png (the top 900 px), and at 1366 px also
    folder/report.png, the page's first 2,000 px, for the README.
    """
    views: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="sparkify-chromium-") as profile:
        browser = Chromium(chromium_path(), profile)
        try:
            target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                browser.send(f"{domain}.enable", session=session)
            for width in widths:
                browser.send("Emulation.setDeviceMetricsOverride",
                             {"width": width, "height": VIEWPORT["height"], "deviceScaleFactor": 1, "mobile": False},
                             session=session)
                loads = sum(e.get("method") == "Page.loadEventFired" for e in browser.events)
                browser.send("Page.navigate", {"url": html.resolve().as_uri()}, session=session)
                browser.wait_for_count("Page.loadEventFired", loads + 1)
                shot = browser.send("Page.captureScreenshot", {"format": "png"}, session=session)
                (folder / f"report-{width}.png").write_bytes(base64.b64decode(shot["data"]))
                if width == VIEWPORT["width"]:
                    full = browser.send("Page.captureScreenshot", {
                        "format": "png", "captureBeyondViewport": True,
                        "clip": {"x": 0, "y": 0, "width": width, "height": 2000, "scale": 1}}, session=session)
                    (folder / "report.png").write_bytes(base64.b64decode(full["data"]))
                views[width] = json.loads(browser.send("Runtime.evaluate", {
                    "returnByValue": True, "expression": LAYOUT_JS}, session=session)["result"]["value"])
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
    return {**views[widths[0]], "views": views, "errors": errors, "requests": requests, "dialogs": dialogs}


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


#: The widths the issue names (laptops to a desktop screen), and a narrow one (a phone held sideways).
WIDE = (1366, 1280, 1920)
NARROW = 720
#: The demo data of `make demo` (same generator options).
DEMO = ("--songs", "2000", "--users", "1000", "--days", "30", "--seed", "42")


def _render_and_open(warehouse: str, folder: Path, widths: tuple[int, ...] = (VIEWPORT["width"],)) -> dict[str, Any]:
    html = folder / "report.html"
    result = run_cli("report", "-w", warehouse, "--html", str(html))
    assert result.exit_code == 0, result.output
    seen = open_page(html, folder, widths)
    return {**seen, "html": html.read_text(encoding="utf-8"), "screenshot": folder / "report.png"}


@pytest.fixture(scope="module")
def page(sample_warehouse: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The report of the real sample, as Chromium showed it at every width."""
    return _render_and_open(sample_warehouse, tmp_path_factory.mktemp("html"), (*WIDE, NARROW))


@pytest.fixture(scope="module")
def demo_page(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The report of `make demo`'s generated data (many matched songs, long titles), as Chromium showed it."""
    folder = tmp_path_factory.mktemp("demo")
    data, warehouse = folder / "demo-data", str(folder / "demo.duckdb")
    assert run_cli("generate", "--out", str(data), *DEMO, "--quiet").exit_code == 0
    loaded = run_cli("etl", "--songs", str(data / "song_data"), "--logs", str(data / "log_data"), "-w", warehouse)
    assert loaded.exit_code == 0, loaded.output
    return _render_and_open(warehouse, folder, WIDE)


@pytest.fixture(scope="module")
def hostile_page(hostile_warehouse: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _render_and_open(hostile_warehouse, tmp_path_factory.mktemp("hostile-html"))


def test_page_is_self_contained(page: dict[str, Any]) -> None:
    html = page["html"]
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in html


CHARTED = ("top_songs", "top_artists", "plays_by_day", "new_vs_returning_by_day", "plays_by_hour",
           "plays_by_weekday", "plays_by_weekday_hour", "plays_by_level", "sessions_by_level", "paid_share_by_day",
           "level_changes_by_week", "retention_by_week", "churn_rate_by_week", "plays_by_gender", "plays_by_state",
           "top_locations", "quiet_locations", "user_agents", "most_active_users")


def test_charts_render_in_chromium_without_errors(page: dict[str, Any]) -> None:
    assert page["title"] == "Sparkify listening report"
    assert page["errors"] == [], page["errors"]
    assert page["dialogs"] == []
    assert all(url.startswith("file://") for url in page["requests"]), page["requests"]
    charts = {c["section"]: c for c in page["charts"]}
    for name in CHARTED:
        assert name in charts, f"no chart for {name}"
        assert charts[name]["width"] > 200 and charts[name]["height"] > 20, charts[name]
        assert charts[name]["marks"] > 0, charts[name]
    assert charts["plays_by_hour"]["marks"] == 24
    assert charts["plays_by_weekday"]["marks"] == 7
    assert charts["plays_by_weekday_hour"]["marks"] == 7 * 24
    assert charts["plays_by_day"]["marks"] == 2 * (30 + 1)  # paid and free: a dot a day and the line
    assert charts["plays_by_day"]["legend"] == ["paid plays", "free plays"]
    assert charts["level_changes_by_week"]["marks"] == 3 * 2  # 3 weeks × (upgrades, downgrades)
    assert charts["plays_by_weekday_hour"]["legend"][0] == "plays"  # the colour scale: name, then 0 … peak
    assert charts["plays_by_weekday_hour"]["legend"][1:] == ["0", "35", "70", "105", "140"]


@pytest.mark.parametrize("which", ["page", "demo_page"])
def test_every_chart_has_axis_titles_and_a_legend(which: str, request: pytest.FixtureRequest) -> None:
    for width, view in request.getfixturevalue(which)["views"].items():
        assert view["charts"], width
        for chart in view["charts"]:
            assert len(chart["xTitle"]) == 1 and len(chart["yTitle"]) == 1, (width, chart["section"], chart)
            assert chart["legend"], (width, chart["section"])
            assert chart["cut"] == [], (width, chart["section"], chart["cut"])  # no text past the chart's edge
            for label in chart["shortened"]:  # a shortened label shows its whole text on hover
                assert label["hover"] and label["hover"].startswith(label["shown"].rstrip("…")), label


@pytest.mark.parametrize("which", ["page", "demo_page"])
def test_panels_fit_their_column_at_every_width(which: str, request: pytest.FixtureRequest) -> None:
    seen = request.getfixturevalue(which)
    assert seen["errors"] == [] and seen["dialogs"] == []
    for width in WIDE:
        view = seen["views"][width]
        assert view["scrollWidth"] <= width, width  # no horizontal scrolling of the page
        assert len({s["left"] for s in view["sections"]}) >= 2, width  # side by side on a laptop
        for section in view["sections"]:
            assert section["overflow"] == [], (width, section["id"], section["overflow"][:5])
            assert section["scrollbars"] == 0, (width, section["id"])  # tables opened: no sideways scrolling
    if NARROW in seen["views"]:
        narrow = seen["views"][NARROW]
        assert len({s["left"] for s in narrow["sections"]}) == 1  # one column on a narrow screen
        assert narrow["scrollWidth"] <= NARROW
        assert all(s["overflow"] == [] and s["scrollbars"] == 0 for s in narrow["sections"])


def test_page_shows_the_real_numbers_in_one_format(page: dict[str, Any]) -> None:
    text = page["text"]
    assert "Song-match rate: 0.0147%" in page["callout"]
    assert "Only 1 of 6,820 plays matched a song" in page["callout"]
    assert "16:00" in text and "busiest hour" in text
    assert "5,591" in text and "1,229" in text  # paid and free plays, with thousands separators
    assert "5591" not in text and "1014" not in text and "6820" not in text
    assert "Setanta matins" in text  # the one matched song
    assert "Ranking: plays matched to a catalogue song, 1 of 6,820 plays." in text
    assert "33.8%" in text and "weekly churn" in text and "up 17.1 points on the week before" in text
    assert "26\nusers at churn risk (27% of 96 listeners)" in text


def test_demo_screenshot(demo_page: dict[str, Any]) -> None:
    """The README's picture: the top of `make demo`'s report at 1366 px (SPARKIFY_UPDATE_SCREENSHOT=1 saves it)."""
    png = demo_page["screenshot"].read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 50_000
    ranking = [c for c in demo_page["views"][1366]["charts"] if c["section"] == "top_songs"][0]
    assert ranking["marks"] == 10
    if os.environ.get("SPARKIFY_UPDATE_SCREENSHOT"):
        (ROOT / "docs").mkdir(exist_ok=True)
        shutil.copy(demo_page["screenshot"], ROOT / "docs" / "report.png")


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
