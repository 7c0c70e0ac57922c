"""What a site publishes to the district hub: topics, stable ids and versioned JSON payloads (docs/hub.md).

Pure builders: each takes data already read and returns OutMessages for the outbox. Roll-ups and
report rows are per counter of the site model (monitor/site/office.py): the named counters of the
`counters:` section, or the ones derived from the zones, each with its name and field.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import date
from typing import Any

from monitor.db.alerts import AlertRecord
from monitor.db.outbox import OutMessage
from monitor.ops.delivery import AlertEvent
from monitor.ops.health import CameraHealth
from monitor.site.config import Config
from monitor.site.office import office_of

# 2: roll-ups and report rows per named counter (topic .../<counter>, with name and field), alerts
# acknowledged; info lists the fields' display names (an optional key added within version 2: a hub that
# does not know it ignores it). The hub reads 1 as well (rows of camera counters, keyed by camera and zone).
SCHEMA_VERSION = 2
TOPIC_ROOT = "onestop"
KINDS = ("info", "rollup", "report", "alert", "health")

Zone = tuple[str, str]  # (camera, zone)


@dataclass(frozen=True)
class CounterRef:
    """One counter of the site model as published: its zones and the waiting areas of its queue."""

    counter: str
    name: str
    field: str | None
    seat: Zone
    spot: Zone
    queue: str | None
    areas: tuple[Zone, ...] = ()


def site_counters(config: Config) -> list[CounterRef]:
    """The counters whose minute roll-ups and report rows are published: the office's, named or derived."""
    office = office_of(config)
    areas = {q.id: q.areas for q in office.queues}
    return [CounterRef(c.id, c.name, c.field, c.seat, c.spot, c.queue, areas.get(c.queue or "", ()))
            for c in office.counters]


@dataclass(frozen=True)
class CounterDay:
    """One counter over one local day, as sent to the hub: the office report's figures plus the waits."""

    day: date
    counter: str
    name: str
    field: str | None
    queue: str | None
    source: str  # "camera" or "tickets", as in the office report
    served: int
    mean_service_s: float | None
    p90_service_s: float | None
    mean_wait_s: float | None
    max_wait_s: float | None
    absence_min: float | None
    utilisation: float | None
    mean_queue: float | None
    max_queue: float | None
    waits: list[float] = dc_field(default_factory=list, repr=False)  # per citizen: the hub's P90 and over-target


def envelope(site: str, kind: str, msg_id: str, at: float, data: Mapping[str, Any]) -> str:
    """The JSON text every payload shares: schema version, id, site, kind, time (unix s) and the data."""
    body = {"v": SCHEMA_VERSION, "id": msg_id, "site": site, "kind": kind, "at": round(at, 3), "data": data}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _message(site: str, kind: str, msg_id: str, subtopic: str, at: float, data: Mapping[str, Any]) -> OutMessage:
    return OutMessage(msg_id, f"{TOPIC_ROOT}/{site}/{subtopic}", envelope(site, kind, msg_id, at, data))


def info_message(config: Config, site: str, site_url: str | None, at: float) -> OutMessage:
    """The site's name, time zone, link, cameras, its named counters and queues (monitor/site/office.py) and
    its fields' display names. The id is the hash of that data and the time: the collector queues one only
    when the hash differs from the last one queued, and a change undone later (A, B, A) is still news to the hub."""
    office = office_of(config)
    data = {
        "name": config.site.name, "timezone": config.site.timezone, "site_url": site_url,
        "cameras": [{"id": c.id, "name": c.name, "enabled": c.enabled} for c in config.cameras],
        "counters": [{"id": c.id, "name": c.name, "field": c.field, "seat": "/".join(c.seat),
                      "spot": "/".join(c.spot), "queue": c.queue} for c in office.counters],
        "queues": [{"id": q.id, "name": q.name, "areas": ["/".join(a) for a in q.areas], "counters": list(q.counters)}
                   for q in office.queues],
        "fields": [{"id": f.id, "name": f.name, "name_en": f.name_en or f.name} for f in config.fields],
    }
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]
    return _message(site, "info", f"info/{digest}/{int(at)}", "info", at, data)


def info_digest(msg: OutMessage) -> str:
    """The hash of an info message's data (the middle of its id)."""
    return msg.id.split("/")[1]


def _zone_minute(row: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"samples": row["samples"], "occupied_s": row["occupied_s"],
            "count_mean": round(row["count_mean"], 3), "count_max": row["count_max"]}


