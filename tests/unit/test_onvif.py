"""ONVIF probe and WS-Discovery against the fake device in onvif_device.py (real HTTP and UDP on loopback)."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import urllib.request

import pytest
from click.testing import CliRunner

from support import free_port
from monitor.devices import onvif
from monitor.cli import main
from monitor.cli.onvif import parse_hostport
from onvif_device import WsDiscoveryResponder, onvif_device  # noqa: F401 - onvif_device is a fixture

PLANTED = "Pl4nted-S3cret!"  # a password that must never show up anywhere
PROFILE_KEYS = {"token", "name", "width", "height", "encoding", "fps", "rtsp_uri", "snapshot_uri"}


def run(*args: str, env: dict[str, str] | None = None):  # noqa: ANN201 - click Result
    """The CLI in-process, stdout and stderr kept apart."""
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def probe_args(device, password: str = PLANTED, *extra: str) -> list[str]:  # noqa: ANN001 - FakeOnvifDevice
    return ["probe", device.hostport, "--user", "admin", "--password", password, *extra]


def test_probe_json_reports_device_profiles_uris_and_clock(onvif_device):  # noqa: F811
    device = onvif_device(password=PLANTED, clock_offset_s=90, main_uri="rtsp://127.0.0.1:8554/live/main",
                          sub_uri="rtsp://127.0.0.1:8554/live/sub")
    result = run(*probe_args(device, PLANTED, "--json"))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["manufacturer"], data["model"], data["serial"], data["firmware"]) == (
        "OneStop Test", "FakeCam 2MP", "FC-000123", "1.4.2")
    assert [set(p) for p in data["profiles"]] == [PROFILE_KEYS, PROFILE_KEYS]
    main_p, sub_p = data["profiles"]
    assert (main_p["token"], main_p["width"], main_p["height"], main_p["encoding"]) == ("main", 1920, 1080, "H264")
    assert (sub_p["token"], sub_p["width"], sub_p["height"], sub_p["fps"]) == ("sub", 640, 360, 10.0)
    assert main_p["rtsp_uri"] == "rtsp://127.0.0.1:8554/live/main"
    assert sub_p["rtsp_uri"] == "rtsp://127.0.0.1:8554/live/sub"
    assert main_p["snapshot_uri"] == f"http://{device.hostport}/onvif/snapshot.jpg"
    assert abs(data["time_offset_s"] - 90) <= 2  # the camera reports whole seconds
    assert data["streams"] == {"main": "main", "sub": "sub"}
    for op in ("GetDeviceInformation", "GetProfiles", "GetStreamUri", "GetSnapshotUri", "GetSystemDateAndTime"):
        assert op in device.calls


def test_probe_human_output_is_a_table(onvif_device):  # noqa: F811
    device = onvif_device(password=PLANTED)
    result = run(*probe_args(device))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"Camera        {device.hostport}"
    assert "Model         FakeCam 2MP" in lines
    assert any(line.split()[:6] == ["main", "mainStream", "1920x1080", "H264", "25", "main"] for line in lines)
    assert any(line.split()[:6] == ["sub", "subStream", "640x360", "H264", "10", "sub"] for line in lines)
    assert "      rtsp      rtsp://127.0.0.1:8554/main" in lines


def test_wrong_password_is_one_line_exit_1_without_traceback(onvif_device):  # noqa: F811
    device = onvif_device(password="the-right-one")
    proc = subprocess.run([sys.executable, "-m", "monitor.cli", *probe_args(device, PLANTED)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [
        f"Error: {device.hostport}: the camera rejected the user name or password; check them on the camera's web page"
    ]
    assert "Traceback" not in proc.stderr and PLANTED not in proc.stderr


def test_probe_raises_auth_failed_with_cause_chained(onvif_device):  # noqa: F811
    device = onvif_device(user="admin", password="right")
    with pytest.raises(onvif.AuthFailed) as caught:
        onvif.probe(device.host, device.port, "admin", "wrong")
    assert caught.value.__cause__ is not None  # the library's own error stays chained for debugging


def test_older_camera_without_get_services_is_read_through_get_capabilities(onvif_device):  # noqa: F811
    device = onvif_device(password=PLANTED, get_services=False)
    probed = onvif.probe(device.host, device.port, "admin", PLANTED)
    assert [p.rtsp_uri for p in probed.profiles] == ["rtsp://127.0.0.1:8554/main", "rtsp://127.0.0.1:8554/sub"]
    assert device.calls[:3] == ["GetSystemDateAndTime", "GetServices", "GetCapabilities"]


def test_snapshot_uri_serves_a_jpeg(onvif_device):  # noqa: F811
    device = onvif_device(password=PLANTED)
    uri = onvif.probe(device.host, device.port, "admin", PLANTED).profiles[0].snapshot_uri
    with urllib.request.urlopen(uri, timeout=5) as reply:
        assert reply.read(3) == b"\xff\xd8\xff"  # JPEG start-of-image marker


def test_slow_device_against_short_timeout_says_so(onvif_device):  # noqa: F811
    device = onvif_device(password=PLANTED, delay_s=5)
    result = run(*probe_args(device, PLANTED, "--timeout", "0.5"))
    assert result.exit_code == 1
    assert result.stderr.strip() == (f"Error: {device.hostport}: no answer within 0.5 s; check the address, "
                                     "or allow a slow camera more time")


def test_missing_sub_profile_gives_no_sub_stream(onvif_device):  # noqa: F811
    device = onvif_device(password=PLANTED, sub_profile=False)
    probed = onvif.probe(device.host, device.port, "admin", PLANTED)
    assert [p.token for p in probed.profiles] == ["main"]
    main_p, sub_p = onvif.pick_streams(probed.profiles)
    assert (main_p.token, sub_p) == ("main", None)
    result = run(*probe_args(device, PLANTED, "--json"))
    assert json.loads(result.stdout)["streams"] == {"main": "main", "sub": None}


def test_closed_port_is_unavailable():
    port = free_port()
    result = run("probe", f"127.0.0.1:{port}", "--user", "admin", "--password", PLANTED, "--timeout", "5")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: 127.0.0.1:{port}: cannot connect (connection refused); check the address")
    with pytest.raises(onvif.CameraUnavailable):
        onvif.probe("127.0.0.1", port, "admin", PLANTED, timeout=5)


def test_plain_web_server_is_not_onvif(onvif_device):  # noqa: F811
    device = onvif_device(not_onvif=True)
    with pytest.raises(onvif.NotOnvif, match=f"^{device.hostport}: .*not ONVIF; check the port"):
        onvif.probe(device.host, device.port, "admin", PLANTED, timeout=5)
    result = run(*probe_args(device))
    assert result.exit_code == 1 and len(result.stderr.splitlines()) == 1


def test_discover_lists_the_device_through_the_unicast_responder(onvif_device):  # noqa: F811
    device = onvif_device()
    with WsDiscoveryResponder(device.device_url, hardware="DS-2CD1023", name="Quay 1") as responder:
        listed = json.loads(run("discover", "--to", responder.hostport, "--timeout", "1", "--json").stdout)
        table = run("discover", "--to", responder.hostport, "--timeout", "1").stdout.splitlines()
    assert len(listed) == 1
    assert listed[0]["address"] == "127.0.0.1"
    assert listed[0]["device_url"] == device.device_url
    assert (listed[0]["model"], listed[0]["name"]) == ("DS-2CD1023", "Quay 1")
    assert table[0].split() == ["ADDRESS", "MANUFACTURER", "MODEL", "NAME", "DEVICE", "SERVICE", "URL"]
    assert table[1].split() == ["127.0.0.1", "-", "DS-2CD1023", "Quay", "1", device.device_url]


def test_discover_with_nobody_answering_says_so():
    result = run("discover", "--to", f"127.0.0.1:{free_port()}", "--timeout", "0.3")
    assert result.exit_code == 0
    assert result.stdout.startswith("No ONVIF camera answered at 127.0.0.1:")


def test_planted_password_appears_nowhere(onvif_device, caplog):  # noqa: F811
    caplog.set_level(logging.DEBUG)
    good = onvif_device(password=PLANTED, embed_credentials=True)
    slow = onvif_device(password=PLANTED, delay_s=5)
    outputs = [
        run(*probe_args(good)), run(*probe_args(good, PLANTED, "--json")),
        run(*probe_args(onvif_device(password="other"))), run(*probe_args(slow, PLANTED, "--timeout", "0.3")),
        run("probe", f"127.0.0.1:{free_port()}", "--user", "admin", "--password", PLANTED),
    ]
    assert "rtsp://127.0.0.1:8554/main" in outputs[0].stdout  # the URI is there, its user:password@ is not
    for result in outputs:
        assert PLANTED not in result.stdout and PLANTED not in result.stderr
    assert caplog.records and PLANTED not in caplog.text


def test_password_env(onvif_device):  # noqa: F811
    device = onvif_device(password=PLANTED)
    args = ["probe", device.hostport, "--user", "admin", "--password-env", "CAM_PW", "--json"]
    ok = run(*args, env={"CAM_PW": PLANTED})
    assert ok.exit_code == 0 and json.loads(ok.stdout)["model"] == "FakeCam 2MP"
    missing = run(*args, env={"CAM_PW": None})
    assert missing.exit_code == 1
    assert missing.stderr.strip() == "Error: --password-env: environment variable CAM_PW is not set"


def _p(token: str, w: int, h: int, enc: str = "H264", uri: str | None = "auto") -> onvif.Profile:
    rtsp = f"rtsp://cam/{token}" if uri == "auto" else uri
    return onvif.Profile(token, token, w, h, enc, 25.0, rtsp, None)


@pytest.mark.parametrize(("profiles", "main_token", "sub_token"), [
    ([_p("a", 1920, 1080), _p("b", 640, 360)], "a", "b"),
    ([_p("s", 640, 360), _p("m", 2560, 1440), _p("x", 1280, 720)], "m", "s"),
    ([_p("m", 1920, 1080), _p("j", 320, 240, "JPEG")], "m", None),
    ([_p("h5", 2560, 1440, "H265"), _p("m", 1920, 1080), _p("s", 704, 576)], "m", "s"),
    ([_p("h5", 2560, 1440, "H265"), _p("h5s", 640, 360, "H265")], "h5", "h5s"),
    # the out-of-the-box Hikvision/Dahua/KBVision setting: H.265 main, small H.264 sub
    ([_p("h5", 1920, 1080, "H265"), _p("s", 640, 360)], "h5", "s"),
    ([_p("h5", 1920, 1080, "H265"), _p("s5", 640, 360, "H265"), _p("s4", 640, 360)], "h5", "s4"),
    ([_p("m", 1920, 1080), _p("n", 640, 360, uri=None)], "m", None),
])
def test_pick_streams(profiles, main_token, sub_token):
    main_p, sub_p = onvif.pick_streams(profiles)
    assert main_p.token == main_token
    assert (sub_p.token if sub_p else None) == sub_token


def test_pick_streams_without_any_rtsp_uri_raises():
    with pytest.raises(onvif.NotOnvif, match="no video profile with an RTSP stream"):
        onvif.pick_streams([_p("m", 1920, 1080, uri=None)])


@pytest.mark.parametrize(("uri", "clean"), [
    ("rtsp://admin:pw@10.0.0.5:554/Streaming/101", "rtsp://10.0.0.5:554/Streaming/101"),
    ("rtsp://admin@10.0.0.5/live", "rtsp://10.0.0.5/live"),
    ("rtsp://10.0.0.5/live", "rtsp://10.0.0.5/live"),
    ("http://10.0.0.5/snap.cgi?user=admin&pwd=pw", "http://10.0.0.5/snap.cgi?user=admin&pwd=***"),
    ("", None),
])
def test_strip_userinfo(uri, clean):
    assert onvif.strip_userinfo(uri) == clean


@pytest.mark.parametrize(("text", "expected"), [
    ("192.168.1.64", ("192.168.1.64", 80)),
    ("192.168.1.64:8000", ("192.168.1.64", 8000)),
    ("[fe80::1]:8899", ("fe80::1", 8899)),
    ("fe80::1", ("fe80::1", 80)),
    ("http://10.0.0.7:8080/onvif/device_service", ("10.0.0.7", 8080)),
])
def test_parse_hostport(text, expected):
    assert parse_hostport(text, 80, "HOST[:PORT]") == expected


@pytest.mark.parametrize("bad", ["", ":80", "cam:99999", "cam:abc"])
def test_parse_hostport_rejects(bad):
    result = run("probe", bad, "--user", "admin", "--password", "x")
    assert result.exit_code == 2
    assert "is not HOST or HOST:PORT" in result.stderr


def test_translate_http_401_and_web_pages():
    import zeep.exceptions

    denied = onvif.translate(zeep.exceptions.TransportError("401", status_code=401), "10.0.0.5", 80, 10)
    assert isinstance(denied, onvif.AuthFailed) and str(denied).startswith("10.0.0.5:80: the camera rejected")
    page = onvif.translate(zeep.exceptions.TransportError("Server returned response (404) with invalid XML",
                                                          status_code=404), "fe80::1", 8000, 10)
    assert isinstance(page, onvif.NotOnvif) and str(page).startswith("[fe80::1]:8000: answered, but not as an ONVIF")
    fault = onvif.translate(zeep.exceptions.Fault(f"bad value {PLANTED}", code="env:Receiver"), "cam", 80, 10,
                            password=PLANTED)
    assert type(fault) is onvif.OnvifError and PLANTED not in str(fault) and "\n" not in str(fault)


def test_onvif_device_as_async_context_manager(onvif_device):  # noqa: F811
    good = onvif_device(password=PLANTED)
    slow = onvif_device(password=PLANTED, delay_s=5)

    async def read(device, timeout: float) -> list[str]:  # noqa: ANN001 - FakeOnvifDevice
        async with onvif.OnvifDevice(device.host, device.port, "admin", PLANTED, timeout=timeout) as camera:
            return [p.token for p in await camera.profiles()]

    assert asyncio.run(read(good, 5)) == ["main", "sub"]
    with pytest.raises(onvif.CameraUnavailable, match="no answer within 0.4 s"):
        asyncio.run(read(slow, 0.4))
