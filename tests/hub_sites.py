"""Simulated sites for the hub tests: a site database with an outbox, a Publisher, and a day's messages
made by the real builders (monitor/ops/hubmessages.py) from seeded numbers, released step by step."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from monitor.db.outbox import OutMessage, enqueue, pending_count
from monitor.db.store import open_db
from monitor.db.alerts import AlertRecord
from monitor.ops.delivery import AlertEvent
from monitor.ops.health import CameraHealth
from monitor.ops.hubmessages import (CounterDay, CounterRef, alert_message, health_message, info_message,
                                     report_messages, rollup_messages, site_counters)
from monitor.ops.publish import Publisher
from monitor.site.config import Config
from monitor.site.hublink import HubLink

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = date(2026, 12, 1)
OPEN = datetime(2026, 12, 1, 7, 30, tzinfo=TZ).timestamp()
MINUTES = 540  # 07:30 to 16:30
HEALTH_EVERY_MIN = 5



def offline_event(kind: str, camera: str, name: str, since: float, at: float) -> AlertEvent:
    """A camera_offline alert raised (kind "raised") or ended ("closed") at `at`, its outage begun at `since`."""
    record = AlertRecord(0, "camera_offline", camera, camera, since, at if kind == "raised" else since + 1,
                         at if kind == "closed" else None, at - since, at - since)
    return AlertEvent(kind, record, name)

FIELDS = ("tu-phap", "dia-chinh", "lao-dong")  # justice, land, labour: fields (lĩnh vực) of a commune office
FIELD_NAMES = {"tu-phap": "Tư pháp", "dia-chinh": "Địa chính", "lao-dong": "Lao động"}
FIELD_NAMES_EN = {"tu-phap": "Justice", "dia-chinh": "Land", "lao-dong": "Labour"}


def site_config(site: str, cameras: int = 1, names: dict[str, tuple[str, str]] | None = None) -> Config:
    """A cameras.yaml of one office: a camera per counter, the counters named and in fields with display names
    (FIELD_NAMES unless `names` says otherwise), one shared queue."""
    zone = lambda zid, kind: {"id": zid, "kind": kind, "points": [[0, 0], [1, 0], [1, 1]]}  # noqa: E731
    ids = range(1, cameras + 1)
    return Config.model_validate({
        "site": {"name": f"UBND {site}", "timezone": "Asia/Ho_Chi_Minh"},
        "cameras": [{"id": f"cam{i}", "name": f"Quầy {i}", "streams": {"main": f"rtsp://10.0.0.{i}/main"},
                     "zones": [zone("spot", "service_spot"), zone("seat", "staff_seat")]
                     + ([zone("queue", "waiting_area")] if i == 1 else [])} for i in ids],
        "counters": [{"id": f"quay-{i}", "name": counter_name(i), "field": FIELDS[(i - 1) % len(FIELDS)],
                      "staff_seat": {"camera": f"cam{i}", "zone": "seat"},
                      "service_spot": {"camera": f"cam{i}", "zone": "spot"}} for i in ids],
        "fields": [{"id": f, "name": vi, "name_en": en}
                   for f, (vi, en) in ({f: (FIELD_NAMES[f], FIELD_NAMES_EN[f]) for f in FIELDS} | (names or {})).items()],
        "queues": [{"id": "sanh", "name": "Sảnh chờ", "waiting_areas": [{"camera": "cam1", "zone": "queue"}],
                    "feeds": [f"quay-{i}" for i in ids]}],
    })


def counter_name(i: int) -> str:
    """Counter i's name, as a commune writes it."""
    return f"Quầy {i} – {FIELD_NAMES[FIELDS[(i - 1) % len(FIELDS)]]}"