def queue_minutes(areas: Sequence[Sequence[Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """A queue's minutes summed over its waiting areas, for the minutes every area has a roll-up.

    As in the office analysis, a minute one area missed is left out rather than summed short. The
    people counts add up; samples and occupied seconds are the smallest and largest of the areas'
    (someone waits in the queue at least as long as in its busiest area).
    """
    if not areas:
        return []
    per_area = [{int(r["minute"]): r for r in rows} for rows in areas]
    common = sorted(set(per_area[0]).intersection(*per_area[1:]))
    out = []
    for minute in common:
        rows = [a[minute] for a in per_area]
        out.append({"minute": minute, "samples": min(r["samples"] for r in rows),
                    "occupied_s": max(r["occupied_s"] for r in rows),
                    "count_mean": sum(r["count_mean"] for r in rows), "count_max": sum(r["count_max"] for r in rows)})
    return out


def rollup_messages(site: str, ref: CounterRef, minutes: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[OutMessage]:
    """One message per minute of a counter, from the minute roll-ups of its seat, spot and (summed) queue."""
    by_minute: dict[int, dict[str, Any]] = {}
    for role in ("spot", "seat", "queue"):
        for row in minutes.get(role, []):
            by_minute.setdefault(int(row["minute"]), {})[role] = row
    out = []
    for minute in sorted(by_minute):
        zones = by_minute[minute]
        data = {"counter": ref.counter, "name": ref.name, "field": ref.field, "minute": minute,
                **{role: _zone_minute(zones.get(role)) for role in ("spot", "seat", "queue")}}
        msg_id = f"rollup/{ref.counter}/{minute}"
        out.append(_message(site, "rollup", msg_id, f"rollup/{ref.counter}", minute + 60, data))
    return out


def _r(v: float | None, nd: int = 1) -> float | None:
    return None if v is None or not math.isfinite(v) else round(float(v), nd)


def p90(values: list[float]) -> float | None:
    """The 90th percentile (nearest rank) of values, None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def report_messages(site: str, rows: Iterable[CounterDay], computed_at: float, final: bool) -> list[OutMessage]:
    """A counter's day rows; a final row's id is stable, a running one's carries its minute."""
    out = []
    rev = "final" if final else str(int(computed_at // 60 * 60))
    for row in rows:
        day = row.day.isoformat()
        data = {
            "day": day, "counter": row.counter, "name": row.name, "field": row.field, "queue": row.queue,
            "source": row.source, "final": final, "computed_at": computed_at, "served": row.served,
            "mean_service_s": _r(row.mean_service_s), "p90_service_s": _r(row.p90_service_s),
            "mean_wait_s": _r(row.mean_wait_s), "p90_wait_s": _r(p90(row.waits)), "max_wait_s": _r(row.max_wait_s),
            "waits": [round(w, 1) for w in row.waits], "absence_min": _r(row.absence_min),
            "utilisation": _r(row.utilisation, 3), "mean_queue": _r(row.mean_queue, 2), "max_queue": _r(row.max_queue, 2),
        }
        msg_id = f"report/{day}/{row.counter}/{rev}"
        out.append(_message(site, "report", msg_id, f"report/{row.counter}", computed_at, data))
    return out


ALERT_STATES = {"raised": "opened", "acknowledged": "acknowledged", "closed": "closed"}


def alert_id(a: AlertRecord) -> str:
    """The name of an alert at the hub (rule, subject, start): the same in its opened, acknowledged and closed."""
    return f"{a.rule}/{a.subject}/{int(a.start)}"


def alert_message(site: str, event: AlertEvent) -> OutMessage:
    """An alert opened, acknowledged (who, when, comment) or closed."""
    a = event.alert
    state = ALERT_STATES[event.kind]
    at = {"opened": a.raised, "acknowledged": a.ack_at, "closed": a.end}[state]
    at = a.raised if at is None else at
    data = {"alert_id": alert_id(a), "rule": a.rule, "state": state, "subject": a.subject, "camera": a.camera,
            "name": event.name, "since": a.start, "at": at, "value": a.value, "peak": a.peak,
            "ack_by": a.ack_by, "ack_at": a.ack_at, "ack_comment": a.ack_comment}
    # an alert can be acknowledged again (another comment): each acknowledgement is a message of its own
    suffix = f"/{int(at * 1000)}" if state == "acknowledged" else ""
    return _message(site, "alert", f"alert/{alert_id(a)}/{state}{suffix}", f"alert/{a.subject}", at, data)


def health_message(site: str, cameras: Iterable[CameraHealth], at: float) -> OutMessage:
    """Every camera's state at one minute (one message a minute is the site's heartbeat too)."""
    minute = int(at // 60 * 60)
    cams = [{"id": c.id, "name": c.name, "state": c.state, "down_since": c.down_since, "reconnects": c.reconnects}
            for c in cameras]
    data = {"cameras": cams, "down": sum(c["state"] in ("offline", "reconnecting") for c in cams)}
    return _message(site, "health", f"health/{minute}", "health", at, data)

