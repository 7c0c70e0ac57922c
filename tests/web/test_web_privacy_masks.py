"""Privacy masks drawn in the zone editor: saved to cameras.yaml `privacy_masks` (comments kept), refused with
one line on bad input, admins only, CSRF-protected, audited, and blurred for viewers at once."""

from __future__ import annotations

import re
import textwrap

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.db import audit as audit_store
from monitor.db.store import open_db
from monitor.layout import live_snapshot_path
from monitor.site.config import load_config
from webtest import csrf_token, log_in, one_camera_site, zone_editor_token
from webui import create_app

WINDOW = [[0.7, 0.05], [0.98, 0.05], [0.98, 0.4], [0.7, 0.4]]
DESK = [[0.0, 0.6], [0.3, 0.6], [0.3, 1.0], [0.0, 1.0]]
SEAT = {"id": "ghe", "kind": "staff_seat", "points": [[0.3, 0.05], [0.5, 0.05], [0.5, 0.3]]}
DETECTION = [[0.0, 0.0], [0.2, 0.0], [0.0, 0.2]]


def _build(folder, stream):
    """One camera with a staff seat, a detection mask and one privacy mask; the three accounts."""
    one_camera_site(folder, textwrap.dedent(f"""\
        # the IT officer's notes stay after every save
        site: {{name: "Một cửa"}}
        storage: {{recordings: rec, database: t.db}}
        cameras:
          - id: quay-1   # counter one
            name: "Quầy 1"
            streams: {{main: "{stream}"}}
            masks:
              - {DETECTION}
            privacy_masks:
              - {WINDOW}   # the window onto the street
            zones:
              - {{id: ghe, kind: staff_seat, points: {SEAT["points"]}}}
        """))


@pytest.fixture
def site(make_site, test_videos):
    return make_site(_build, test_videos.sub)


@pytest.fixture
def app(site):
    return create_app(load_config(site / "cameras.yaml"), {"TESTING": True})


def client_for(app, role: str):
    client = app.test_client()
    log_in(client, role)
    return client


def post(client, body, token: str | None = None):
    return client.post("/cameras/quay-1/zones", json=body,
                       headers={"X-CSRFToken": token if token is not None else zone_editor_token(client)})


def camera_changes(site) -> list[audit_store.Entry]:
    db = open_db(site / "t.db")
    try:
        return audit_store.query(db, audit_store.AuditFilter(action="camera_change"), limit=100)
    finally:
        db.conn.close()


def editor_page(site, language: str) -> str:
    config = load_config(site / "cameras.yaml")
    config.site.language = language
    return client_for(create_app(config, {"TESTING": True}), "admin").get("/cameras/quay-1/zones").get_data(as_text=True)


def test_the_editor_lists_privacy_masks_apart_from_detection_masks(site):
    page = editor_page(site, "en")
    data = re.search(r'<script type="application/json" id="zone-data">(.*?)</script>', page).group(1)
    assert '"privacy_masks": [[[0.7, 0.05], [0.98, 0.05], [0.98, 0.4], [0.7, 0.4]]]' in data
    assert '"masks": [[[0.0, 0.0], [0.2, 0.0], [0.0, 0.2]]]' in data
    assert 'id="new-privacy"' in page and 'id="new-mask"' in page and 'id="privacy-preview"' in page
    assert "Blurs an area in every exported clip" in page and "Hides an area from motion and person detection" in page


def test_the_editor_explains_both_kinds_in_vietnamese(site):
    page = editor_page(site, "vi")
    assert "Vùng làm mờ riêng tư mới" in page and "Làm mờ một khu vực trong mọi đoạn video xuất ra" in page
    assert "Che một khu vực khỏi việc phát hiện chuyển động" in page


def test_save_writes_privacy_masks_keeps_the_rest_and_audits(app, site):
    admin = client_for(app, "admin")
    r = post(admin, {"zones": [SEAT], "masks": [DETECTION], "privacy_masks": [WINDOW, DESK]})
    assert r.status_code == 200 and r.get_json() == {"ok": True, "zones": 1, "masks": 1, "privacy_masks": 2,
                                                     "drawn_as_body": [], "covers_seats": []}
    cam = load_config(site / "cameras.yaml").camera("quay-1")
    assert cam.privacy_masks == [[tuple(p) for p in WINDOW], [tuple(p) for p in DESK]]
    assert cam.masks == [[tuple(p) for p in DETECTION]] and [z.id for z in cam.zones] == ["ghe"]
    text = (site / "cameras.yaml").read_text(encoding="utf-8")
    assert "# the IT officer's notes stay after every save" in text and "# counter one" in text
    assert text.index("masks:") < text.index("privacy_masks:") < text.index("zones:")
    rows = camera_changes(site)
    assert [(e.user, e.target) for e in rows] == [("quan-tri", "quay-1")]
    assert rows[0].detail == "zones saved: zones 1, detection masks 1, privacy masks 1 -> 2 (changed)", rows[0].detail


def test_unchanged_privacy_masks_are_audited_as_unchanged(app, site):
    post(client_for(app, "admin"), {"zones": [SEAT], "masks": [], "privacy_masks": [WINDOW]})
    detail = camera_changes(site)[0].detail
    assert "privacy masks 1 -> 1" in detail and "changed" not in detail, detail


def test_deleting_every_privacy_mask_removes_the_key(app, site):
    r = post(client_for(app, "admin"), {"zones": [SEAT], "masks": [DETECTION], "privacy_masks": []})
    assert r.status_code == 200
    assert "privacy_masks" not in (site / "cameras.yaml").read_text(encoding="utf-8")
    assert load_config(site / "cameras.yaml").camera("quay-1").privacy_masks == []
    assert "privacy masks 1 -> 0 (changed)" in camera_changes(site)[0].detail


