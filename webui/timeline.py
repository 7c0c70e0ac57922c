"""Counter timeline (supervisor and admin): one day of one counter as an inline SVG drawn on the server.

Lanes: staff presence (with absences), service sessions, waiting-area people estimate, motion events.
Every segment and event tick links to the event page of the event nearest to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask import Blueprint, abort, current_app, render_template, request, url_for

from monitor.counters.analytics import counter_stats, intersect, presence_intervals, session_starts
from monitor.records import Interval
from monitor.site.config import Config
from monitor.site.office import Office, office_of
from monitor.counters.reports import PAD_S, counter_samples, counters, day_window, other_starts, seat_samples
from monitor.db.store import list_events
from webui.db import get_db
from webui.auth import role_required
from webui.i18n import language
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
from webui.office_timeline import build_office_timeline, chosen_group
from webui.site import site_config

bp = Blueprint("timeline", __name__)


@dataclass
class Timeline:
    """Everything the template draws, in SVG user units."""

    t0: float
    t1: float
    width: int
    height: int
    lanes: dict[str, float]  # lane name -> y of its top edge
    hours: list[tuple[float, str]]  # (x, "08:00")
    presence: list[Mark]
    absences: list[Mark]
    sessions: list[Mark]
    events: list[Mark]
    queue_path: str
    queue_max: float
    stats: Any
    has_queue: bool
    open_marks: list[tuple[float, float]] = field(default_factory=list)  # (x, w) of the opening periods
    left: int = LEFT
    lane_h: int = LANE_H
    queue_h: int = QUEUE_H


@bp.route("/timeline")
@role_required("supervisor")
def index() -> str:
    config: Config = site_config()
    today = datetime.fromtimestamp(current_app.config["CLOCK"](), config.site.tz).date()
    day = _day(today)
    office = office_of(config)
    if not office.derived and office.counters and request.args.get("camera") is None:
        return _office_page(config, office, day, today)
    choices = [(cam, pair) for cam in config.cameras for pair in counters(cam)]
    if not choices:
        return render_template("timeline/index.html", choices=[], chosen=None, day=day, timeline=None, today=today,
                               timedelta=timedelta)
    cam, pair = _chosen(choices)
    timeline = build_timeline(get_db(), config, cam.id, pair, day)
    return render_template("timeline/index.html", choices=choices, chosen=(cam, pair), day=day, timeline=timeline,
                           today=today, timedelta=timedelta)


def _office_page(config: Config, office: Office, day: date, today: date) -> str:
    """The timeline of a named counter (?counter=id) or a field (?field=id), with its report rows."""
    lang = language()
    group = chosen_group(office, lang)
    timeline = build_office_timeline(get_db(), config, office, group, day, lang)
    return render_template("timeline/office.html", office=office, timeline=timeline, day=day, today=today,
                           timedelta=timedelta)


def _day(today: date) -> date:
    raw = request.args.get("date") or ""
    if not raw:
        return today
    try:
        return date.fromisoformat(raw)
    except ValueError:
        abort(400, description=f"date: expected a date like 2026-11-24, got {raw[:20]!r}")


def _chosen(choices: list[tuple[Any, Any]]) -> tuple[Any, Any]:
    camera, counter = request.args.get("camera") or None, request.args.get("counter") or None
    if camera is None:
        return choices[0]
    mine = [c for c in choices if c[0].id == camera]
    if not mine:
        known = sorted({c[0].id for c in choices})
        abort(400, description=f"camera: no counter camera {camera[:40]!r} (known: {', '.join(known)})")
    if counter is None:
        return mine[0]
    for choice in mine:
        if choice[1].spot == counter:
            return choice
    known = ", ".join(c[1].spot for c in mine)
    abort(400, description=f"counter: {camera} has no counter {counter[:40]!r} (known: {known})")


def build_timeline(db: Any, config: Config, camera: str, pair: Any, day: date) -> Timeline:
    """The day's lanes of one counter, scaled to the SVG width."""
    tz = config.site.tz
    window = day_window(day, tz)
    periods = config.site.opening_hours.spans(day, tz)
    spot, staff, queue, walking = counter_samples(db, pair, window)
    t0, t1 = window.start - PAD_S, window.end + PAD_S
    others = other_starts(pair, counters(config.camera(camera)), lambda o: session_starts(*seat_samples(db, o, t0, t1))) \
        if queue is not None else []
    stats = counter_stats(spot, staff, queue, periods, window=window, walking=walking,
                          other_starts=others)  # the numbers of `onestop report`
    span = day_span(day, tz, window, periods, [s.window(window.start, window.end) for s in (spot, staff)])
    events = sorted(list_events(db, camera=camera, since=window.start, until=window.end, limit=MAX_EVENTS),
                    key=lambda e: e["start"])

    def x(t: float) -> float:
        return LEFT + (min(max(t, span.start), span.end) - span.start) / span.duration * (WIDTH - LEFT - RIGHT)

    def marks(intervals: list[Interval], kind: str) -> list[Mark]:
        shown = intersect(intervals, [span])
        return [Mark(x(iv.start), max(x(iv.end) - x(iv.start), 1.0), iv.start, iv.end,
                     nearest_event(events, iv.start, iv.end), kind) for iv in shown]

    lanes, y = {}, 8.0
    for name, h in (("staff", LANE_H), ("service", LANE_H), ("queue", QUEUE_H), ("events", LANE_H)):
        if name == "queue" and queue is None:
            continue
        lanes[name] = y
        y += h + GAP
    path, top = ("", 0.0) if queue is None else queue_path(queue.window(span.start, span.end), span, x,
                                                           lanes["queue"])
    return Timeline(
        t0=span.start, t1=span.end, width=WIDTH, height=int(y + 18), lanes=lanes,
        hours=[(x(h), label) for h, label in hour_marks(day, tz, span)],
        presence=marks(presence_intervals(staff.window(window.start, window.end)), "presence"),
        absences=marks(stats.absences, "absence"),
        sessions=marks(stats.sessions, "session"),
        events=[Mark(x(e["start"]), 0.0, e["start"], e["end"] or e["start"],
                     url_for("events.event", event_id=e["id"]), "event", e["id"])
                for e in events if span.start <= e["start"] < span.end],
        queue_path=path, queue_max=top, stats=stats, has_queue=queue is not None,
        open_marks=[(x(p.start), x(p.end) - x(p.start)) for p in intersect(periods, [span])],
    )
