"""Offline alerts: the decision table, the webhook through a real local HTTP server, and the supervisor-side
monitor reading a real SQLite file filled through the Writer."""

from __future__ import annotations

import json
import logging
import textwrap
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import free_port
from monitor.ops.alerts import Alert, AlertMonitor, Webhook, check_alerts, read_rows
from monitor.site.config import load_config
from monitor.ops.health import SILENT_AFTER_S, CameraHealth, health_state
from monitor.db.store import Writer, open_db

NOW = 1_790_000_000.0
LIMIT = 300.0
SECRET = "S3cr3t-pass"


def cam(state: str, down_for: float | None = None, cid: str = "c1") -> CameraHealth:
    since = None if down_for is None else NOW - down_for
    return CameraHealth(id=cid, name="Quầy 1", state=state, down_since=since, reconnects=0, error=None)


# (camera, already alerted {camera: outage start}) -> (alert kinds, alerted after)
CASES = {
    "online, never alerted": (cam("online"), {}, [], {}),
    "offline shorter than the limit": (cam("offline", 299), {}, [], {}),
    "offline for the limit: alert": (cam("offline", 300), {}, ["offline"], {"c1": NOW - 300}),
    "reconnecting too long counts too": (cam("reconnecting", 900), {}, ["offline"], {"c1": NOW - 900}),
    "already alerted: no repeat": (cam("offline", 900), {"c1": NOW - 900}, [], {"c1": NOW - 900}),
    "back online: recovery": (cam("online"), {"c1": NOW - 900}, ["recovered"], {}),
    "disabled meanwhile: forgotten quietly": (cam("disabled"), {"c1": NOW - 900}, [], {}),
    "down since unknown: no alert": (cam("offline", None), {}, [], {}),
}


@pytest.mark.parametrize("camera, alerted, kinds, after", CASES.values(), ids=CASES.keys())
def test_check_alerts(camera, alerted, kinds, after):
    alerts, still = check_alerts([camera], NOW, LIMIT, alerted)
    assert [a.kind for a in alerts] == kinds
    assert still == after
    for a in alerts:
        assert a.camera == "c1" and a.at == NOW


def test_recovery_reports_the_outage_start():
    (alert,), _ = check_alerts([cam("online")], NOW, LIMIT, {"c1": NOW - 1200})
    assert alert.payload("Site", None)["down_s"] == 1200


# (stored state, seconds since the last heartbeat, enabled) -> health state
STATES = [
    ("online", 1, True, "online"),
    ("connecting", 1, True, "reconnecting"),
    ("restarting", 1, True, "reconnecting"),
    ("offline", 1, True, "offline"),
    ("stopped", 1, True, "offline"),
    ("online", SILENT_AFTER_S + 1, True, "offline"),  # no worker reports: the supervisor is not running
    ("online", 1, False, "disabled"),
]


@pytest.mark.parametrize("stored, silent_s, enabled, expected", STATES)
def test_health_state(stored, silent_s, enabled, expected):
    row = {"state": stored, "last_seen": NOW - silent_s, "down_since": None}
    assert health_state(row, enabled, NOW)[0] == expected


# ---------------------------------------------------------------- webhook over real HTTP


class Receiver:
    """A real HTTP server on loopback that records the JSON bodies POSTed to it."""

    def __init__(self, status: int = 204):
        self.bodies: list[dict] = []
        self.headers: list[dict] = []
        self.got = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers["Content-Length"])
                outer.headers.append(dict(self.headers))
                outer.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(status)
                self.end_headers()
                outer.got.set()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook?token=abc123"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_webhook_posts_json(receiver):
    hook = Webhook(receiver.url)
    try:
        alert = Alert("offline", "c1", "Quầy 1", NOW - 600, NOW)
        hook.send(alert.payload("Một cửa", None))
        assert receiver.got.wait(10)
    finally:
        hook.close()
    (body,) = receiver.bodies
    assert body["event"] == "camera_offline" and body["camera"] == "c1" and body["name"] == "Quầy 1"
    assert body["site"] == "Một cửa" and body["down_s"] == 600
    assert receiver.headers[0]["Content-Type"].startswith("application/json")


def test_webhook_failure_is_logged_not_raised(caplog):
    hook = Webhook(f"http://127.0.0.1:{free_port()}/hook?token=abc123", timeout_s=2)
    try:
        with caplog.at_level(logging.WARNING, logger="monitor.ops.alerts"):
            assert hook.post({"event": "camera_offline", "camera": "c1"}) is False
    finally:
        hook.close()
    assert "not delivered" in caplog.text and "c1" in caplog.text
    assert "abc123" not in caplog.text  # the webhook's token is redacted in logs


# ---------------------------------------------------------------- the monitor on a real database


