"""The web UI in a real browser: headless Chromium (Selenium, system chromedriver) against `onestop run`.

One `onestop run` serves every test of this module: two counter cameras play looping test videos
(file sources) with motion, so events with thumbnails and clips appear within seconds, and the
database is seeded beforehand with a week of occupancy samples so the report charts have data.
Accounts are made with `onestop users add`. Each test gets its own browser (fresh profile, no
shared cookies) and logs in through the form. Screenshots of the main pages are written under the
test's temporary folder; their paths are printed (`pytest -s` shows them).
"""

from __future__ import annotations

import textwrap
import time
from collections.abc import Iterator
from datetime import datetime, time as clock_time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from browserkit import (  # noqa: F401 - browser and shots are fixtures
    WAIT_S, Site, add_users, browser, open_page, play_until, running_site, screenshot, shots, status, wait_for,
)
from browserkit import log_in as _log_in
from media import MotionWindow, VideoSpec, make_video

pytestmark = [pytest.mark.slow]

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
PASSWORD = "Pw-browser-7c2q"
ADMIN, VIEWER, POLYGLOT = "quan-tri", "xem", "song-ngu"  # POLYGLOT switches languages; the others keep vi
CAMERAS = ("cam-a", "cam-b")
VIDEO = VideoSpec(20, 640, 360, motion=(MotionWindow(3, 6), MotionWindow(11, 14)))

EVENTS_TIMEOUT_S = 90.0  # first motion is 3 s into the loop; the clip completes after the post-roll

# Zones over the path of the moving block, so the workers also report occupancy live.
ZONES = """\
      - {id: ghe, kind: staff_seat, points: [[0.05, 0.05], [0.3, 0.05], [0.3, 0.3], [0.05, 0.3]]}
      - {id: quay, kind: service_spot, points: [[0.3, 0.3], [0.7, 0.3], [0.7, 0.7], [0.3, 0.7]]}
      - {id: cho, kind: waiting_area, points: [[0.0, 0.7], [1.0, 0.7], [1.0, 1.0], [0.0, 1.0]]}"""


def _write_config(folder: Path, video: Path) -> Path:
    cams = "".join(textwrap.dedent(f"""\
          - id: {cam}
            name: "Quầy {cam[-1].upper()}"
            streams: {{main: "{video}", loop: true}}
            zones:
        """) + ZONES + "\n" for cam in CAMERAS)
    config = folder / "cameras.yaml"
    config.write_text(textwrap.dedent("""\
        site:
          name: "Bộ phận một cửa - trình duyệt"
          language: vi
          opening_hours: {days: [mon, tue, wed, thu, fri, sat, sun], periods: ["00:00-23:59"]}
        storage: {recordings: recordings, database: onestop.db}
        defaults:
          pre_roll_s: 2
          post_roll_s: 2
          events: {min_length_s: 1, merge_gap_s: 2}
        cameras:
        """) + cams, encoding="utf-8")
    return config


