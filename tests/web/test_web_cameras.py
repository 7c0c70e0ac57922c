"""Camera management and the zone editor through the web routes: a fake ONVIF camera over real HTTP whose
stream URIs point at the real RTSP server, real cameras.yaml edits, and the camera password kept out of
every page, the YAML and the log."""

from __future__ import annotations

import html as htmllib
import logging
import re
import stat
import textwrap

import pytest
import yaml

from monitor.site.config import load_config
from monitor.site.secrets import read_secrets, secrets_path
from onvif_device import WsDiscoveryResponder, onvif_device  # noqa: F401 - the fixture
from webtest import csrf_token, log_in, one_camera_site, zone_editor_token
from webui import create_app
from webui.site import site_state

SECRET = "Cam-pw-9x!q7"  # the camera's password: must never come back in a page, the YAML or a log line
TRI = "[[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]"


def _build(folder, stream):
    """One camera on `stream` with a staff seat, and the three accounts."""
    one_camera_site(folder, textwrap.dedent(f"""\
        # the IT officer's notes stay after every save
        site: {{name: "Một cửa"}}
        storage: {{recordings: rec, database: t.db}}
        cameras:
          - id: quay-1   # counter one
            name: "Quầy 1"
            streams: {{main: "{stream}"}}
            zones:
              - {{id: ghe, kind: staff_seat, points: {TRI}}}
        """))


@pytest.fixture
def site(make_site, test_videos):
    return make_site(_build, test_videos.sub)


@pytest.fixture
def app(site):
    nudges: list[int] = []
    app = create_app(load_config(site / "cameras.yaml"), {"TESTING": True})
    site_state(app).on_reload_request = lambda: nudges.append(1)
    app.config["NUDGES"] = nudges
    return app


@pytest.fixture
def admin(app):
    client = app.test_client()
    log_in(client, "admin")
    return client


def post(client, path: str, data: dict, page: str = "/cameras/new"):
    return client.post(path, data={"csrf_token": csrf_token(client, page), **data})


def checked(html: str, name: str) -> str:
    m = re.search(rf'name="{name}" value="([^"]*)" checked', html)
    return m.group(1) if m else ""


def test_add_camera_through_onvif_probe_test_stream_and_save(app, admin, site, rtsp_server, onvif_device, caplog):
    caplog.set_level(logging.DEBUG)
    server = rtsp_server()
    device = onvif_device(user="admin", password=SECRET, main_uri=server.url("/main"), sub_uri=server.url("/sub"))
    responses = []

    probed = post(admin, "/cameras/probe", {"address": device.hostport, "username": "admin", "password": SECRET})
    responses.append(probed)
    html = probed.get_data(as_text=True)
    assert probed.status_code == 200, html
    token = re.search(r'action="/cameras/setup/([^"]+)"', html).group(1)
    main, sub = checked(html, "main_profile"), checked(html, "sub_profile")
    assert main and sub and main != sub  # pick_streams chose the large and the small profile

    choice = {"main_profile": main, "sub_profile": sub, "id": "quay-3", "name": "Quầy 3", "enabled": "1"}
    tested = post(admin, f"/cameras/setup/{token}", {**choice, "action": "test-main"})
    responses.append(tested)
    html = tested.get_data(as_text=True)
    assert tested.status_code == 200
    assert '<span class="codec">h264</span>' in html and '<span class="resolution">1280×720</span>' in html, html
    assert re.search(r'<span class="fps">25(\.0)?</span>', html)
    frame = admin.get(f"/cameras/test/{token}/main.jpg")
    assert frame.status_code == 200 and frame.data[:2] == b"\xff\xd8"
    tested_sub = post(admin, f"/cameras/setup/{token}", {**choice, "action": "test-sub"})
    responses.append(tested_sub)
    assert '<span class="resolution">640×360</span>' in tested_sub.get_data(as_text=True)

    saved = post(admin, f"/cameras/setup/{token}", {**choice, "action": "save"})
    assert saved.status_code == 302 and saved.location.endswith("/cameras")
    listing = admin.get("/cameras")
    responses += [saved, listing]
    assert "quay-3" in listing.get_data(as_text=True)

    text = (site / "cameras.yaml").read_text(encoding="utf-8")
    assert "# the IT officer's notes stay after every save" in text and "# counter one" in text
    cam = yaml.safe_load(text)["cameras"][1]
    assert cam["password"] == "${ONESTOP_QUAY_3_PASSWORD}" and cam["username"] == "admin"
    assert cam["streams"] == {"main": server.url("/main"), "sub": server.url("/sub")}
    secrets_file = secrets_path(site / "cameras.yaml")
    assert read_secrets(secrets_file) == {"ONESTOP_QUAY_3_PASSWORD": SECRET}
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    config = site_state(app).config  # the app swapped in the saved config and nudged the supervisor
    assert config.camera("quay-3").stream_url("main") == server.url("/main", f"admin:{SECRET.replace('!', '%21')}")
    assert app.config["NUDGES"] == [1]

    edit_page = admin.get("/cameras/quay-3/edit")
    responses.append(edit_page)
    for r in responses:
        assert SECRET not in r.get_data(as_text=True)
    assert SECRET not in text and SECRET not in caplog.text