def _site(tmp_path, webhook: str) -> tuple:
    (tmp_path / "cameras.yaml").write_text(textwrap.dedent(f"""\
        site: {{name: "Một cửa"}}
        alerts: {{offline_after_s: 60, webhook_url: "{webhook}"}}
        cameras:
          - id: c1
            name: "Quầy 1"
            streams: {{main: "rtsp://10.0.0.9/stream"}}
            username: admin
            password: {SECRET}
          - {{id: c2, name: "Quầy 2", streams: {{main: b.mp4}}}}
        """), encoding="utf-8")
    config = load_config(tmp_path / "cameras.yaml")
    db = open_db(config.storage.database)
    writer = Writer(db)
    writer.register_cameras([("c1", "Quầy 1", True), ("c2", "Quầy 2", True)])
    return config, db, writer


def test_monitor_alerts_once_per_outage_and_on_recovery(tmp_path, receiver, caplog):
    config, db, writer = _site(tmp_path, receiver.url)
    clock = [NOW]
    monitor = AlertMonitor(config, clock=lambda: clock[0])
    rows = lambda: read_rows(config.storage.database)  # noqa: E731
    try:
        writer.apply([
            {"type": "status", "camera": "c1", "state": "online", "t": NOW - 100},
            {"type": "status", "camera": "c2", "state": "online", "t": NOW - 100},
            {"type": "status", "camera": "c1", "state": "reconnecting", "t": NOW - 30,
             "error": f"OSError: rtsp://admin:{SECRET}@10.0.0.9/stream refused"},
            {"type": "heartbeat", "camera": "c1", "t": NOW},
            {"type": "heartbeat", "camera": "c2", "t": NOW},
        ])
        with caplog.at_level(logging.INFO, logger="monitor.ops.alerts"):
            assert monitor.check(rows) == []  # down 30 s of 60
            clock[0] += 31
            writer.apply([{"type": "status", "camera": "c1", "state": "offline", "t": clock[0]},
                          {"type": "heartbeat", "camera": "c2", "t": clock[0]}])
            assert [a.kind for a in monitor.check(rows)] == ["offline"]
            clock[0] += 10
            writer.apply([{"type": "heartbeat", "camera": c, "t": clock[0]} for c in ("c1", "c2")])
            assert monitor.check(rows) == []  # still down: no second alert
            writer.apply([{"type": "status", "camera": "c1", "state": "online", "t": clock[0]}])
            clock[0] += 5
            assert [a.kind for a in monitor.check(rows)] == ["recovered"]
        assert receiver.got.wait(10)
        for _ in range(50):
            if len(receiver.bodies) == 2:
                break
            receiver.got.clear()
            receiver.got.wait(0.2)
    finally:
        monitor.close()
        db.conn.close()
    assert [b["event"] for b in receiver.bodies] == ["camera_offline", "camera_recovered"]
    assert receiver.bodies[0]["down_s"] == 61  # from when c1 left "online", not from when it was called offline
    lines = [r.getMessage() for r in caplog.records if r.name == "monitor.ops.alerts"]
    assert len(lines) == 2 and "ALERT camera offline" in lines[0] and "back online" in lines[1]
    everything = json.dumps(receiver.bodies) + caplog.text
    assert SECRET not in everything and "10.0.0.9" not in everything


def test_a_stopped_site_is_not_an_outage(tmp_path, receiver):
    """Workers stopped by a shutdown are not down: no alert right after the next start."""
    config, db, writer = _site(tmp_path, receiver.url)
    writer.apply([{"type": "status", "camera": "c1", "state": "online", "t": NOW - 90_000},
                  {"type": "status", "camera": "c1", "state": "stopped", "t": NOW - 86_400},
                  {"type": "status", "camera": "c1", "state": "connecting", "t": NOW - 2},
                  {"type": "heartbeat", "camera": "c1", "t": NOW}])
    (row,) = [r for r in read_rows(config.storage.database) if r["id"] == "c1"]
    assert row["down_since"] == NOW - 2
    db.conn.close()


def test_bad_webhook_url_is_one_line_naming_the_field(tmp_path):
    from monitor.site.config import ConfigError

    (tmp_path / "cameras.yaml").write_text(textwrap.dedent("""\
        site: {name: x}
        alerts:
          webhook_url: "ftp://hooks.example/x"
        cameras: []
        """), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "cameras.yaml")
    text = str(err.value)
    assert "cameras.yaml:3" in text and "alerts.webhook_url" in text and "http://" in text


def test_unset_webhook_variable_is_reported_at_load(tmp_path, monkeypatch):
    from monitor.site.config import ConfigError

    monkeypatch.delenv("ONESTOP_TEST_HOOK", raising=False)
    (tmp_path / "cameras.yaml").write_text(textwrap.dedent("""\
        site: {name: x}
        alerts:
          webhook_url: "https://hooks.example/${ONESTOP_TEST_HOOK}"
        metrics: {token: "${ONESTOP_TEST_HOOK}"}
        cameras: []
        """), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "cameras.yaml")
    text = str(err.value)
    assert "cameras.yaml:3: alerts.webhook_url: environment variable ONESTOP_TEST_HOOK is not set" in text
    assert "cameras.yaml:4: metrics.token" in text
