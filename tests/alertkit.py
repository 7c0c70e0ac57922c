"""Receivers for alert tests, all real: an HTTP server for the webhook, a Mosquitto broker with a subscriber, an
SMTP server with STARTTLS and a login; and a site whose camera has one counter."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import textwrap
import threading
import time
import email.policy
from email import message_from_bytes
from email.message import Message
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

from monitor.db.store import Writer, open_db
from monitor.detect.walkers import WALKING_ZONE
from monitor.site.config import Config, load_config

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
OPEN = datetime(2026, 11, 24, 7, 30, tzinfo=TZ).timestamp()  # a Tuesday; default hours 07:30-11:30


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

    def wait_for(self, n: int, timeout: float = 10.0) -> list[dict]:
        """The bodies once at least n have come (or what came within timeout)."""
        deadline = time.monotonic() + timeout
        while len(self.bodies) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.bodies)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def counter_site(folder: Path, alerts_yaml: str) -> tuple[Config, Writer]:
    """cameras.yaml with camera quay-1 (seat ghe, spot cho, queue hang) and the given alerts section; DB ready."""
    (folder / "cameras.yaml").write_text(textwrap.dedent("""\
        site: {name: "Một cửa Đông Hà"}
        storage: {recordings: rec, database: t.db}
        cameras:
          - id: quay-1
            name: "Quầy 1"
            streams: {main: a.mp4}
            zones:
              - {id: ghe, kind: staff_seat, points: [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]}
              - {id: cho, kind: service_spot, points: [[0.1, 0.6], [0.5, 0.6], [0.5, 0.9]]}
              - {id: hang, kind: waiting_area, points: [[0.6, 0.1], [0.9, 0.1], [0.9, 0.9]]}
        """) + textwrap.indent(textwrap.dedent(alerts_yaml), ""), encoding="utf-8")
    config = load_config(folder / "cameras.yaml")
    writer = Writer(open_db(config.storage.database))
    writer.register_cameras([("quay-1", "Quầy 1", True)])
    return config, writer


def feed(writer: Writer, t0: float, t1: float, seat: bool, queue: float, walking: float = 0.0) -> None:
    """Per-second occupancy of quay-1 from t0 to t1 (and people walking), the camera online with a heartbeat at t1."""
    writer.apply([{"type": "occupancy", "camera": "quay-1", "t": t, "zones": {
        "ghe": {"occupied": seat, "count": float(seat)}, "cho": {"occupied": False, "count": 0.0},
        "hang": {"occupied": queue > 0, "count": queue},
        WALKING_ZONE: {"occupied": walking > 0, "count": walking}}} for t in range(int(t0), int(t1))])
    writer.apply([{"type": "status", "camera": "quay-1", "state": "online", "t": t1 - 1},
                  {"type": "heartbeat", "camera": "quay-1", "t": t1 - 1}])


# ---------------------------------------------------------------- a real Mosquitto broker

MOSQUITTO = "/usr/sbin/mosquitto"  # Debian's path; mosquitto_passwd is in /usr/bin
BROKER_READY_S = 10.0  # mosquitto listens within milliseconds; a slow shared CPU gets some slack


class Broker:
    """mosquitto on a free loopback port with a temporary config and one user (user, password)."""

    def __init__(self, folder: Path, user: str, password: str):
        from support import free_port

        self.port = free_port()
        passwd = folder / "mosquitto.passwd"
        subprocess.run(["mosquitto_passwd", "-b", "-c", str(passwd), user, password], check=True, capture_output=True)
        conf = folder / "mosquitto.conf"
        conf.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous false\npassword_file {passwd}\n"
                        "persistence false\nuser root\n", encoding="utf-8")  # user: no drop to 'mosquitto' as root
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + BROKER_READY_S
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"mosquitto did not start on port {self.port}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(5)
        if self.proc.stderr is not None:
            self.proc.stderr.close()


class Subscriber:
    """A paho client subscribed to a topic filter, keeping (topic, payload, retained) of every message."""

    def __init__(self, port: int, user: str, password: str, topic: str):
        import paho.mqtt.client as mqtt

        self.messages: list[tuple[str, dict, bool]] = []
        self.ready = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        self.client.username_pw_set(user, password)
        self.client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda *_: self.ready.set()
        self.client.on_message = lambda c, u, m: self.messages.append((m.topic, json.loads(m.payload), bool(m.retain)))
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self.ready.wait(10), "subscription not acknowledged"

    def wait_for(self, n: int, timeout: float = 10.0) -> list[tuple[str, dict, bool]]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.messages)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


# ---------------------------------------------------------------- a real SMTP server with STARTTLS


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made with openssl for this test."""
    cert, key = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


class MailServer:
    """aiosmtpd on a free port: STARTTLS required before AUTH, one login, every message kept."""

    def __init__(self, folder: Path, user: str, password: str):
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        from support import free_port

        self.cert, key = self_signed(folder)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, key)
        self.messages: list[Message] = []
        self.logins: list[tuple[str, bool]] = []  # (user, over TLS)
        outer = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
                outer.messages.append(message_from_bytes(envelope.content, policy=email.policy.default))
                return "250 OK"

        def authenticate(server, session, envelope, mechanism, data):
            ok = isinstance(data, LoginPassword) and data.login.decode() == user and data.password.decode() == password
            outer.logins.append((data.login.decode() if isinstance(data, LoginPassword) else "?",
                                 session.ssl is not None))
            return AuthResult(success=ok)

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, tls_context=context,
                                     require_starttls=True, authenticator=authenticate, auth_require_tls=True)
        self.controller.start()

    def wait_for(self, n: int, timeout: float = 10.0) -> list[Message]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.messages)

    def stop(self) -> None:
        self.controller.stop()
