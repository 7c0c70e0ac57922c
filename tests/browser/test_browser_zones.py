"""The zone and mask editor in a real browser: headless Chromium against `onestop run`, real cameras.yaml.

An admin draws a zone, a detection mask and a privacy mask with mouse clicks at known places on the
camera's picture, drags a corner and the two person-height markers, previews the privacy blur, deletes
a zone, tries an invalid save (refused with one line on the page, the file untouched), then saves and
the test reads cameras.yaml back with load_config. The page must run without a console error and without inline scripts or handlers.
"""

from __future__ import annotations

import os
import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browserkit import (  # noqa: F401 - browser and shots are fixtures
    Site, add_users, browser, console_errors, log_in, open_page, running_site, screenshot, shots, wait_for,
)
from media import VideoSpec, make_video
from monitor.site.config import load_config

pytestmark = [pytest.mark.slow]

PASSWORD = "Pw-zones-4k8m"
ADMIN = "quan-tri"
VIDEO = VideoSpec(10, 640, 360)
TOL = 0.01  # one pixel of a ~900 px wide picture is 0.0011; integer mouse offsets round to half a pixel
UPDATE_DOCS = "ONESTOP_UPDATE_SCREENSHOTS"  # =1: the test also refreshes the screenshot kept in docs/
SCREENSHOT_COPY = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "zones.png"

NOTES = "# the IT officer's notes stay after every save"
CONFIG = """\
    {notes}
    site:
      name: "Một cửa - vùng"
      language: en
    storage: {{recordings: recordings, database: onestop.db}}
    cameras:
      - id: quay-1   # counter one, by the window
        name: "Quầy 1"
        streams: {{main: "{video}", loop: true}}
        masks:
          - [[0.0, 0.0], [0.2, 0.0], [0.0, 0.2]]
        zones:
          - {{id: ghe, kind: staff_seat, points: [[0.3, 0.05], [0.5, 0.05], [0.5, 0.3], [0.3, 0.3]]}}
          - {{id: quay, kind: service_spot, points: [[0.55, 0.1], [0.7, 0.1], [0.7, 0.3]]}}
    """


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """`onestop run` with one looping file camera that has two zones and a mask, and an admin account."""
    folder = tmp_path_factory.mktemp("zones-site")
    video = make_video(folder / "counter.mp4", VIDEO)
    config = folder / "cameras.yaml"
    config.write_text(textwrap.dedent(CONFIG).format(notes=NOTES, video=video), encoding="utf-8")
    add_users(config, PASSWORD, {ADMIN: "admin"})
    with running_site(folder, config) as s:
        yield s


# ------------------------------------------------------------------ mouse and page helpers


def stage(driver: Any) -> Any:
    from selenium.webdriver.common.by import By

    svg = driver.find_element(By.ID, "zone-svg")
    driver.execute_script("arguments[0].scrollIntoView({block: 'nearest'})", svg)  # mouse actions never scroll
    return svg


def click_at(driver: Any, x: float, y: float) -> None:
    """A mouse click at the normalised picture position (x, y)."""
    from selenium.webdriver.common.action_chains import ActionChains

    svg = stage(driver)
    w, h = svg.size["width"], svg.size["height"]
    ActionChains(driver).move_to_element_with_offset(svg, round((x - 0.5) * w), round((y - 0.5) * h)).click().perform()