def test_probe_failures_are_one_line_4xx(admin, onvif_device):
    device = onvif_device(user="admin", password=SECRET)
    wrong = post(admin, "/cameras/probe", {"address": device.hostport, "username": "admin", "password": "nope"})
    assert wrong.status_code == 400
    errors = re.findall(r'<p class="error" role="alert">([^<]*)</p>', wrong.get_data(as_text=True))
    assert len(errors) == 1 and "\n" not in errors[0].strip()
    bad = post(admin, "/cameras/probe", {"address": "http://x/y", "username": "", "password": ""})
    assert bad.status_code == 400 and "192.168.1.64" in bad.get_data(as_text=True)


def test_discover_lists_the_camera_that_answers(app, admin, onvif_device):
    device = onvif_device()
    responder = WsDiscoveryResponder(device.device_url)
    try:
        app.config["ONVIF_DISCOVER_TO"] = ("127.0.0.1", responder.port)
        page = post(admin, "/cameras/discover", {})
    finally:
        responder.stop()
    assert page.status_code == 200
    assert f'value="{device.hostport}"' in page.get_data(as_text=True)  # the probe form is filled in


def test_manual_add_bad_and_duplicate_ids(admin, site, test_videos):
    started = post(admin, "/cameras/manual", {"main": f"rtsp://viewer:{SECRET}@10.1.2.3:554/live", "sub": ""})
    html = started.get_data(as_text=True)
    assert started.status_code == 200 and SECRET not in html and 'value="rtsp://10.1.2.3:554/live"' in html
    token = re.search(r'action="/cameras/setup/([^"]+)"', html).group(1)
    form = {"main": "rtsp://10.1.2.3:554/live", "sub": "", "name": "Cổng", "action": "save"}
    for cam_id, expected in (("Bad Id!", "cameras[1].id: must be a slug"),
                             ("quay-1", "a camera with id 'quay-1' already exists")):
        r = post(admin, f"/cameras/setup/{token}", {**form, "id": cam_id})
        errors = re.findall(r'<p class="error" role="alert">([^<]*)</p>', htmllib.unescape(r.get_data(as_text=True)))
        assert r.status_code == 400 and len(errors) == 1 and errors[0].startswith("cameras.yaml")
        assert expected in errors[0], errors
    before = (site / "cameras.yaml").read_text(encoding="utf-8")
    assert "Cổng" not in before  # nothing written by a refused save
    ok = post(admin, f"/cameras/setup/{token}", {**form, "id": "cong"})
    assert ok.status_code == 302
    cam = load_config(site / "cameras.yaml").camera("cong")
    assert cam.streams.main == "rtsp://10.1.2.3:554/live" and cam.username == "viewer"
    assert cam.stream_url("main") == f"rtsp://viewer:{SECRET.replace('!', '%21')}@10.1.2.3:554/live"


