"""An H.265 main stream, as many cameras ship: `onestop probe` and the add-camera page show each
profile's codec and say that browsers without H.265 get an on-demand H.264 copy."""

from __future__ import annotations

import json
import re

from monitor.devices import onvif
from onvif_device import onvif_device  # noqa: F401 - fixture
from test_onvif import PLANTED, probe_args, run
from test_web_cameras import SECRET, admin, app, checked, post, site  # noqa: F401 - fixtures


def test_probe_shows_the_h265_main_and_says_what_it_means(onvif_device):  # noqa: F811
    device = onvif_device(password=PLANTED, main_encoding="H265")
    text = run(*probe_args(device))
    assert text.exit_code == 0, text.output
    lines = text.stdout.splitlines()
    assert any(line.split()[:6] == ["main", "mainStream", "1920x1080", "H265", "25", "main"] for line in lines)
    assert any(line.split()[:6] == ["sub", "subStream", "640x360", "H264", "10", "sub"] for line in lines)
    assert f"Note: {onvif.H265_MAIN_NOTE}" in lines
    data = json.loads(run(*probe_args(device, PLANTED, "--json")).stdout)
    assert [p["encoding"] for p in data["profiles"]] == ["H265", "H264"]
    assert data["streams"] == {"main": "main", "sub": "sub"} and data["notes"] == [onvif.H265_MAIN_NOTE]


def test_probe_of_an_h264_camera_has_no_note(onvif_device):  # noqa: F811
    device = onvif_device(password=PLANTED)
    assert "Note:" not in run(*probe_args(device)).stdout
    assert json.loads(run(*probe_args(device, PLANTED, "--json")).stdout)["notes"] == []


def setup_page(admin, device) -> str:  # noqa: ANN001, F811
    probed = post(admin, "/cameras/probe", {"address": device.hostport, "username": "admin", "password": SECRET})
    assert probed.status_code == 200
    return probed.get_data(as_text=True)


def test_add_camera_page_shows_codecs_and_the_h265_note(admin, onvif_device):  # noqa: F811
    html = setup_page(admin, onvif_device(user="admin", password=SECRET, main_encoding="H265"))
    cells = re.findall(r"<tr><td>(\w+)</td><td>[^<]+</td><td>(H26[45])</td>", html)
    assert cells == [("mainStream", "H265"), ("subStream", "H264")]
    assert checked(html, "main_profile") == "main" and checked(html, "sub_profile") == "sub"
    note = re.search(r"<p class=\"hint\" id=\"h265-note\">([^<]+)</p>", html)
    assert note and "H.265" in note.group(1) and "H.264" in note.group(1)  # (the page is in Vietnamese)


def test_add_camera_page_of_an_h264_camera_has_no_note(admin, onvif_device):  # noqa: F811
    html = setup_page(admin, onvif_device(user="admin", password=SECRET))
    assert 'id="h265-note"' not in html
