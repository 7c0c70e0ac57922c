"""A site for the security and fuzz tests: a camera password planted through ${ENV}, an event with a clip,
events whose stored paths try to leave the recordings folder, and one account per role."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from monitor.site.config import Config, load_config
from monitor.db.store import Writer, open_db
from webtest import add_accounts

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = date(2026, 11, 24)
NOW = datetime.combine(DAY, time(16, 0), tzinfo=TZ).timestamp()
SECRET_ENV = "ONESTOP_TEST_CAM_PASSWORD"
SECRET = "Pl4nted-s3cret-Qx7"  # must never appear in a page, an API answer, a log line or CLI output
OUTSIDE = "OUTSIDE-THE-RECORDINGS-7f3a"  # content of a file next to (not inside) the recordings folder
TRI = "[[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]"

# endpoint -> (method, sample path, expected status for anonymous, viewer, supervisor, admin).
# Every rule of app.url_map must be here (test_every_route_is_in_the_table): a new route states who may use it.
# Anonymous: 302 to the login page for pages and forms, 401 JSON for the API.
ROUTE_TABLE = {
    "static": ("GET", "/static/style.css", (200, 200, 200, 200)),
    "auth.login": ("GET", "/login", (200, 302, 302, 302)),
    "auth.logout": ("POST", "/logout", (302, 302, 302, 302)),
    "auth.language": ("POST", "/language", (302, 302, 302, 302)),
    "overview.index": ("GET", "/", (302, 302, 200, 200)),  # a viewer is sent on to /reports
    "overview.counters_fragment": ("GET", "/overview/counters", (302, 403, 200, 200)),
    "live.index": ("GET", "/live", (302, 200, 200, 200)),  # viewers see the privacy masks blurred
    "live.snapshot": ("GET", "/live/quay-1.jpg", (302, 200, 200, 200)),
    "live.mjpeg": ("GET", "/live/quay-1.mjpeg", (302, 200, 200, 200)),
    "timeline.index": ("GET", "/timeline?camera=quay-1&counter=cho&date=2026-11-24", (302, 403, 200, 200)),
    "recordings.index": ("GET", "/recordings?camera=quay-1&date=2026-11-24", (302, 403, 200, 200)),
    "recordings.segment": ("GET", "/recordings/segments/1.mp4", (302, 403, 404, 404)),  # no segments in this site
    "recordings.segment_rendition": ("GET", "/recordings/segments/1.h264.mp4", (302, 403, 404, 404)),
    "events.index": ("GET", "/events", (302, 403, 200, 200)),
    "events.event": ("GET", "/events/e1", (302, 403, 200, 200)),
    "events.review": ("POST", "/events/e1/review", (302, 403, 302, 302)),
    "events.clip": ("GET", "/events/e1/clip.mp4", (302, 403, 200, 200)),
    "events.clip_rendition": ("GET", "/events/e1/clip.h264.mp4", (302, 403, 404, 404)),  # e1 is no H.265 clip
    "events.thumbnail": ("GET", "/events/e1/thumbnail.jpg", (302, 403, 200, 200)),
    "api.events": ("GET", "/api/v1/events", (401, 403, 200, 200)),
    "api.event": ("GET", "/api/v1/events/e1", (401, 403, 200, 200)),
    "api.cameras": ("GET", "/api/v1/cameras", (401, 403, 200, 200)),
    "api.occupancy": ("GET", "/api/v1/occupancy?camera=quay-1", (401, 403, 200, 200)),
    "api.occupancy_current": ("GET", "/api/v1/occupancy/now?camera=quay-1", (401, 403, 200, 200)),
    "api.reports": ("GET", "/api/v1/reports?from=2026-11-24&to=2026-11-24", (401, 200, 200, 200)),
    "api.openapi": ("GET", "/api/v1/openapi.json", (401, 200, 200, 200)),
    "reports.index": ("GET", "/reports", (302, 200, 200, 200)),
    "reports.download": ("GET", "/reports/download?from=2026-11-24&to=2026-11-24&format=csv", (302, 200, 200, 200)),
    "audit.index": ("GET", "/audit", (302, 403, 403, 200)),
    "audit.export": ("GET", "/audit/export.csv", (302, 403, 403, 200)),
    "cameras.index": ("GET", "/cameras", (302, 403, 403, 200)),
    "cameras.new": ("GET", "/cameras/new", (302, 403, 403, 200)),
    # a real WS-Discovery probe: 400 (one line) where the machine has no multicast route
    "cameras.discover": ("POST", "/cameras/discover", (302, 403, 403, (200, 400))),
    "cameras.probe": ("POST", "/cameras/probe", (302, 403, 403, 400)),  # the table's form has no address
    "cameras.manual": ("POST", "/cameras/manual", (302, 403, 403, 400)),  # nor stream URLs
    "cameras.setup": ("POST", "/cameras/setup/no-such-draft", (302, 403, 403, 404)),
    "cameras.test_frame": ("GET", "/cameras/test/no-such-draft/main.jpg", (302, 403, 403, 404)),
    "cameras.edit": ("GET", "/cameras/quay-1/edit", (302, 403, 403, 200)),
    "cameras.set_enabled": ("POST", "/cameras/quay-2/enabled", (302, 403, 403, 302)),
    "cameras.delete": ("GET", "/cameras/quay-1/delete", (302, 403, 403, 200)),
    "zones.editor": ("GET", "/cameras/quay-1/zones", (302, 403, 403, 200)),
    "zones.save_zones": ("POST", "/cameras/quay-1/zones", (302, 403, 403, 400)),  # a form, not the editor's JSON
    "health.index": ("GET", "/health", (302, 403, 200, 200)),
    "health.table": ("GET", "/health/cameras", (302, 403, 200, 200)),
    "health.correct_heights": ("POST", "/health/cameras/quay-1/heights", (302, 403, 403, 400)),  # no height check here
    # no login for scrapers: loopback only when no metrics.token is set (these clients come from 10.0.0.7)
    "health.metrics": ("GET", "/metrics", (403, 403, 403, 403)),
    "office.index": ("GET", "/site/counters", (302, 403, 403, 200)),
    "office.counter_new": ("GET", "/site/counters/new", (302, 403, 403, 200)),
    "office.counter_edit": ("POST", "/site/counters/quay-1/edit", (302, 403, 403, 400)),  # the form has no name
    "office.counter_delete": ("GET", "/site/counters/quay-1/delete", (302, 403, 403, 200)),
    "office.queue_new": ("POST", "/site/queues/new", (302, 403, 403, 400)),  # nor waiting areas
    "office.queue_edit": ("GET", "/site/queues/no-such-queue/edit", (302, 403, 403, 404)),
    "office.queue_delete": ("POST", "/site/queues/no-such-queue/delete", (302, 403, 403, 404)),
    "zones.snapshot": ("GET", "/cameras/quay-2/snapshot.jpg", (302, 403, 403, 404)),  # b.mp4 is no video: no picture
    "alerts.index": ("GET", "/alerts", (302, 403, 200, 200)),
    "alerts.acknowledge": ("POST", "/alerts/1/ack", (302, 403, 400, 400)),  # the table's form has no comment
    "compliance.index": ("GET", "/compliance?date=2026-11-24", (302, 403, 200, 200)),
    "compliance.week": ("GET", "/compliance/week?date=2026-11-24", (302, 403, 200, 200)),
    "cases.index": ("GET", "/cases", (302, 403, 200, 200)),
    "cases.create": ("POST", "/cases", (302, 403, 400, 400)),  # the table's form has no time range
    "cases.case": ("GET", "/cases/1", (302, 403, 404, 404)),  # this site has no cases
    "cases.add_note": ("POST", "/cases/1/notes", (302, 403, 404, 404)),
    "cases.close": ("POST", "/cases/1/close", (302, 403, 403, 404)),  # admins close cases ...
    "cases.release": ("POST", "/cases/1/release", (302, 403, 403, 404)),  # ... and release holds
    "cases.export": ("GET", "/cases/1/export.zip", (302, 403, 404, 404)),
    "notice.notice": ("GET", "/notice", (302, 200, 200, 200)),
    # machines only: the feed's bearer token, never a web session (a logged-in admin without it gets 401)
    "tickets.receive": ("POST", "/api/v1/tickets", (401, 401, 401, 401)),
}

# endpoint -> why it needs no CSRF token. CSRF rides on the browser's cookies; these routes ignore the
# session and authenticate each request by a secret the browser does not hold.
CSRF_EXEMPT = {
    "tickets.receive": "authenticated by the ticket feed's bearer token only; the session cookie grants nothing",
}


@contextmanager
def secret_env() -> Iterator[None]:
    """The planted password in the environment, as an installer would export it."""
    old = os.environ.get(SECRET_ENV)
    os.environ[SECRET_ENV] = SECRET
    try:
        yield
    finally:
        if old is None:
            del os.environ[SECRET_ENV]
        else:
            os.environ[SECRET_ENV] = old


def write_config(folder: Path, language: str = "vi", rtsp_port: int = 9) -> Path:
    """cameras.yaml of the test site; quay-1 is an RTSP camera whose password comes from ${SECRET_ENV}."""
    path = folder / "cameras.yaml"
    path.write_text(textwrap.dedent(f"""\
        site: {{name: "Một cửa an ninh", language: {language}}}
        storage: {{recordings: rec, database: t.db}}
        cameras:
          - id: quay-1
            name: "Quầy 1"
            streams: {{main: "rtsp://127.0.0.1:{rtsp_port}/main"}}
            username: admin
            password: "${{{SECRET_ENV}}}"
            zones:
              - {{id: ghe, kind: staff_seat, points: {TRI}}}
              - {{id: cho, kind: service_spot, points: {TRI}}}
          - {{id: quay-2, name: "Quầy 2", streams: {{main: b.mp4}}}}
        """), encoding="utf-8")
    return path


def _clip_messages(eid: str, path: str, thumb: str, start: float) -> list[dict]:
    return [{"type": "event_start", "camera": "quay-1", "id": eid, "start": start, "clip": True, "t": 0},
            {"type": "event_end", "camera": "quay-1", "id": eid, "end": start + 12, "t": 0},
            {"type": "clip", "camera": "quay-1", "id": eid, "path": path, "duration": 12.0, "t": 0},
            {"type": "thumbnail", "camera": "quay-1", "id": eid, "path": thumb, "t": 0}]


def build_site(folder: Path, status_error: str | None = None) -> Config:
    """Config, database, clip files and accounts; status_error: quay-1's last error as its worker reported it."""
    (folder / "outside.txt").write_text(OUTSIDE)
    config = load_config(write_config(folder))
    db = open_db(config.storage.database)
    w = Writer(db)
    w.register_cameras([("quay-1", "Quầy 1", True), ("quay-2", "Quầy 2", True)])
    w.apply([{"type": "status", "camera": "quay-1", "state": "reconnecting", "error": status_error, "t": NOW},
             {"type": "status", "camera": "quay-2", "state": "online", "t": NOW}])
    rec = folder / "rec" / "quay-1"
    rec.mkdir(parents=True)
    (rec / "e1.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
    (rec / "e1.jpg").write_bytes(b"\xff\xd8\xff\xe0thumb")
    (rec / "live.jpg").write_bytes(b"\xff\xd8\xff\xe0live")
    (rec / "link.mp4").symlink_to(folder / "outside.txt")  # a link inside the folder to a file outside it
    start = NOW - 3600
    w.apply(_clip_messages("e1", "quay-1/e1.mp4", "quay-1/e1.jpg", start))
    # stored paths that try to leave the recordings folder must never be served
    for i, bad in enumerate(["../outside.txt", str(folder / "outside.txt"), "quay-1/link.mp4", "quay-1/../../outside.txt"]):
        w.apply(_clip_messages(f"evil-{i}", bad, bad, start - 100 * (i + 1)))
    add_accounts(db)
    db.conn.close()
    return config