def test_edit_keeps_password_when_empty_enable_disable_and_delete(admin, site):
    post(admin, "/cameras/quay-1/edit", {"name": "Quầy 1", "main": "rtsp://10.0.0.9/a", "username": "op",
                                         "password": SECRET, "enabled": "1"}, "/cameras/quay-1/edit")
    page = admin.get("/cameras/quay-1/edit").get_data(as_text=True)
    assert SECRET not in page and 'value="op"' in page
    r = post(admin, "/cameras/quay-1/edit", {"name": "Quầy Một", "main": "rtsp://10.0.0.9/a", "username": "op",
                                             "password": "", "enabled": "1"}, "/cameras/quay-1/edit")
    assert r.status_code == 302
    config = load_config(site / "cameras.yaml")
    assert config.camera("quay-1").name == "Quầy Một"
    assert read_secrets(secrets_path(site / "cameras.yaml")) == {"ONESTOP_QUAY_1_PASSWORD": SECRET}
    assert config.camera("quay-1").zones[0].id == "ghe"  # zones untouched by the edit

    assert post(admin, "/cameras/quay-1/enabled", {"enabled": "0"}, "/cameras").status_code == 302
    assert load_config(site / "cameras.yaml").camera("quay-1").enabled is False
    refused = post(admin, "/cameras/quay-1/delete", {"confirm": "wrong"}, "/cameras/quay-1/delete")
    assert refused.status_code == 400 and "quay-1" in load_config(site / "cameras.yaml").model_dump_json()
    gone = post(admin, "/cameras/quay-1/delete", {"confirm": "quay-1"}, "/cameras/quay-1/delete")
    assert gone.status_code == 302
    assert load_config(site / "cameras.yaml").cameras == []
    assert read_secrets(secrets_path(site / "cameras.yaml")) == {}
    assert admin.get("/cameras/quay-1/edit").status_code == 404


def test_only_admins_and_csrf(app, site):
    for role in ("viewer", "supervisor"):
        client = app.test_client()
        log_in(client, role)
        assert client.get("/cameras").status_code == 403
        assert client.get("/cameras/quay-1/zones").status_code == 403
    admin = app.test_client()
    log_in(admin, "admin")
    assert admin.post("/cameras/quay-1/enabled", data={"enabled": "0"}).status_code == 400  # no CSRF token
    assert admin.post("/cameras/quay-1/zones", json={"zones": [], "masks": []}).status_code == 400
    assert load_config(site / "cameras.yaml").camera("quay-1").enabled is True


@pytest.mark.parametrize("zones, masks, expected", [
    ([{"id": "ghe", "kind": "staff_seat", "points": [[0.1, 0.1], [0.5, 0.1]]}], [],
     "zones[0].points: a polygon needs at least 3 points, got 2"),
    ([{"id": "ghe", "kind": "sofa", "points": [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]}], [], "zones[0].kind"),
    ([{"id": "a", "kind": "motion", "points": [[0.1, 0.1], [1.5, 0.1], [0.5, 0.5]]}], [], "between 0 and 1"),
    ([], [[[0, 0], [1, 1], [0.5, 0.5]]], "masks[0]: the polygon has zero area"),
    ([{"id": "a", "kind": "motion", "points": [[0, 0], [1, 0], [1, 1]]}] * 2, [], "duplicate zone id 'a'"),
    ([{"id": "a", "kind": "waiting_area", "points": [[0, 0], [1, 0], [1, 1]], "person_height": [0.5, 2]}], [],
     "person_height"),
    ([{"id": "ghe", "kind": "staff_seat", "points": [[0, 0], [1, 0], [1, 1]], "seated": False}], [],
     "zone 'ghe': seated applies to waiting_area and service_spot zones only, not staff_seat"),
])
def test_zone_save_refuses_bad_input_with_one_line(admin, site, zones, masks, expected):
    before = (site / "cameras.yaml").read_bytes()
    r = admin.post("/cameras/quay-1/zones", json={"zones": zones, "masks": masks},
                   headers={"X-CSRFToken": zone_editor_token(admin)})
    assert r.status_code == 400, r.get_json()
    error = r.get_json()["error"]
    assert expected in error and "\n" not in error
    assert (site / "cameras.yaml").read_bytes() == before


def test_zone_save_writes_zones_masks_and_calibration(admin, site):
    zones = [{"id": "cho", "kind": "waiting_area", "points": [[0.0, 0.5], [0.6, 0.5], [0.6, 1.0], [0.0, 1.0]],
              "person_height": [0.45, 0.3]}]
    r = admin.post("/cameras/quay-1/zones", json={"zones": zones, "masks": [[[0.8, 0], [1, 0], [1, 0.15]]]},
                   headers={"X-CSRFToken": zone_editor_token(admin)})
    assert r.status_code == 200 and r.get_json() == {"ok": True, "zones": 1, "masks": 1, "privacy_masks": 0,
                                                     "drawn_as_body": [], "covers_seats": []}
    cam = load_config(site / "cameras.yaml").camera("quay-1")
    assert [z.id for z in cam.zones] == ["cho"] and cam.zones[0].person_height == (0.45, 0.3)
    assert cam.masks == [[(0.8, 0.0), (1.0, 0.0), (1.0, 0.15)]]
    assert "# counter one" in (site / "cameras.yaml").read_text(encoding="utf-8")


