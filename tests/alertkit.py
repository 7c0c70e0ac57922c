"""Receivers for alert tests: a real HTTP server for the webhook, and a site whose camera has a counter."""

from __future__ import annotations

import json
import textwrap
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

from monitor.db.store import Writer, open_db
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


def feed(writer: Writer, t0: float, t1: float, seat: bool, queue: float) -> None:
    """Per-second occupancy of quay-1 from t0 to t1, and the camera online with a heartbeat at t1."""
    writer.apply([{"type": "occupancy", "camera": "quay-1", "t": t, "zones": {
        "ghe": {"occupied": seat, "count": float(seat)}, "cho": {"occupied": False, "count": 0.0},
        "hang": {"occupied": queue > 0, "count": queue}}} for t in range(int(t0), int(t1))])
    writer.apply([{"type": "status", "camera": "quay-1", "state": "online", "t": t1 - 1},
                  {"type": "heartbeat", "camera": "quay-1", "t": t1 - 1}])
