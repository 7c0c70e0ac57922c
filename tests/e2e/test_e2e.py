"""End to end: `onestop run` against a real GStreamer RTSP server, real processes, a real SQLite file.

The test videos have motion at 12-16 s and 36-40 s and a keyframe every second. Each RTSP client gets
its own pipeline from the start of the file, so the stream timeline restarts at every (re)connection.
"""

from __future__ import annotations

import os
import signal
import textwrap
import time

import pytest

from support import free_ports, require_ffprobe
from harness import SECRET, Onestop, ffprobe  # SECRET: planted camera password, never in logs or pages

pytestmark = [pytest.mark.slow, pytest.mark.rtsp]

PRE_ROLL, POST_ROLL = 5, 4
WEB_USER, WEB_PASSWORD = "e2e-giam-sat", "Pw-web-e2e-4m9x"


@pytest.fixture
def site(tmp_path, rtsp_server):
    require_ffprobe()
    server = rtsp_server()
    closed_port, web_port = free_ports(2)  # the camera's port stays closed: never the web UI's
    config = textwrap.dedent(f"""\
        site: {{name: "Bộ phận một cửa - e2e"}}
        storage: {{recordings: recordings, database: onestop.db}}
        defaults:
          pre_roll_s: {PRE_ROLL}
          post_roll_s: {POST_ROLL}
          events: {{min_length_s: 1, merge_gap_s: 2}}
        cameras:
          - id: cam-a
            name: "Quầy A"
            streams: {{main: "{server.url('/main')}", sub: "{server.url('/sub')}"}}
            username: admin
            password: ${{E2E_PASSWORD}}
          - id: cam-b
            name: "Quầy B (main only)"
            streams: {{main: "{server.url('/sub')}"}}
          - id: cam-dead
            name: "Unreachable"
            streams: {{main: "rtsp://127.0.0.1:{closed_port}/nothing"}}
            password: ${{E2E_PASSWORD}}
        """)
    app = Onestop(tmp_path, config, web_port)
    app.start()
    yield app, server
    if app.proc is not None and app.proc.poll() is None:
        os.killpg(app.proc.pid, signal.SIGKILL)
        app.proc.wait()


def complete_events(app: Onestop, cam: str, after: float = 0) -> list[dict]:
    """Events that have ended and whose clip is written (a clip cut short by a lost stream comes before its end)."""
    return app.rows("select * from events where camera = ? and clip_state = 'complete' and \"end\" is not null "
                    "and start > ? order by start", (cam, after))


def test_run_records_events_survives_faults_and_stops_cleanly(site):
    app, server = site

    # 1. motion at 12-16 s -> an event row and a stream-copied H.264 clip including the pre-roll
    first = app.wait("a complete clip from cam-a", lambda: complete_events(app, "cam-a"), 60)[0]
    assert 3 <= first["end"] - first["start"] <= 5.5, (first, app.tail())
    clip = app.folder / "recordings" / first["clip_path"]
    assert clip.is_file() and clip.parent.parent.name == "cam-a"
    codec, duration = ffprobe(clip)
    expected = (16 + POST_ROLL) - (12 - PRE_ROLL)  # motion end + post-roll - (motion start - pre-roll)
    assert codec == "h264"
    assert abs(duration - expected) <= 1.0, (duration, expected, app.tail())
    print(f"\ne2e: first event {first['end'] - first['start']:.1f} s long, clip {duration:.2f} s "
          f"(expected {expected} s incl. {PRE_ROLL} s pre-roll and {POST_ROLL} s post-roll), codec {codec}")
    assert (app.folder / "recordings" / first["thumb_path"]).read_bytes()[:2] == b"\xff\xd8"
    assert app.wait("cam-b's event", lambda: complete_events(app, "cam-b"), 20)

    # the web page lists it, the clip is served with range support
    app.add_user(WEB_USER, "supervisor", WEB_PASSWORD)
    app.login(WEB_USER, WEB_PASSWORD)
    status, html, _ = app.http("/events")
    assert status == 200 and first["id"].encode() in html
    status, body, headers = app.http(f"/events/{first['id']}/clip.mp4", {"Range": "bytes=0-99"})
    assert status == 206 and len(body) == 100 and headers["Content-Type"] == "video/mp4"

    # 2. the unreachable camera is reported offline while the others work
    app.wait("cam-dead offline", lambda: app.camera("cam-dead").get("state") == "offline", 30)
    assert app.camera("cam-a")["state"] == "online"

    # 3. a worker killed with SIGKILL is restarted; the others are unaffected
    pid_a, pid_b = app.camera("cam-a")["pid"], app.camera("cam-b")["pid"]
    os.kill(pid_b, signal.SIGKILL)
    killed = time.monotonic()
    app.wait("cam-b restarted", lambda: app.camera("cam-b").get("pid") not in (None, pid_b), 15)
    restart_s = time.monotonic() - killed
    assert restart_s < 10, restart_s
    print(f"e2e: SIGKILLed worker back (new pid in the database) after {restart_s:.1f} s")
    app.wait("cam-b online again", lambda: app.camera("cam-b").get("state") == "online", 15)
    assert app.camera("cam-a")["pid"] == pid_a and app.camera("cam-a")["state"] == "online"

    # 4. the RTSP server stops and comes back: the worker reconnects and events resume
    server.stop()
    app.wait("cam-a notices the outage", lambda: app.camera("cam-a").get("state") in ("reconnecting", "offline"), 20)
    time.sleep(2)
    server.start()
    back = time.time()
    app.wait("cam-a online again", lambda: app.camera("cam-a").get("state") == "online", 40)
    assert app.camera("cam-a")["reconnects"] >= 1
    app.wait("an event after the reconnection", lambda: complete_events(app, "cam-a", after=back), 60)
    print(f"e2e: RTSP server restarted; cam-a online again with {app.camera('cam-a')['reconnects']} "
          f"reconnect(s); next event {time.time() - back:.0f} s after the restart")

    # 5. SIGTERM: clean exit, no half-written clips, every listed clip exists
    assert app.stop() == 0
    assert not list((app.folder / "recordings").rglob("*.part"))
    for ev in app.rows("select * from events where clip_state = 'complete'"):
        assert (app.folder / "recordings" / ev["clip_path"]).is_file()
    assert app.rows("select count(*) as n from events where clip_state = 'recording'")[0]["n"] == 0

    # the planted password never reached a log line, the page or the API
    assert SECRET not in app.log.read_text(errors="replace")
    assert SECRET.encode() not in html
