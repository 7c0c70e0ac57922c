"""The timeline of a named counter or of a field (offices with a counters: section): one day's lanes and rows.

A counter shows its officer (presence and absences), its services, its queue summed over the
queue's waiting areas (on whatever cameras) and the motion events of its cameras. A field shows
the officer and service lanes of each of its counters and the queues feeding them. Under the chart
come the day's rows of `onestop report --by office` for the same counter or field: tickets beside
the cameras, hour by hour, and the agreement row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import abort, current_app, request, url_for

from monitor.counters.analytics import intersect, presence_intervals
from monitor.counters.office_report import OfficeRow, analyse_day, office_day_rows
from monitor.db.store import list_events, zone_samples
from monitor.records import Interval
from monitor.site.config import Config
from monitor.site.office import Office, OfficeCounter
from webui.lanes import (
    GAP,
    LANE_H,
    LEFT,
    MAX_EVENTS,
    QUEUE_H,
    RIGHT,
    WIDTH,
    Mark,
    day_span,
    hour_marks,
    nearest_event,
    queue_path,
)

__all__ = ["Lane", "OfficeTimeline", "build_office_timeline", "chosen_group"]


@dataclass
class Lane:
    """One horizontal lane: spans (staff, service), a polyline (queue) or ticks (events)."""

    owner: str  # the counter's name (a field's lanes) or the queue's; "" for a counter's own lanes
    kind: str  # "staff" | "service" | "queue" | "events"
    y: float
    h: int
    marks: list[Mark] = field(default_factory=list)
    absences: list[Mark] = field(default_factory=list)
    path: str = ""
    top: float = 0.0


@dataclass
class OfficeTimeline:
    """A counter's or a field's day, in SVG user units, with the report rows beneath."""

    kind: str  # "counter" | "field"
    id: str
    title: str
    t0: float
    t1: float
    width: int
    height: int
    hours: list[tuple[float, str]]
    open_marks: list[tuple[float, float]]
    lanes: list[Lane]
    rows: list[OfficeRow]
    day_row: OfficeRow | None  # the counter's or field's row of the whole day
    agreement: list[OfficeRow]
    left: int = LEFT


def chosen_group(office: Office, lang: str) -> tuple[str, str, str]:
    """(kind, id, title) asked for by ?counter= or ?field= (default the first counter); 400 on an unknown one."""
    counter_id, field_id = request.args.get("counter") or None, request.args.get("field") or None
    if field_id is not None:
        if field_id not in office.fields:
            abort(400, description=f"field: no field {field_id[:40]!r} (known: {', '.join(office.fields) or 'none'})")
        return "field", field_id, office.field_label(field_id, lang)
    counter = office.counter(counter_id) if counter_id is not None else office.counters[0]
    if counter is None:
        abort(400, description=f"counter: no counter {counter_id[:40]!r} (known: {', '.join(c.id for c in office.counters)})")
    return "counter", counter.id, counter.name


def build_office_timeline(db: Any, config: Config, office: Office, group: tuple[str, str, str], day: date,
                          lang: str) -> OfficeTimeline:
    """The day of one named counter or one field: lanes scaled to the SVG width, and its report rows."""
    kind, key, title = group
    tz = config.site.tz
    counters = [c for c in office.counters if (c.id == key if kind == "counter" else c.field == key)]
    queues = list(dict.fromkeys(c.queue for c in counters if c.queue))
    analysis, window, tickets = analyse_day(config, office, db, day, current_app.config["CLOCK"]())
    periods = config.site.opening_hours.spans(day, tz)
    seats = {c.id: zone_samples(db, c.seat[0], c.seat[1], window.start, window.end) for c in counters}
    span = day_span(day, tz, window, periods, list(seats.values()) + [analysis.queues[q] for q in queues])
    events = _events(db, counters, window)

    def x(t: float) -> float:
        return LEFT + (min(max(t, span.start), span.end) - span.start) / span.duration * (WIDTH - LEFT - RIGHT)

    def marks(intervals: list[Interval], what: str) -> list[Mark]:
        return [Mark(x(iv.start), max(x(iv.end) - x(iv.start), 1.0), iv.start, iv.end,
                     nearest_event(events, iv.start, iv.end), what) for iv in intersect(intervals, [span])]

    lanes: list[Lane] = []
    y = 8.0
    for c in counters:
        owner = c.name if kind == "field" else ""
        lanes.append(Lane(owner, "staff", y, LANE_H,
                          marks(presence_intervals(seats[c.id].window(window.start, window.end)), "presence"),
                          marks(analysis.absences[c.id], "absence")))
        y += LANE_H + GAP
        lanes.append(Lane(owner, "service", y, LANE_H, marks(analysis.sessions[c.id], "session")))
        y += LANE_H + GAP
    for qid in queues:
        name = next(q.name for q in office.queues if q.id == qid)
        path, top = queue_path(analysis.queues[qid].window(span.start, span.end), span, x, y)
        lanes.append(Lane(name, "queue", y, QUEUE_H, path=path, top=top))
        y += QUEUE_H + GAP
    ticks = [Mark(x(e["start"]), 0.0, e["start"], e["end"] or e["start"], url_for("events.event", event_id=e["id"]),
                  "event", e["id"]) for e in events if span.start <= e["start"] < span.end]
    lanes.append(Lane("", "events", y, LANE_H, ticks))
    y += LANE_H + GAP
    rows = _rows(office_day_rows(analysis, day, window, tickets, tz, lang=lang), kind, key, counters, queues)
    day_row = next((r for r in rows if r.hour is None and r.level == kind and r.id == key), None)
    return OfficeTimeline(
        kind=kind, id=key, title=title, t0=span.start, t1=span.end, width=WIDTH, height=int(y + 18),
        hours=[(x(h), label) for h, label in hour_marks(day, tz, span)],
        open_marks=[(x(p.start), x(p.end) - x(p.start)) for p in intersect(periods, [span])],
        lanes=lanes, rows=[r for r in rows if r.level != "agreement"], day_row=day_row,
        agreement=[r for r in rows if r.level == "agreement"],
    )


def _events(db: Any, counters: list[OfficeCounter], window: Interval) -> list[dict[str, Any]]:
    """The motion events of the cameras that see these counters, in time order."""
    cameras = dict.fromkeys(cam for c in counters for cam in (c.seat[0], c.spot[0]))
    found = [e for cam in cameras for e in list_events(db, camera=cam, since=window.start, until=window.end, limit=MAX_EVENTS)]
    return sorted(found, key=lambda e: e["start"])


def _rows(rows: list[OfficeRow], kind: str, key: str, counters: list[OfficeCounter], queues: list[str]) -> list[OfficeRow]:
    """The report rows of this counter or field: its own, its counters' (a field), its queues', its agreement rows."""
    ids = {c.id for c in counters}
    keep = []
    for r in rows:
        if (r.level == kind and r.id == key) or (r.level in ("counter", "agreement") and r.id in ids) \
                or (r.level == "queue" and r.id in queues):
            keep.append(r)
    return keep