def test_zone_save_writes_seated_only_where_nobody_sits(admin, site):
    square = [[0.0, 0.5], [0.6, 0.5], [0.6, 1.0], [0.0, 1.0]]
    zones = [{"id": "hang", "kind": "waiting_area", "points": square, "seated": False},
             {"id": "ghe", "kind": "waiting_area", "points": square, "seated": True},
             {"id": "quay-dung", "kind": "service_spot", "points": square, "seated": False}]  # citizens stand here
    r = admin.post("/cameras/quay-1/zones", json={"zones": zones, "masks": []},
                   headers={"X-CSRFToken": zone_editor_token(admin)})
    assert r.status_code == 200, r.get_json()
    assert [(z.id, z.seated) for z in load_config(site / "cameras.yaml").camera("quay-1").zones] == \
        [("hang", False), ("ghe", True), ("quay-dung", False)]
    assert (site / "cameras.yaml").read_text(encoding="utf-8").count("seated") == 2  # the default is not written
    page = admin.get("/cameras/quay-1/zones").get_data(as_text=True)
    assert 'id="zone-seated"' in page and '"seated": false' in page and 'id="zone-seated-spot-hint"' in page
    assert "Camera phải thấy từng cán bộ ở ghế của mình" in page  # a hidden staff seat: the editor says what happens


def test_zone_save_names_the_seats_drawn_around_a_person(admin, site):
    """With the waiting area's calibration, a seat as tall as a person there is named in the answer and on the
    page (the editor's hint), and saved all the same; a thin footprint is not named."""
    zones = [{"id": "cho", "kind": "waiting_area", "points": [[0.0, 0.6], [1.0, 0.6], [1.0, 1.0], [0.0, 1.0]],
              "person_height": [0.45, 0.35]},
             {"id": "ghe", "kind": "staff_seat", "points": [[0.3, 0.1], [0.5, 0.1], [0.5, 0.3], [0.3, 0.3]]},
             {"id": "cho-ngoi", "kind": "service_spot", "points": [[0.3, 0.45], [0.5, 0.45], [0.5, 0.5], [0.3, 0.5]]}]
    r = admin.post("/cameras/quay-1/zones", json={"zones": zones, "masks": []},
                   headers={"X-CSRFToken": zone_editor_token(admin)})
    assert r.status_code == 200 and r.get_json()["drawn_as_body"] == ["ghe"], r.get_json()
    assert [z.id for z in load_config(site / "cameras.yaml").camera("quay-1").zones] == ["cho", "ghe", "cho-ngoi"]
    page = admin.get("/cameras/quay-1/zones").get_data(as_text=True)
    assert '"drawn_as_body": ["ghe"]' in page and 'id="zone-body-hint"' in page
    assert "Vùng này được vẽ cao bằng một người" in page  # the hint, in the site's language
    assert r.get_json()["covers_seats"] == [] and '"covers_seats": []' in page

    zones[0]["points"] = [[0.0, 0.4], [1.0, 0.4], [1.0, 1.0], [0.0, 1.0]]  # drawn up over the service spot
    r = admin.post("/cameras/quay-1/zones", json={"zones": zones, "masks": []},
                   headers={"X-CSRFToken": zone_editor_token(admin)})
    assert r.status_code == 200 and r.get_json()["covers_seats"] == [["cho", "cho-ngoi"]], r.get_json()
    page = admin.get("/cameras/quay-1/zones").get_data(as_text=True)
    assert '"covers_seats": [["cho", "cho-ngoi"]]' in page and "Khu vực chờ này trùm lên ghế cán bộ" in page


def test_zone_page_and_snapshot_from_the_stream(admin):
    page = admin.get("/cameras/quay-1/zones").get_data(as_text=True)
    assert 'id="zone-data"' in page and '"id": "ghe"' in page and "<script>" not in page
    snap = admin.get("/cameras/quay-1/snapshot.jpg")  # no worker runs: one frame grabbed from the file source
    assert snap.status_code == 200 and snap.data[:2] == b"\xff\xd8"