def day_messages(site: str, seed: int, counters: int = 1) -> list[tuple[float, OutMessage]]:
    """(site time, message) for one day of an office (`counters` counters): info, roll-ups, health, running and
    final rows, a camera outage alert opened and closed."""
    rng = random.Random(seed)
    config = site_config(site, counters)
    refs = site_counters(config)
    out: list[tuple[float, OutMessage]] = [(OPEN, info_message(config, site, f"http://{site}.local:8000", OPEN))]
    down_from = rng.randrange(60, MINUTES - 120)  # one camera outage of 30 min somewhere in the day
    waits: dict[str, list[float]] = {r.counter: [] for r in refs}
    for m in range(MINUTES):
        minute = OPEN + 60 * m
        queue = rng.randint(0, 6)
        for ref in refs:
            occ = rng.choice([0, 30, 60, 60])
            rows = {role: [{"minute": minute, "samples": 60, "occupied_s": occ, "count_sum": 60 * q, "count_max": q,
                            "count_mean": float(q)}] for role, q in (("spot", 1), ("seat", 1), ("queue", queue))}
            out += [(minute + 60, msg) for msg in rollup_messages(site, ref, rows)]
            if rng.random() < 0.2:
                waits[ref.counter].append(rng.uniform(30, 900))
        down = down_from <= m < down_from + 30
        if m % HEALTH_EVERY_MIN == 0:
            cam = CameraHealth("cam1", "Quầy 1", "offline" if down else "online",
                               OPEN + 60 * down_from if down else None, 0, None)
            out.append((minute, health_message(site, [cam], minute)))
        if m == down_from + 5:
            out.append((minute, alert_message(site, offline_event("raised", "cam1", "Quầy 1", OPEN + 60 * down_from, minute))))
        if m == down_from + 30:
            out.append((minute, alert_message(site, offline_event("closed", "cam1", "Quầy 1", OPEN + 60 * down_from, minute))))
        if m % 60 == 59 or m == MINUTES - 1:
            rows = [counter_day(ref, waits[ref.counter]) for ref in refs]
            out += [(minute + 60, msg) for msg in report_messages(site, rows, minute + 60, final=m == MINUTES - 1)]
    return out


def counter_day(ref: CounterRef, waits: list[float]) -> CounterDay:
    """A counter's row of DAY with these waits (service and absence fixed)."""
    return CounterDay(DAY, ref.counter, ref.name, ref.field, ref.queue, "camera", served=len(waits),
                      mean_service_s=240.0, p90_service_s=420.0, mean_wait_s=sum(waits) / len(waits) if waits else None,
                      max_wait_s=max(waits, default=None), absence_min=12.0, utilisation=0.7, mean_queue=2.5,
                      max_queue=6, waits=list(waits))


@dataclass
class SimSite:
    """One simulated site: its database, outbox, publisher, and the day's messages not yet released."""

    site: str
    folder: Path
    link: HubLink
    messages: list[tuple[float, OutMessage]] = field(default_factory=list)
    released: list[OutMessage] = field(default_factory=list)
    publisher: Publisher | None = None

    @property
    def database(self) -> Path:
        return self.folder / "onestop.db"

    def start(self) -> SimSite:
        self.folder.mkdir(parents=True, exist_ok=True)
        open_db(self.database).conn.close()
        self.publisher = Publisher(self.link, self.database).start()
        return self

    def release(self, until: float) -> int:
        """Put the messages of site time before `until` in the outbox (as the collector would); returns how many."""
        due = [m for t, m in self.messages if t < until]
        self.messages = [(t, m) for t, m in self.messages if t >= until]
        db = open_db(self.database)
        try:
            enqueue(db, due, until)
        finally:
            db.conn.close()
        self.released += due
        if self.publisher is not None:
            self.publisher.notify()
        return len(due)

    def pending(self) -> int:
        """Messages in the outbox not yet acknowledged by the broker."""
        db = open_db(self.database)
        try:
            return pending_count(db)
        finally:
            db.conn.close()

    def stop(self) -> None:
        if self.publisher is not None:
            self.publisher.stop()
