"""What a site publishes to the district hub: topics, stable ids and versioned JSON payloads (docs/hub.md).

Pure builders: each takes data already read and returns OutMessages for the outbox. The site's
counters come from `site_counters`, the one seam where the named counters of the site model will
plug in (today a counter is a camera's i-th service_spot with its i-th staff_seat, as in reports).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from monitor.counters.reports import counters
from monitor.counters.rows import ReportRow
from monitor.db.outbox import OutMessage
from monitor.ops.delivery import AlertEvent
from monitor.ops.health import CameraHealth
from monitor.site.config import Config
from monitor.site.office import office_of

SCHEMA_VERSION = 1  # bump when a payload changes incompatibly; the hub drops versions it does not know
TOPIC_ROOT = "onestop"
KINDS = ("info", "rollup", "report", "alert", "health")


@dataclass(frozen=True)
class CounterRef:
    """One counter as published: a camera's service spot, its staff seat and the queue it serves."""

    camera: str
    counter: str  # the service_spot zone id today; the counter's name once the site model lands
    seat: str
    queue: str | None


def site_counters(config: Config) -> list[CounterRef]:
    """The counters whose minute roll-ups and report rows are published: per camera, as the camera report
    counts them (seam: the office report's named counters, monitor/counters/office_report.py, go here)."""
    return [CounterRef(c.camera, c.spot, c.seat, c.queue) for cam in config.cameras for c in counters(cam)]


def envelope(site: str, kind: str, msg_id: str, at: float, data: Mapping[str, Any]) -> str:
    """The JSON text every payload shares: schema version, id, site, kind, time (unix s) and the data."""
    body = {"v": SCHEMA_VERSION, "id": msg_id, "site": site, "kind": kind, "at": round(at, 3), "data": data}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _message(site: str, kind: str, msg_id: str, subtopic: str, at: float, data: Mapping[str, Any]) -> OutMessage:
    return OutMessage(msg_id, f"{TOPIC_ROOT}/{site}/{subtopic}", envelope(site, kind, msg_id, at, data))


def info_message(config: Config, site: str, site_url: str | None, at: float) -> OutMessage:
    """The site's name, time zone, link, cameras, and its named counters and queues (monitor/site/office.py);
    the id changes only when they do."""
    office = office_of(config)
    data = {
        "name": config.site.name, "timezone": config.site.timezone, "site_url": site_url,
        "cameras": [{"id": c.id, "name": c.name, "enabled": c.enabled} for c in config.cameras],
        "counters": [{"id": c.id, "name": c.name, "field": c.field, "seat": "/".join(c.seat),
                      "spot": "/".join(c.spot), "queue": c.queue} for c in office.counters],
        "queues": [{"id": q.id, "name": q.name, "areas": ["/".join(a) for a in q.areas], "counters": list(q.counters)}
                   for q in office.queues],
    }
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]
    return _message(site, "info", f"info/{digest}", "info", at, data)


def _zone_minute(row: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"samples": row["samples"], "occupied_s": row["occupied_s"],
            "count_mean": round(row["count_mean"], 3), "count_max": row["count_max"]}


def rollup_messages(site: str, ref: CounterRef, minutes: Mapping[str, list[Mapping[str, Any]]]) -> list[OutMessage]:
    """One message per minute of a counter, from store.minute_rollups of its zones ({"spot"|"seat"|"queue": rows})."""
    by_minute: dict[int, dict[str, Any]] = {}
    for role in ("spot", "seat", "queue"):
        for row in minutes.get(role, []):
            by_minute.setdefault(int(row["minute"]), {})[role] = row
    out = []
    for minute in sorted(by_minute):
        zones = by_minute[minute]
        data = {"camera": ref.camera, "counter": ref.counter, "minute": minute,
                **{role: _zone_minute(zones.get(role)) for role in ("spot", "seat", "queue")}}
        msg_id = f"rollup/{ref.camera}/{ref.counter}/{minute}"
        out.append(_message(site, "rollup", msg_id, f"rollup/{ref.camera}/{ref.counter}", minute + 60, data))
    return out


def _r(v: float | None, nd: int = 1) -> float | None:
    return None if v is None or not math.isfinite(v) else round(float(v), nd)


def p90(values: list[float]) -> float | None:
    """The 90th percentile (nearest rank) of values, None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def report_messages(site: str, rows: Iterable[ReportRow], computed_at: float, final: bool) -> list[OutMessage]:
    """The day rows (hour None) of a report; a final row's id is stable, a running one's carries its minute."""
    out = []
    rev = "final" if final else str(int(computed_at // 60 * 60))
    for row in rows:
        if row.hour is not None:
            continue
        day = row.day.isoformat()
        waits = [round(w, 1) for w in row.waits]
        data = {
            "day": day, "camera": row.camera, "counter": row.counter, "final": final, "computed_at": computed_at,
            "served": row.served, "mean_service_s": _r(row.mean_service_s), "p90_service_s": _r(row.p90_service_s),
            "mean_wait_s": _r(row.mean_wait_s), "p90_wait_s": _r(p90(row.waits)), "max_wait_s": _r(row.max_wait_s),
            "waits": waits, "absence_min": _r(row.absence_min), "utilisation": _r(row.utilisation, 3),
            "mean_queue": _r(row.mean_queue, 2), "max_queue": _r(row.max_queue, 2),
        }
        msg_id = f"report/{day}/{row.camera}/{row.counter}/{rev}"
        out.append(_message(site, "report", msg_id, f"report/{row.camera}/{row.counter}", computed_at, data))
    return out


ALERT_STATES = {"raised": "opened", "closed": "closed"}  # "acknowledged" is set in the web UI, not yet sent


def alert_message(site: str, event: AlertEvent) -> OutMessage:
    """An alert opened or closed; alert_id names the alert (rule, subject, start), the same in both."""
    a = event.alert
    state = ALERT_STATES[event.kind]
    at = a.raised if event.kind == "raised" else (a.end if a.end is not None else a.raised)
    alert_id = f"{a.rule}/{a.subject}/{int(a.start)}"
    data = {"alert_id": alert_id, "rule": a.rule, "state": state, "subject": a.subject, "camera": a.camera,
            "name": event.name, "since": a.start, "at": at, "value": a.value, "peak": a.peak}
    return _message(site, "alert", f"alert/{alert_id}/{state}", f"alert/{a.subject}", at, data)


def health_message(site: str, cameras: Iterable[CameraHealth], at: float) -> OutMessage:
    """Every camera's state at one minute (one message a minute is the site's heartbeat too)."""
    minute = int(at // 60 * 60)
    cams = [{"id": c.id, "name": c.name, "state": c.state, "down_since": c.down_since, "reconnects": c.reconnects}
            for c in cameras]
    data = {"cameras": cams, "down": sum(c["state"] in ("offline", "reconnecting") for c in cams)}
    return _message(site, "health", f"health/{minute}", "health", at, data)

