"""Headless Chromium plays an H.265 camera's clip: through the H.264 rendition where it lacks HEVC."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browserkit import Site, add_users, browser, open_page, play_until, running_site  # noqa: F401 - browser: fixture
from browserkit import log_in
from media import MotionWindow, VideoSpec, make_video

pytestmark = [pytest.mark.slow]

PASSWORD = "Pw-hevc-3k8d"
VIDEO = VideoSpec(16, 640, 360, motion=(MotionWindow(2, 6),), codec="libx265", audio="aac")
EVENTS_TIMEOUT_S = 90.0
HEVC_TYPE = 'video/mp4; codecs="hvc1.1.6.L93.B0"'


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """`onestop run` on one single-stream H.265 camera (a looping file) with a supervisor account."""
    folder = tmp_path_factory.mktemp("hevc-site")
    video = make_video(folder / "hevc.mp4", VIDEO)
    config = folder / "cameras.yaml"
    config.write_text(textwrap.dedent(f"""\
        site: {{name: "H.265"}}
        storage: {{recordings: recordings, database: onestop.db}}
        defaults: {{pre_roll_s: 1, post_roll_s: 1, events: {{min_length_s: 1, merge_gap_s: 2}}}}
        cameras:
          - {{id: cam, name: "H.265", streams: {{main: "{video}", loop: true}}}}
        """), encoding="utf-8")
    add_users(config, PASSWORD, {"giam-sat": "supervisor"})
    with running_site(folder, config) as s:
        s.wait("a complete H.265 clip", lambda: s.complete_events("cam"), EVENTS_TIMEOUT_S)
        yield s


def test_the_h265_clip_plays_in_chromium(site: Site, browser: Any) -> None:  # noqa: F811
    log_in(browser, site, "giam-sat", PASSWORD)
    event = site.complete_events("cam")[0]
    open_page(browser, site, f"/events/{event['id']}")
    hevc = browser.execute_script(f"return document.createElement('video').canPlayType('{HEVC_TYPE}')")
    played = play_until(browser, timeout=60)
    print(f"\nChromium canPlayType(hvc1) = {hevc!r}; played {Path(played['src']).name} "
          f"({played['w']} px wide, readyState {played['ready']})")
    # where Chromium cannot decode HEVC it must have fallen back to the rendition
    expected = "clip.mp4" if hevc else "clip.h264.mp4"
    assert played["src"].endswith(f"/events/{event['id']}/{expected}")
    assert played["w"] == VIDEO.width