def drag_to(driver: Any, element: Any, x: float, y: float) -> None:
    """Press on the element's centre, move to the normalised picture position (x, y), release."""
    from selenium.webdriver.common.action_chains import ActionChains

    box = driver.execute_script("""
        const r = arguments[0].getBoundingClientRect(), s = arguments[1].getBoundingClientRect();
        return {cx: r.left + r.width / 2, cy: r.top + r.height / 2, l: s.left, t: s.top, w: s.width, h: s.height};
    """, element, stage(driver))
    dx, dy = round(box["l"] + x * box["w"] - box["cx"]), round(box["t"] + y * box["h"] - box["cy"])
    ActionChains(driver).move_to_element(element).click_and_hold().move_by_offset(dx // 2, dy // 2) \
        .move_by_offset(dx - dx // 2, dy - dy // 2).release().perform()


def button(driver: Any, element_id: str) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, element_id)


def editor_state(driver: Any) -> dict[str, Any]:
    """The editor's shapes as the page holds them (what Save would send)."""
    return driver.execute_script("return document.getElementById('zone-editor').editor.payload()")


def status_line(driver: Any) -> str:
    return driver.execute_script("return document.getElementById('zone-status').textContent")


def near(a: Any, b: Any) -> bool:
    return all(abs(p - q) <= TOL for p, q in zip(flatten(a), flatten(b), strict=True))


def flatten(v: Any) -> list[float]:
    return [x for item in v for x in flatten(item)] if isinstance(v, (list, tuple)) else [float(v)]


def preview_blur(driver: Any) -> dict[str, Any] | None:
    """The blur preview's picture and clip polygons, or None when the preview is off."""
    return driver.execute_script("""
        const image = document.querySelector('#zone-svg image.blurred');
        return image && {href: image.getAttribute('href').slice(0, 40),
                         clip: document.querySelectorAll('#privacy-clip polygon').length};
    """)


def edge_energy(driver: Any, x0: float, y0: float, x1: float, y1: float) -> float:
    """Mean squared grey-level step between neighbouring pixels of the picture as shown, in a normalised box.

    Squared, because blurring spreads an edge over many small steps: their sum stays, their squares drop.
    """
    import cv2
    import numpy as np

    shot = cv2.imdecode(np.frombuffer(stage(driver).screenshot_as_png, np.uint8), cv2.IMREAD_GRAYSCALE)
    h, w = shot.shape
    box = shot[int(y0 * h):int(y1 * h), int(x0 * w):int(x1 * w)].astype(float)
    return float((np.diff(box, axis=1) ** 2).mean() + (np.diff(box, axis=0) ** 2).mean())


def inline_code(driver: Any) -> list[str]:
    """Inline scripts and on* handler attributes: a Content-Security-Policy without 'unsafe-inline' blocks them."""
    return driver.execute_script("""
        const found = [...document.querySelectorAll('script:not([src])')]
            .filter(s => s.type !== 'application/json').map(s => 'script: ' + s.textContent.slice(0, 40));
        for (const e of document.querySelectorAll('*'))
            for (const a of e.attributes) if (a.name.startsWith('on')) found.push(e.tagName + ' ' + a.name);
        return found;
    """)


# ------------------------------------------------------------------ the test


def test_draw_edit_calibrate_and_save_zones(site: Site, browser: Any, shots: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    log_in(browser, site, ADMIN, PASSWORD)
    open_page(browser, site, "/cameras/quay-1/zones")
    size = wait_for(browser, "the camera's picture", lambda d: d.execute_script(
        "const i = document.getElementById('zone-picture'); return i.complete && i.naturalWidth ? "
        "[i.naturalWidth, i.naturalHeight] : null"))
    assert size == [VIDEO.width, VIDEO.height]
    svg_box = stage(browser).size
    assert abs(svg_box["height"] / svg_box["width"] - VIDEO.height / VIDEO.width) < 0.01  # overlay fits the picture
    assert inline_code(browser) == []
    assert [z["id"] for z in editor_state(browser)["zones"]] == ["ghe", "quay"]

    # a new zone: four corners, a stray fifth one taken back with "Undo last point"
    button(browser, "new-zone").click()
    for x, y in ((0.1, 0.5), (0.5, 0.5), (0.5, 0.9), (0.1, 0.9), (0.8, 0.8)):
        click_at(browser, x, y)
    button(browser, "undo-point").click()
    button(browser, "finish").click()
    assert not button(browser, "undo-point").is_displayed()  # the drawing tools show only while drawing
    zone = editor_state(browser)["zones"][-1]
    assert near(zone["points"], [[0.1, 0.5], [0.5, 0.5], [0.5, 0.9], [0.1, 0.9]]), zone
    id_field = button(browser, "zone-id")
    id_field.clear()
    id_field.send_keys("cho-moi")
    assert not button(browser, "zone-seated").is_displayed()  # "People sit here": waiting areas and service spots only
    Select(button(browser, "zone-kind")).select_by_value("service_spot")
    assert button(browser, "zone-seated").is_displayed() and button(browser, "zone-seated-spot-hint").is_displayed()
    assert not button(browser, "zone-seated-hint").is_displayed()  # the waiting area's hint
    Select(button(browser, "zone-kind")).select_by_value("waiting_area")
    assert not button(browser, "zone-seated-spot-hint").is_displayed()
    assert button(browser, "zone-seated").is_displayed() and button(browser, "zone-seated").is_selected()
    button(browser, "zone-seated").click()  # a standing queue: nobody sits here

    # move the top-right corner up and right: the far edge is now at y = 0.45
    corner = browser.find_element(By.CSS_SELECTOR, "circle.vertex[data-vertex='1']")
    drag_to(browser, corner, 0.6, 0.45)
    # person height: about 0.4 of the frame at the near edge (y 0.9), 0.2 at the far edge (y 0.45)
    button(browser, "zone-calibrate").click()
    handle = lambda k: browser.find_element(By.CSS_SELECTOR, f"circle.handle[data-handle='{k}']")  # noqa: E731
    # near and far heads on one row (the near marker at 0.47, the far one at 0.02): a camera at head height
    drag_to(browser, handle(0), 0.3, 0.43)
    drag_to(browser, handle(1), 0.3, 0.43)
    assert button(browser, "zone-head-height-hint").is_displayed()
    drag_to(browser, handle(0), 0.3, 0.5)
    drag_to(browser, handle(1), 0.3, 0.25)
    assert not button(browser, "zone-head-height-hint").is_displayed()  # slope 0.2 / 0.45: a camera up high

    # a mask; then one started and cancelled with Escape
    button(browser, "new-mask").click()
    for x, y in ((0.8, 0.05), (0.95, 0.05), (0.95, 0.2)):
        click_at(browser, x, y)
    button(browser, "finish").click()
    button(browser, "new-mask").click()
    click_at(browser, 0.7, 0.7)
    click_at(browser, 0.9, 0.7)
    assert not button(browser, "finish").is_enabled()  # two corners are not a polygon
    browser.switch_to.active_element.send_keys(Keys.ESCAPE)
    assert not button(browser, "finish").is_displayed()
    assert len(editor_state(browser)["masks"]) == 2

    # a privacy mask over the lower right corner: listed after the detection masks, in its own colour
    button(browser, "new-privacy").click()
    for x, y in ((0.6, 0.6), (0.9, 0.6), (0.9, 0.95), (0.6, 0.95)):
        click_at(browser, x, y)
    button(browser, "finish").click()
    listed = [b.text for b in browser.find_elements(By.CSS_SELECTOR, "#shape-list button")]
    assert listed == ["ghe (Staff seat)", "quay (Service spot)", "cho-moi (Waiting area)", "detection mask 1",
                      "detection mask 2", "privacy mask 1"], listed
    assert near(editor_state(browser)["privacy_masks"], [[[0.6, 0.6], [0.9, 0.6], [0.9, 0.95], [0.6, 0.95]]])
    colours = browser.execute_script("""
        return ['mask', 'privacy'].map(c => getComputedStyle(document.querySelector('#zone-svg polygon.' + c)).fill);
    """)
    assert colours[0] != colours[1], colours
    inside, outside = (0.63, 0.63, 0.87, 0.92), (0.05, 0.35, 0.25, 0.45)
    sharp = edge_energy(browser, *inside), edge_energy(browser, *outside)
    assert preview_blur(browser) is None
    button(browser, "privacy-preview").click()  # the picture blurred inside the privacy mask, as viewers see it
    blur = preview_blur(browser)
    assert blur is not None and blur["href"].startswith("data:image/jpeg") and blur["clip"] == 1, blur
    previewed = edge_energy(browser, *inside), edge_energy(browser, *outside)
    assert previewed[0] < sharp[0] / 4 and abs(previewed[1] - sharp[1]) < 0.1 * sharp[1], (sharp, previewed)

    # delete the zone "quay" through the list
    browser.find_element(By.XPATH, "//ul[@id='shape-list']//button[starts-with(., 'quay')]").click()
    button(browser, "delete-shape").click()

    # an invalid save: a duplicate zone id is refused with one line, and the file is left as it was
    before = site.config.read_bytes()
    id_field = button(browser, "zone-id")
    browser.find_element(By.XPATH, "//ul[@id='shape-list']//button[starts-with(., 'cho-moi')]").click()
    id_field.clear()
    id_field.send_keys("ghe")
    button(browser, "save-zones").click()
    error = wait_for(browser, "the refusal", lambda d: "duplicate" in status_line(d) and status_line(d))
    assert "'ghe'" in error and "\n" not in error.strip(), error
    assert browser.find_element(By.ID, "zone-status").get_attribute("class") == "error"
    assert site.config.read_bytes() == before
    refused = console_errors(browser)  # Chromium logs the 400 answer to the refused save, and nothing else
    assert len(refused) == 1 and "/cameras/quay-1/zones" in refused[0] and "400" in refused[0], refused

    id_field.clear()
    id_field.send_keys("cho-moi")
    button(browser, "save-zones").click()
    wait_for(browser, "the saved message", lambda d: d.find_element(By.ID, "zone-status").get_attribute("class")
             == "saved")
    # by the new calibration the staff seat (0.25 of the frame tall where a person is 0.13) is drawn around a person
    assert status_line(browser).endswith(" ghe"), status_line(browser)
    screenshot(browser, shots, "zones")
    if os.environ.get(UPDATE_DOCS) == "1":
        shutil.copyfile(shots / "zones.png", SCREENSHOT_COPY)

    cam = load_config(site.config).camera("quay-1")
    assert [z.id for z in cam.zones] == ["ghe", "cho-moi"]
    new = cam.zones[1]
    assert new.kind == "waiting_area"
    assert near(new.points, [[0.1, 0.5], [0.6, 0.45], [0.5, 0.9], [0.1, 0.9]]), new.points
    assert new.person_height is not None and near(new.person_height, [0.4, 0.2]), new.person_height
    assert new.seated is False and cam.zones[0].seated is True
    assert cam.zones[0].person_height is None and near(cam.zones[0].points, [[0.3, 0.05], [0.5, 0.05], [0.5, 0.3],
                                                                              [0.3, 0.3]])
    assert len(cam.masks) == 2 and near(cam.masks[1], [[0.8, 0.05], [0.95, 0.05], [0.95, 0.2]]), cam.masks
    assert len(cam.privacy_masks) == 1 and near(cam.privacy_masks[0], [[0.6, 0.6], [0.9, 0.6], [0.9, 0.95],
                                                                        [0.6, 0.95]]), cam.privacy_masks
    text = site.config.read_text(encoding="utf-8")
    assert NOTES in text and "# counter one, by the window" in text

    open_page(browser, site, "/cameras/quay-1/zones")  # the saved shapes come back in the editor
    wait_for(browser, "the editor", lambda d: d.execute_script(
        "const e = document.getElementById('zone-editor'); return e && e.editor"))
    assert [z["id"] for z in editor_state(browser)["zones"]] == ["ghe", "cho-moi"]
    assert len(editor_state(browser)["privacy_masks"]) == 1
    browser.find_element(By.XPATH, "//ul[@id='shape-list']//button[starts-with(., 'ghe')]").click()
    assert button(browser, "zone-body-hint").is_displayed()  # the seat drawn around a person says so
    browser.find_element(By.XPATH, "//ul[@id='shape-list']//button[starts-with(., 'cho-moi')]").click()
    assert not button(browser, "zone-body-hint").is_displayed()
    assert console_errors(browser) == []