def _seed_occupancy(config_path: Path, now: datetime) -> None:
    """A week of counter activity 08:00-09:00 each day, and the last hour of today, through the real writer."""
    from monitor.site.config import load_config
    from monitor.db.store import Writer, open_db

    config = load_config(config_path)
    db = open_db(config.storage.database)
    writer = Writer(db)
    spans = []
    for back in range(7, 0, -1):
        start = datetime.combine(now.date() - timedelta(days=back), clock_time(8), tzinfo=TZ).timestamp()
        spans.append((int(start), int(start) + 3600))
    spans.append((int(now.timestamp()) - 3600, int(now.timestamp()) - 120))
    for cam in CAMERAS:
        for t0, t1 in spans:
            # the officer seated except a 5-minute break; a citizen served 4 of every 5 minutes; 0-3 waiting
            writer.apply([{"type": "occupancy", "camera": cam, "t": t, "zones": {
                "ghe": {"occupied": not 2400 <= t - t0 < 2700, "count": 1.0},
                "quay": {"occupied": (t - t0) % 300 < 240, "count": 1.0},
                "cho": {"occupied": (t - t0) % 900 > 60, "count": float((t - t0) // 300 % 4)},
            }} for t in range(t0, t1)])
    db.conn.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """`onestop run` on two looping file cameras, with accounts and seeded occupancy; stopped with SIGTERM."""
    folder = tmp_path_factory.mktemp("browser-site")
    video = make_video(folder / "counter.mp4", VIDEO)
    config = _write_config(folder, video)
    _seed_occupancy(config, datetime.now(TZ))
    add_users(config, PASSWORD, {ADMIN: "admin", VIEWER: "viewer", POLYGLOT: "supervisor"})
    with running_site(folder, config) as s:
        for cam in CAMERAS:
            s.wait(f"a complete event with a thumbnail from {cam}", lambda: s.complete_events(cam), EVENTS_TIMEOUT_S)
        yield s


# ------------------------------------------------------------------ helpers


def log_in(driver: Any, site: Site, username: str, password: str = PASSWORD) -> None:
    _log_in(driver, site, username, password)


def event_ids(driver: Any) -> list[str]:
    """The data-event ids of the listed rows, read in one go (the list may refresh itself)."""
    return driver.execute_script(
        "return [...document.querySelectorAll('tr.event[data-event]')].map(r => r.dataset.event)")


def loaded_thumbnails(driver: Any) -> int:
    return driver.execute_script(
        "return [...document.querySelectorAll('tr.event[data-event] img')]"
        ".filter(i => i.complete && i.naturalWidth > 0).length")


def header_text(driver: Any) -> str:
    return driver.execute_script("return (document.querySelector('header') || document.body).innerText")


# ------------------------------------------------------------------ tests


def test_login_form_then_events_list_with_thumbnails(site: Site, browser: Any) -> None:
    assert status(browser, site, "/events") == 0  # not logged in: redirected to the login page
    log_in(browser, site, ADMIN)
    open_page(browser, site, "/events")
    ids = wait_for(browser, "event rows", event_ids)
    known = {e["id"] for e in site.rows("select id from events")}
    assert set(ids) <= known, set(ids) - known
    assert wait_for(browser, "a loaded thumbnail", loaded_thumbnails) >= 1


def test_filter_events_by_camera(site: Site, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    log_in(browser, site, ADMIN)
    open_page(browser, site, "/events")

    def cameras_listed(d: Any) -> bool:
        camera_of = {e["id"]: e["camera"] for e in site.rows("select id, camera from events")}
        return {camera_of.get(i) for i in event_ids(d)} == set(CAMERAS)

    wait_for(browser, "event rows of both cameras", cameras_listed)
    form = browser.find_element(By.CSS_SELECTOR, "form#event-filters")
    field = form.find_element(By.NAME, "camera")
    if field.tag_name == "select":
        Select(field).select_by_value("cam-b")
    else:
        field.clear()
        field.send_keys("cam-b")
    submit = form.find_elements(By.CSS_SELECTOR, "button[type=submit], input[type=submit], button:not([type])")
    if submit:
        submit[0].click()
    else:
        browser.execute_script("arguments[0].requestSubmit()", form)
    wait_for(browser, "the filtered list", lambda d: "camera=cam-b" in d.current_url and event_ids(d))
    camera_of = {e["id"]: e["camera"] for e in site.rows("select id, camera from events")}
    shown = event_ids(browser)
    assert {camera_of.get(i) for i in shown} == {"cam-b"}, shown


def test_event_clip_plays(site: Site, browser: Any, shots: Path) -> None:
    log_in(browser, site, ADMIN)
    event = site.complete_events("cam-a")[0]
    open_page(browser, site, f"/events/{event['id']}")
    wait_for(browser, "video#clip", lambda d: d.execute_script("return document.getElementById('clip')"))
    first = play_until(browser)
    assert first["w"] == VIDEO.width
    screenshot(browser, shots, "event-clip")
    # seeking works (the clip is served with range requests)
    seeked = browser.execute_async_script(
        "const done = arguments[arguments.length - 1], v = document.getElementById('clip');"
        "v.addEventListener('seeked', () => done(v.currentTime), {once: true}); v.currentTime = 0.2;")
    assert seeked < 1.0


def test_report_chart_renders(site: Site, browser: Any) -> None:
    log_in(browser, site, ADMIN)
    open_page(browser, site, "/reports")
    size = wait_for(browser, "svg.chart with a size", lambda d: d.execute_script(
        "const s = document.querySelector('svg.chart'); if (!s) return null;"
        "const r = s.getBoundingClientRect(); return r.width > 0 && r.height > 0 ? [r.width, r.height] : null;"))
    assert min(size) > 10, size
    marks = browser.execute_script(
        "return document.querySelector('svg.chart').querySelectorAll('rect, path, polyline, line, circle').length")
    assert marks > 0


def _switch_language(driver: Any, code: str) -> None:
    """Use the language switch in the page header, whatever control it is."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    for sel in (f'[name="language"][value="{code}"]', f'a[hreflang="{code}"]', f'a[lang="{code}"]',
                f'button[lang="{code}"]'):
        found = [e for e in driver.find_elements(By.CSS_SELECTOR, sel) if e.is_displayed()]
        if found:
            found[0].click()
            break
    else:
        select = driver.find_element(By.CSS_SELECTOR, 'select[name="language"]')
        Select(select).select_by_value(code)
        driver.execute_script("const f = arguments[0].form; if (f) f.requestSubmit();", select)
    wait_for(driver, f"the page in {code}",
             lambda d: d.execute_script("return document.documentElement.lang") == code
             and d.execute_script("return document.readyState") == "complete")


def test_language_switch_to_vietnamese(site: Site, browser: Any) -> None:
    log_in(browser, site, POLYGLOT)
    open_page(browser, site, "/reports")
    _switch_language(browser, "en")
    assert "Reports" in header_text(browser)
    _switch_language(browser, "vi")
    text = header_text(browser)
    assert "Báo cáo" in text and "Reports" not in text, text
    assert "/reports" in browser.current_url  # the switch comes back to the same page
    open_page(browser, site, "/events")  # the choice is kept for the next pages
    assert browser.execute_script("return document.documentElement.lang") == "vi"


def test_viewer_sees_reports_but_not_events(site: Site, browser: Any, shots: Path) -> None:
    log_in(browser, site, VIEWER)
    assert status(browser, site, "/reports") == 200
    assert status(browser, site, "/events") == 403
    assert status(browser, site, "/api/v1/events") == 403
    open_page(browser, site, "/events")
    assert "403" in browser.find_element("css selector", "main").text
    screenshot(browser, shots, "viewer-events-403")


MAIN_PAGES = (  # (name, path, what must be on it)
    ("overview", "/", ".counter-card"),
    ("live", "/live", None),
    ("events", "/events", "tr.event[data-event]"),
    ("event", "/events/{event}", "video#clip"),
    ("timeline", "/timeline", "svg.timeline"),
    # yesterday: it holds seeded activity whenever the test runs, also just after the site's midnight, when
    # today is still empty (the seed's "last hour of today" was the day before)
    ("reports", "/reports?date={yesterday}", "svg.chart"),
)


def test_screenshots_of_main_pages(site: Site, browser: Any, shots: Path) -> None:
    """A PNG of every main page for a person to look at; fails at the end if a page is missing or broken."""
    from selenium.webdriver.common.by import By

    open_page(browser, site, "/login")
    screenshot(browser, shots, "login")
    log_in(browser, site, ADMIN)
    event = site.complete_events("cam-b")[0]["id"]
    problems = []
    for name, path, selector in MAIN_PAGES:
        path = path.format(event=event, yesterday=(datetime.now(TZ).date() - timedelta(days=1)).isoformat())
        code = status(browser, site, path)
        open_page(browser, site, path)
        if code != 200:
            problems.append(f"{path}: HTTP {code}")
        elif selector:
            deadline = time.monotonic() + 5
            while not browser.find_elements(By.CSS_SELECTOR, selector) and time.monotonic() < deadline:
                time.sleep(0.2)
            if not browser.find_elements(By.CSS_SELECTOR, selector):
                problems.append(f"{path}: no {selector}")
        time.sleep(0.5)  # let images and charts paint
        screenshot(browser, shots, name)
    assert not problems, f"{problems} (screenshots in {shots})"


def test_health_page_shows_live_worker_figures(site: Site, browser: Any, shots: Path) -> None:
    """/health fills in each camera's rates from the running workers (the table refreshes itself)."""
    log_in(browser, site, ADMIN)
    open_page(browser, site, "/health")

    def figures(d: Any) -> Any:
        rows = d.execute_script(
            "return [...document.querySelectorAll('table.health tr.camera')].map(r => ({cam: r.dataset.camera,"
            " state: r.dataset.state, fps: r.querySelector('td.input-fps').textContent.trim(),"
            " detect: r.querySelector('td.detect-fps').textContent.trim(),"
            " rss: r.querySelector('td.rss').textContent.trim()}))")
        done = len(rows) == len(CAMERAS) and all(r["state"] == "online" and r["fps"] != "—" for r in rows)
        return rows if done else None

    rows = wait_for(browser, "online cameras with input fps", figures, timeout=WAIT_S + 10)
    assert {r["cam"] for r in rows} == set(CAMERAS)
    assert all(float(r["fps"].split()[0]) > 0 and r["detect"] != "—" and r["rss"].endswith("B") for r in rows), rows
    assert "alert-banner" not in browser.page_source
    screenshot(browser, shots, "health")
