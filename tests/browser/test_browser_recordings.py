"""Headless Chromium plays a day of continuous recording: it goes on from one segment into the next by
itself, and the seek box jumps to a moment inside another segment, at the right offset."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from browserkit import Site, add_users, browser, console_errors, open_page, running_site, wait_for  # noqa: F401
from browserkit import log_in, screenshot, shots  # noqa: F401 - shots: fixture
from media import VideoSpec, make_video

pytestmark = [pytest.mark.slow]

PASSWORD = "Pw-rec-5m2q"
SEGMENT_S = 3
TZ = "Asia/Ho_Chi_Minh"
SEGMENTS_TIMEOUT_S = 40.0


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """`onestop run` on one looping-file camera recording always, in segments of SEGMENT_S."""
    folder = tmp_path_factory.mktemp("rec-site")
    video = make_video(folder / "cam.mp4", VideoSpec(12, 640, 360))
    config = folder / "cameras.yaml"
    config.write_text(textwrap.dedent(f"""\
        site: {{name: "Ghi hình", timezone: {TZ}}}
        storage: {{recordings: recordings, database: onestop.db}}
        defaults: {{segment_s: {SEGMENT_S}}}
        cameras:
          - {{id: cam, name: "Quầy 1", recording: always, streams: {{main: "{video}", loop: true}}}}
        """), encoding="utf-8")
    add_users(config, PASSWORD, {"giam-sat": "supervisor"})
    with running_site(folder, config) as s:
        s.wait("three segments", lambda: len(s.rows("select id from segments")) >= 3, SEGMENTS_TIMEOUT_S)
        yield s


def player(driver: Any) -> dict[str, Any]:
    return driver.execute_script(
        "const b = document.getElementById('recording-player'), v = document.getElementById('recording');"
        "return {segment: b.dataset.segment, position: parseFloat(b.dataset.position || 'NaN'),"
        " t: v.currentTime, paused: v.paused, w: v.videoWidth, err: v.error && v.error.code};")


def seek(driver: Any, t: float) -> None:
    """Type a local time of day (whole seconds) into the seek box and send it."""
    driver.execute_script("document.getElementById('recording-at').value = arguments[0];"
                          "document.getElementById('recording-seek').requestSubmit();",
                          datetime.fromtimestamp(t, ZoneInfo(TZ)).strftime("%H:%M:%S"))


def click_on_the_bar(driver: Any) -> None:
    """A click on the middle of the first recorded span plays from that moment (from a segment far from it)."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    page = driver.execute_script("const b = document.getElementById('recording-player');"
                                 "return [JSON.parse(b.dataset.segments), +b.dataset.barT0, +b.dataset.barT1];")
    segs, t0, t1 = page
    span = driver.find_element(By.CSS_SELECTOR, "#recording-bar rect.recorded")
    x, w = float(span.get_attribute("x")), float(span.get_attribute("width"))
    target = t0 + (x + w / 2) / 1000 * (t1 - t0)
    # a few seconds of footage are drawn at least a unit (a minute or so) wide: the middle of that may lie past
    # the footage, and a click there plays the footage it stands for
    expected = next((i for i, seg in enumerate(segs) if target < seg["end"]), len(segs) - 1)
    away = 0 if expected >= len(segs) / 2 else len(segs) - 1
    seek(driver, math.ceil(segs[away]["start"]))
    wait_for(driver, "the segment away from the click", lambda d: player(d)["segment"] == str(segs[away]["id"]))
    ActionChains(driver).move_to_element(span).click().perform()
    near = {str(seg["id"]) for seg in segs[max(0, expected - 1):expected + 2]} - {str(segs[away]["id"])}
    clicked = wait_for(driver, "playing from the clicked moment",
                       lambda d: (p := player(d))["segment"] in near and not p["paused"] and p)
    px_s = (t1 - t0) / span.find_element(By.XPATH, "..").size["width"]  # seconds per screen pixel
    assert clicked["position"] == pytest.approx(target, abs=2 * px_s + 1.5)


def test_the_timeline_plays_across_a_segment_boundary_and_seeks(site: Site, browser: Any, shots: Path) -> None:  # noqa: F811
    segs = site.rows("select id, start, \"end\" from segments order by start")[:3]
    day = datetime.fromtimestamp(segs[0]["start"], ZoneInfo(TZ)).date()
    log_in(browser, site, "giam-sat", PASSWORD)
    open_page(browser, site, f"/recordings?camera=cam&date={day}")
    wait_for(browser, "the player", lambda d: player(d)["segment"] == str(segs[0]["id"]))

    start = math.ceil(segs[0]["start"])  # a whole second inside the first segment, < SEGMENT_S from its end
    seek(browser, start)
    playing = wait_for(browser, "the first segment playing",
                       lambda d: (p := player(d))["segment"] == str(segs[0]["id"]) and not p["paused"] and p["w"] and p)
    assert playing["err"] is None
    crossed = wait_for(browser, "the next segment playing after the first ended",
                       lambda d: (p := player(d))["segment"] == str(segs[1]["id"]) and p["t"] > 0.5 and p)
    assert crossed["err"] is None and not crossed["paused"]
    # the timeline position goes on from the first segment's end, the video from the second file's start
    # (the position is written at each timeupdate, every 250 ms at most, so it may lag currentTime by that)
    assert crossed["position"] == pytest.approx(segs[1]["start"] + crossed["t"], abs=0.5)
    assert crossed["position"] > segs[0]["end"]

    target = math.floor(segs[2]["start"]) + 2  # inside the third segment (it starts at a fraction of a second)
    assert segs[2]["start"] < target < segs[2]["end"]
    seek(browser, target)
    landed = wait_for(browser, "the seek into the third segment",
                      lambda d: (p := player(d))["segment"] == str(segs[2]["id"]) and not math.isnan(p["position"])
                      and p["position"] >= target and p)
    assert landed["position"] == pytest.approx(target, abs=1.0)  # played on a little since the seek
    assert landed["t"] == pytest.approx(target - segs[2]["start"], abs=1.0)
    click_on_the_bar(browser)
    assert console_errors(browser) == []
    screenshot(browser, shots, "recordings")
