"""The events site of the web tests (test_web_events, test_api, test_event_pages): two cameras, 130 events
across midnight, a clip, a minute of occupancy and the three accounts; its `site` and `app` fixtures."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from monitor.db import store
from monitor.db.store import Writer, open_db
from monitor.site.config import load_config
from webtest import add_accounts
from webui import create_app

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = date(2026, 11, 24)
NOW = datetime.combine(DAY + timedelta(days=1), time(12, 0), tzinfo=TZ).timestamp()
TRI = "[[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]"
N_EVENTS = 130  # every 10 minutes from 07:00 on DAY: crosses midnight, more than two pages
ZONES_1 = [["ghe"], ["cho", "ghe"], [], ["hang"]]


@dataclass(frozen=True)
class Ev:
    id: str
    camera: str
    start: float
    end: float
    zones: tuple[str, ...]
    reviewed: bool

    @property
    def local(self) -> datetime:
        return datetime.fromtimestamp(self.start, TZ)


def _events() -> list[Ev]:
    t0 = datetime.combine(DAY, time(7, 0), tzinfo=TZ).timestamp()
    out = []
    for i in range(N_EVENTS):
        cam = "quay-1" if i % 2 else "quay-2"
        zones = ZONES_1[i // 2 % 4] if cam == "quay-1" else (["cua"] if i % 3 == 0 else [])
        start = t0 + i * 600 + 7.25  # not on a whole second
        out.append(Ev(f"ev-{i:03d}", cam, start, start + 5 + (i % 7) * 10, tuple(zones), i % 10 == 3))
    return out


EVENTS = _events()
NEWEST_FIRST = sorted(EVENTS, key=lambda e: e.start, reverse=True)


def build_site(folder: Path) -> None:
    """A site with two cameras, EVENTS (one with a clip), a minute of occupancy and the three accounts."""
    (folder / "cameras.yaml").write_text(textwrap.dedent(f"""\
        site: {{name: "Một cửa thử nghiệm"}}
        storage: {{recordings: rec, database: t.db}}
        cameras:
          - id: quay-1
            name: "Quầy 1"
            streams: {{main: a.mp4}}
            zones:
              - {{id: ghe, kind: staff_seat, points: {TRI}}}
              - {{id: cho, kind: service_spot, points: {TRI}}}
              - {{id: hang, kind: waiting_area, points: {TRI}}}
          - id: quay-2
            name: "Quầy 2"
            streams: {{main: b.mp4}}
            zones:
              - {{id: cua, kind: motion, points: {TRI}}}
        """), encoding="utf-8")
    config = load_config(folder / "cameras.yaml")
    db = open_db(config.storage.database)
    w = Writer(db, clock=lambda: NOW)
    w.register_cameras([("quay-1", "Quầy 1", True), ("quay-2", "Quầy 2", True)])
    w.apply([{"type": "status", "camera": "quay-1", "state": "online", "t": 1.0}])
    for e in EVENTS:
        end = {"type": "event_end", "camera": e.camera, "id": e.id, "end": e.end, "t": e.end}
        if e.zones:
            end["zones"] = list(e.zones)
        w.apply([{"type": "event_start", "camera": e.camera, "id": e.id, "start": e.start, "clip": True, "t": e.start},
                 end])
        if e.reviewed:
            store.review_event(db, e.id, user="quan-tri", at=NOW - 60, note=f"ghi chú {e.id}")
    clip = folder / "rec" / "quay-1" / "2026-11-24" / "ev-001.mp4"
    clip.parent.mkdir(parents=True)
    clip.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
    clip.with_suffix(".jpg").write_bytes(b"\xff\xd8\xff\xe0fakejpeg")
    w.apply([{"type": "clip", "camera": "quay-1", "id": "ev-001", "path": "quay-1/2026-11-24/ev-001.mp4",
              "duration": 20.0, "t": 0},
             {"type": "thumbnail", "camera": "quay-1", "id": "ev-001", "path": "quay-1/2026-11-24/ev-001.jpg", "t": 0}])
    eight = int(datetime.combine(DAY, time(8, 0), tzinfo=TZ).timestamp())
    w.apply([{"type": "occupancy", "camera": "quay-1", "t": eight + s,
              "zones": {"ghe": {"occupied": True, "count": 1.0}, "hang": {"occupied": s >= 30, "count": s // 30 * 2.0}}}
             for s in range(90)])
    add_accounts(db)
    db.conn.close()


@pytest.fixture
def site(make_site):
    return load_config(make_site(build_site) / "cameras.yaml")


@pytest.fixture
def app(site):
    return create_app(site, {"TESTING": True, "CLOCK": lambda: NOW, "SECRET_KEY": "test"})
