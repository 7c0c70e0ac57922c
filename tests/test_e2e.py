"""End to end: `onestop run` against a real GStreamer RTSP server, real processes, a real SQLite file.

The test videos have motion at 12-16 s and 36-40 s and a keyframe every second. Each RTSP client gets
its own pipeline from the start of the file, so the stream timeline restarts at every (re)connection.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import http.cookiejar
import re
import textwrap
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from conftest import free_port, require_ffprobe

pytestmark = [pytest.mark.slow, pytest.mark.rtsp]

PRE_ROLL, POST_ROLL = 5, 4
SECRET = "Pw-e2e-7f3kq"  # planted camera password: must never appear in logs or pages
WEB_USER, WEB_PASSWORD = "e2e-giam-sat", "Pw-web-e2e-4m9x"


class Onestop:
    """`onestop run` as a subprocess, with helpers that read its database like the web app does."""

    def __init__(self, folder: Path, config: str, port: int):
        self.folder = folder
        self.cfg = folder / "cameras.yaml"
        self.cfg.write_text(config, encoding="utf-8")
        self.port = port
        self.log = folder / "onestop.log"
        self.proc: subprocess.Popen | None = None
        # keeps the session cookie between requests, like a browser
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def start(self) -> None:
        env = {**os.environ, "E2E_PASSWORD": SECRET}
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "monitor.cli", "run", "-c", str(self.cfg), "--port", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
            )

    def stop(self, timeout: float = 30) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            raise

    def rows(self, sql: str, params: tuple = ()) -> list[dict]:
        db = self.folder / "onestop.db"
        if not db.exists():
            return []
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
        conn.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in conn.execute(sql, params)]
        except sqlite3.OperationalError:
            return []  # schema not created yet
        finally:
            conn.close()

    def camera(self, cam: str) -> dict:
        rows = self.rows("select * from cameras where id = ?", (cam,))
        return rows[0] if rows else {}

    def wait(self, what: str, cond, timeout: float):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None and self.proc.poll() is None, f"onestop exited:\n{self.tail()}"
            value = cond()
            if value:
                return value
            time.sleep(0.25)
        pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{self.tail()}")

    def tail(self, n: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])

    def http(self, path: str, headers: dict | None = None, data: bytes | None = None) -> tuple[int, bytes, dict]:
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", headers=headers or {}, data=data)
        with self.opener.open(req, timeout=10) as r:
            return r.status, r.read(), dict(r.headers)

    def add_user(self, name: str, role: str, password: str) -> None:
        """`onestop users add` against the running system's database."""
        r = subprocess.run([sys.executable, "-m", "monitor.cli", "users", "add", name, "--role", role,
                            "--password-stdin", "-c", str(self.cfg)], input=password, text=True,
                           capture_output=True, timeout=60, env={**os.environ, "E2E_PASSWORD": SECRET})
        assert r.returncode == 0, r.stderr

    def login(self, name: str, password: str) -> None:
        """Log in through the form, with the CSRF token it carries; the opener keeps the session."""
        with pytest.raises(urllib.error.HTTPError) as anonymous:
            self.http("/api/v1/events")
        anonymous.value.close()  # an HTTPError holds the response's socket
        assert anonymous.value.code == 401
        _, form, _ = self.http("/login")
        token = re.search(rb'name="csrf_token" value="([^"]+)"', form).group(1).decode()
        body = urllib.parse.urlencode({"csrf_token": token, "username": name, "password": password}).encode()
        status, page, _ = self.http("/login", data=body)  # redirected to the overview
        assert status == 200 and b'data-camera="cam-a"' in page, page[:500]


def ffprobe(path: Path) -> tuple[str, float]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=codec_name",
         "-show_entries", "format=duration", "-of", "json", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout
    data = json.loads(out)
    return data["streams"][0]["codec_name"], float(data["format"]["duration"])


@pytest.fixture
def site(tmp_path, rtsp_server):
    require_ffprobe()
    server = rtsp_server()
    closed_port = free_port()
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
    app = Onestop(tmp_path, config, free_port())
    app.start()
    yield app, server
    if app.proc is not None and app.proc.poll() is None:
        os.killpg(app.proc.pid, signal.SIGKILL)
        app.proc.wait()


def complete_events(app: Onestop, cam: str, after: float = 0) -> list[dict]:
    return app.rows("select * from events where camera = ? and clip_state = 'complete' and start > ? "
                    "order by start", (cam, after))


def test_run_records_events_survives_faults_and_stops_cleanly(site):
    app, server = site

    # 1. motion at 12-16 s -> an event row and a stream-copied H.264 clip including the pre-roll
    first = app.wait("a complete clip from cam-a", lambda: complete_events(app, "cam-a"), 60)[0]
    assert 3 <= first["end"] - first["start"] <= 5.5, first
    clip = app.folder / "recordings" / first["clip_path"]
    assert clip.is_file() and clip.parent.parent.name == "cam-a"
    codec, duration = ffprobe(clip)
    expected = (16 + POST_ROLL) - (12 - PRE_ROLL)  # motion end + post-roll - (motion start - pre-roll)
    assert codec == "h264"
    assert abs(duration - expected) <= 1.0, (duration, expected)
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
