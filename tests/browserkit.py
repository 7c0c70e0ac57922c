"""Shared pieces of the browser tests: a running `onestop run`, a headless Chromium, and page helpers.

A test module builds its site folder (cameras.yaml, accounts), starts it with `running_site`, and
imports the `browser` and `shots` fixtures from here. Every browser keeps its console log, so a
test can assert that the page's JavaScript raised nothing (`console_errors`).
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from support import CHROMEDRIVER, CHROMIUM, free_port, require_chromium
from harness import RunningSite

START_TIMEOUT_S = 30.0  # spawning the workers and waitress on a busy 2-core box
STOP_TIMEOUT_S = 30.0  # SIGTERM lets the workers finish their open clips first
WAIT_S = 20.0  # a page element or a playing video; generous for a loaded CI box
PAGE_LOAD_TIMEOUT_S = 30.0  # a page that never finishes loading (e.g. a live stream) still gets a screenshot
SCREENSHOT_MAX_HEIGHT = 3000  # whole pages, but an endless list must not make a huge PNG

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--window-size=1366,768",
)


@dataclass
class Site(RunningSite):
    """A running `onestop run` with its folder, URL and database."""

    folder: Path
    config: Path
    port: int
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def db(self) -> Path:
        return self.folder / "onestop.db"

    def complete_events(self, camera: str | None = None) -> list[dict[str, Any]]:
        sql = "select * from events where clip_state = 'complete' and thumb_path is not null"
        if camera:
            return self.rows(sql + " and camera = ? order by start desc", (camera,))
        return self.rows(sql + " order by start desc")

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/login", timeout=2) as r:
                return r.status == 200
        except (urllib.error.URLError, OSError):
            return False


def cli(site_config: Path, *args: str, stdin: str | None = None) -> None:
    """Run one `onestop` command against the site; it must succeed."""
    r = subprocess.run([sys.executable, "-m", "monitor.cli", *args, "-c", str(site_config)],
                       input=stdin, text=True, capture_output=True, timeout=60)
    assert r.returncode == 0, f"onestop {' '.join(args)}: {r.stderr}"


def add_users(site_config: Path, password: str, accounts: dict[str, str]) -> None:
    """Accounts {username: role} through `onestop users add`, all with one password."""
    for name, role in accounts.items():
        cli(site_config, "users", "add", name, "--role", role, "--password-stdin", stdin=password)


@contextmanager
def running_site(folder: Path, config: Path) -> Iterator[Site]:
    """`onestop run` on the config until the block ends (SIGTERM, then a kill if it hangs)."""
    require_chromium()
    s = Site(folder, config, free_port(), folder / "onestop.log")
    with open(s.log, "ab") as log:
        s.proc = subprocess.Popen(
            [sys.executable, "-m", "monitor.cli", "run", "-c", str(config), "--port", str(s.port)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        s.wait("the web UI", s.answers, START_TIMEOUT_S)
        yield s
    finally:
        _stop(s)


def _stop(s: Site) -> None:
    if s.proc is None or s.proc.poll() is not None:
        return
    s.proc.send_signal(signal.SIGTERM)
    try:
        s.proc.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(s.proc.pid, signal.SIGKILL)
        s.proc.wait()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the screenshots go."""
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture
def browser() -> Iterator[Any]:
    """A fresh headless Chromium driven through the system chromedriver (Selenium Manager never runs)."""
    require_chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM  # with the Service path below, Selenium downloads nothing
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # console_errors() reads it
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    with tempfile.TemporaryDirectory(prefix="onestop-chromium-") as profile:
        options.add_argument(f"--user-data-dir={profile}")
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        driver.set_page_load_timeout(PAGE_LOAD_TIMEOUT_S)
        try:
            yield driver
        finally:
            driver.quit()


# ------------------------------------------------------------------ page helpers


def wait_for(driver: Any, what: str, cond: Callable[[Any], Any], timeout: float = WAIT_S) -> Any:
    """Poll cond(driver) until truthy; fail with the page's URL and heading otherwise."""
    from selenium.common.exceptions import WebDriverException

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = cond(driver)
        except WebDriverException:
            value = None  # the page was replaced under us (a refresh); ask again
        if value:
            return value
        time.sleep(0.2)
    heading = driver.execute_script("return (document.querySelector('h1, h2') || {}).textContent || ''")
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what} on {driver.current_url} ({heading.strip()!r})")


def open_page(driver: Any, site: Site, path: str) -> None:
    from selenium.common.exceptions import TimeoutException

    try:
        driver.get(site.url + path)
    except TimeoutException:
        pass  # still loading (a live stream): the page is there to look at


def status(driver: Any, site: Site, path: str) -> int:
    """The HTTP status of path as this browser session gets it (0: a redirect, e.g. to the login page)."""
    if not driver.current_url.startswith(site.url):
        open_page(driver, site, "/login")  # fetch() needs a page of the site to be same-origin
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0], {credentials: 'same-origin', redirect: 'manual'})"
        ".then(r => done(r.status)).catch(e => done(String(e)));", path)


def log_in(driver: Any, site: Site, username: str, password: str) -> None:
    """Fill in and send the login form like a person."""
    from selenium.webdriver.common.by import By

    open_page(driver, site, "/login")
    form = driver.find_element(By.CSS_SELECTOR, "form:has(input[name=password])")
    form.find_element(By.NAME, "username").send_keys(username)
    form.find_element(By.NAME, "password").send_keys(password)
    form.find_element(By.CSS_SELECTOR, "button, input[type=submit]").click()
    wait_for(driver, "the page after login", lambda d: "/login" not in d.current_url
             and d.execute_script("return document.readyState") == "complete")


def screenshot(driver: Any, folder: Path, name: str) -> Path:
    """A PNG of the whole page (up to SCREENSHOT_MAX_HEIGHT px), taken through DevTools; the path is printed."""
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], SCREENSHOT_MAX_HEIGHT), "scale": 1}
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True,
                                                             "clip": clip})
    path = folder / f"{name}.png"
    path.write_bytes(base64.b64decode(shot["data"]))
    print(f"screenshot: {path}")
    return path


def console_errors(driver: Any) -> list[str]:
    """SEVERE entries of the browser console since the last call (JS exceptions, refused scripts, failed loads)."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def play_until(driver: Any, past_s: float = 1.0, video_id: str = "clip", timeout: float = WAIT_S) -> dict[str, Any]:
    """Start the video muted and wait until it played past past_s; its state then (t, w, ready, src)."""
    # muted playback is allowed without a user gesture under Chromium's autoplay policy
    started = driver.execute_async_script(
        "const done = arguments[arguments.length - 1], v = document.getElementById(arguments[0]);"
        "v.muted = true; v.play().then(() => done('playing')).catch(e => done('error: ' + e));", video_id)
    assert started == "playing", started

    def progress(d: Any) -> Any:
        v = d.execute_script("const v = document.getElementById(arguments[0]);"
                             "return {t: v.currentTime, w: v.videoWidth, ready: v.readyState, "
                             "src: v.currentSrc, err: v.error && v.error.code}", video_id)
        assert v["err"] is None, f"media error {v['err']}"
        return v if v["t"] > past_s and v["w"] > 0 else None

    return wait_for(driver, f"currentTime to advance past {past_s} s", progress, timeout)