def test_a_post_without_privacy_masks_leaves_them_as_they_are(app, site):
    r = post(client_for(app, "admin"), {"zones": [SEAT], "masks": []})
    assert r.status_code == 200 and r.get_json()["privacy_masks"] == 1
    assert load_config(site / "cameras.yaml").camera("quay-1").privacy_masks == [[tuple(p) for p in WINDOW]]


@pytest.mark.parametrize("privacy, expected", [
    ([[[0.1, 0.1], [0.5, 0.1]]], "privacy_masks[0]: a polygon needs at least 3 points, got 2"),
    ([WINDOW, [[0.1, 0.1], [1.5, 0.1], [0.5, 0.5]]], "privacy_masks[1][1]"),
    ([[[0, 0], [1, 1], [0.5, 0.5]]], "privacy_masks[0]: the polygon has zero area"),
    ([[[0.1, 0.1], [0.5, "x"], [0.5, 0.5]]], "privacy_masks[0][1][1]"),
    ("the window", "privacy_masks: "),
    ([[[0.1, 0.1, 0.2], [0.5, 0.1], [0.5, 0.5]]], "privacy_masks[0][0]"),
])
def test_bad_privacy_masks_are_one_line_400s(app, site, privacy, expected):
    before = (site / "cameras.yaml").read_bytes()
    r = post(client_for(app, "admin"), {"zones": [SEAT], "masks": [], "privacy_masks": privacy})
    assert r.status_code == 400, r.get_json()
    error = r.get_json()["error"]
    assert error.startswith(expected) and "\n" not in error and "Traceback" not in error, error
    assert (site / "cameras.yaml").read_bytes() == before
    assert camera_changes(site) == []


def test_between_0_and_1_is_named(app):
    r = post(client_for(app, "admin"), {"zones": [], "privacy_masks": [[[0.1, 0.1], [1.5, 0.1], [0.5, 0.5]]]})
    assert r.status_code == 400 and "between 0 and 1" in r.get_json()["error"]


def test_only_admins_with_a_csrf_token_change_privacy_masks(app, site):
    before = (site / "cameras.yaml").read_bytes()
    body = {"zones": [SEAT], "masks": [], "privacy_masks": []}
    for role in ("viewer", "supervisor"):
        client = client_for(app, role)
        assert client.get("/cameras/quay-1/zones").status_code == 403
        assert post(client, body, token=csrf_token(client, "/account/password")).status_code == 403
    admin = client_for(app, "admin")
    assert admin.post("/cameras/quay-1/zones", json=body).status_code == 400  # no CSRF token
    assert post(admin, body, token="forged").status_code == 400
    assert (site / "cameras.yaml").read_bytes() == before
    assert camera_changes(site) == []


def test_a_saved_privacy_mask_blurs_the_viewers_live_picture_at_once(app, site):
    """A sharp checkerboard as the worker's live snapshot: the viewer sees it blurred inside the new mask only."""
    board = (np.indices((360, 640)).sum(axis=0) // 8 % 2 * 255).astype(np.uint8)
    live = live_snapshot_path(site / "rec", "quay-1")
    live.parent.mkdir(parents=True, exist_ok=True)
    live.write_bytes(cv2.imencode(".jpg", cv2.merge([board] * 3), [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes())
    viewer = client_for(app, "viewer")

    def contrast(x0: float, y0: float, x1: float, y1: float) -> float:
        data = viewer.get("/live/quay-1.jpg").data
        frame = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
        return float(frame[int(y0 * 360):int(y1 * 360), int(x0 * 640):int(x1 * 640)].std())

    desk_box = (0.02, 0.75, 0.12, 0.95)  # inside DESK
    assert contrast(*desk_box) > 100  # sharp before: the desk is not masked yet
    r = post(client_for(app, "admin"), {"zones": [SEAT], "masks": [], "privacy_masks": [WINDOW, DESK]})
    assert r.status_code == 200
    assert contrast(*desk_box) < 10  # blurred to a flat grey
    assert contrast(0.4, 0.5, 0.6, 0.7) > 100  # outside every mask: still sharp


def test_a_resent_mask_with_more_digits_than_are_stored_is_not_a_change(app, site):
    finer = [[x + 0.00001, y] for x, y in WINDOW]  # rounds to the stored 4 digits
    assert post(client_for(app, "admin"), {"zones": [SEAT], "masks": [], "privacy_masks": [finer]}).status_code == 200
    assert camera_changes(site)[0].detail.endswith("privacy masks 1 -> 1")


JSON_LEAF = st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=True) | st.text(max_size=5)
HOSTILE = st.recursive(JSON_LEAF, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=3), inner,
                                                                                               max_size=2), max_leaves=25)


def test_hostile_privacy_masks_get_a_saved_answer_or_one_line(app):
    admin = client_for(app, "admin")  # logged in once: the password hash is slow on purpose
    token = zone_editor_token(admin)

    @settings(max_examples=80, deadline=None)
    @given(privacy=HOSTILE)
    def check(privacy: object) -> None:
        r = post(admin, {"zones": [SEAT], "masks": [], "privacy_masks": privacy}, token=token)
        assert r.status_code in (200, 400), (privacy, r.status_code)
        if r.status_code == 400:
            error = r.get_json()["error"]
            assert error and "\n" not in error and "Traceback" not in error, error

    check()
