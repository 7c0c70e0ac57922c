"""Counter timeline (supervisor and admin): one day of one counter as an inline SVG drawn on the server.

Lanes: staff presence (with absences), service sessions, waiting-area people estimate, motion events.
Every segment and event tick links to the event page of the event nearest to it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
from flask import Blueprint, abort, current_app, render_template, request, url_for

from monitor.counters.analytics import counter_stats, intersect, presence_intervals
from monitor.records import Interval, ZoneSamples
from monitor.site.config import Config
from monitor.counters.reports import counter_samples, counters, day_window
from monitor.db.store import list_events
from webui.db import get_db
from webui.auth import role_required
from webui.site import site_config

bp = Blueprint("timeline", __name__)

WIDTH, LEFT, RIGHT = 1200, 120, 24  # SVG user units: total width, lane-label column, right margin
LANE_H, QUEUE_H, GAP = 22, 56, 10  # lane heights and the space between lanes
MAX_POINTS = 600  # queue polyline points across the chart: finer than that is invisible at 1366 px
MIN_BIN_S = 60  # ...but never average less than a minute (the per-second estimate flickers)
NEAREST_EVENT_S = 900  # an event further than 15 minutes from a segment is not "its" clip: link nothing
MAX_EVENTS = 2000  # events drawn per day; a camera with more is mis-tuned and the ticks would merge anyway
DEFAULT_HOURS = (7, 18)  # shown when the day has neither opening hours nor samples


@dataclass
class Mark:
    """A drawn span (w > 0) or tick (w == 0) with its link."""

    x: float
    w: float
    start: float
    end: float
    href: str
    kind: str
    label: str = ""


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
    choices = [(cam, pair) for cam in config.cameras for pair in counters(cam)]
    today = datetime.fromtimestamp(current_app.config["CLOCK"](), config.site.tz).date()
    day = _day(today)
    if not choices:
        return render_template("timeline/index.html", choices=[], chosen=None, day=day, timeline=None, today=today,
                               timedelta=timedelta)
    cam, pair = _chosen(choices)
    timeline = build_timeline(get_db(), config, cam.id, pair, day)
    return render_template("timeline/index.html", choices=choices, chosen=(cam, pair), day=day, timeline=timeline,
                           today=today, timedelta=timedelta)


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
    spot, staff, queue = counter_samples(db, pair, window)
    stats = counter_stats(spot, staff, queue, periods, window=window)  # the numbers of `onestop report`
    span = _span(day, tz, window, periods, [s.window(window.start, window.end) for s in (spot, staff)])
    events = sorted(list_events(db, camera=camera, since=window.start, until=window.end, limit=MAX_EVENTS),
                    key=lambda e: e["start"])

    def x(t: float) -> float:
        return LEFT + (min(max(t, span.start), span.end) - span.start) / span.duration * (WIDTH - LEFT - RIGHT)

    def marks(intervals: list[Interval], kind: str) -> list[Mark]:
        shown = intersect(intervals, [span])
        return [Mark(x(iv.start), max(x(iv.end) - x(iv.start), 1.0), iv.start, iv.end,
                     _nearest(events, iv.start, iv.end), kind) for iv in shown]

    lanes, y = {}, 8.0
    for name, h in (("staff", LANE_H), ("service", LANE_H), ("queue", QUEUE_H), ("events", LANE_H)):
        if name == "queue" and queue is None:
            continue
        lanes[name] = y
        y += h + GAP
    path, top = ("", 0.0) if queue is None else _queue_path(queue.window(span.start, span.end), span, x,
                                                           lanes["queue"])
    return Timeline(
        t0=span.start, t1=span.end, width=WIDTH, height=int(y + 18), lanes=lanes,
        hours=[(x(h), label) for h, label in _hours(day, tz, span)],
        presence=marks(presence_intervals(staff.window(window.start, window.end)), "presence"),
        absences=marks(stats.absences, "absence"),
        sessions=marks(stats.sessions, "session"),
        events=[Mark(x(e["start"]), 0.0, e["start"], e["end"] or e["start"],
                     url_for("events.event", event_id=e["id"]), "event", e["id"])
                for e in events if span.start <= e["start"] < span.end],
        queue_path=path, queue_max=top, stats=stats, has_queue=queue is not None,
        open_marks=[(x(p.start), x(p.end) - x(p.start)) for p in intersect(periods, [span])],
    )


def _span(day: date, tz: Any, window: Interval, periods: list[Interval], samples: list[ZoneSamples]) -> Interval:
    """Whole local hours covering the opening periods and every sample of the day."""
    starts = [p.start for p in periods] + [float(s.t[0]) for s in samples if len(s)]
    ends = [p.end for p in periods] + [float(s.t[-1]) + 1 for s in samples if len(s)]
    if not starts:
        return Interval(*(datetime.combine(day, time(h), tzinfo=tz).timestamp() for h in DEFAULT_HOURS))
    first = datetime.fromtimestamp(min(starts), tz).replace(minute=0, second=0, microsecond=0).timestamp()
    last = datetime.fromtimestamp(max(ends), tz)
    end = last.replace(minute=0, second=0, microsecond=0).timestamp()
    if end < last.timestamp():
        end += 3600
    return Interval(max(first, window.start), min(end, window.end))


def _hours(day: date, tz: Any, span: Interval) -> list[tuple[float, str]]:
    out = []
    for h in range(24):
        t = datetime.combine(day, time(h), tzinfo=tz).timestamp()
        if span.start <= t <= span.end:
            out.append((t, f"{h:02d}:00"))
    return out


def _queue_path(queue: ZoneSamples, span: Interval, x: Any, top_y: float) -> tuple[str, float]:
    """An SVG path of the mean waiting count per bin; unobserved bins break the line."""
    if not len(queue):
        return "", 0.0
    bin_s = max(MIN_BIN_S, math.ceil(span.duration / MAX_POINTS))
    nbins = int(math.ceil(span.duration / bin_s))
    k = ((queue.t - span.start) // bin_s).astype(np.int64)
    sums = np.bincount(k, weights=queue.count.astype(np.float64), minlength=nbins)
    seen = np.bincount(k, minlength=nbins)
    means = np.divide(sums, seen, out=np.zeros_like(sums), where=seen > 0)
    top = max(float(means.max()), 1.0)
    parts, pen_down = [], False
    for i in range(nbins):
        if not seen[i]:
            pen_down = False
            continue
        px = x(span.start + (i + 0.5) * bin_s)
        py = top_y + QUEUE_H - means[i] / top * QUEUE_H
        parts.append(f"{'L' if pen_down else 'M'}{px:.1f},{py:.1f}")
        pen_down = True
    return " ".join(parts), top


def _nearest(events: list[dict[str, Any]], start: float, end: float) -> str:
    """The event page of the event closest to [start, end) (0 when they overlap), or '#' when none is near."""
    best, best_d = None, NEAREST_EVENT_S
    for e in events:
        e_end = e["end"] or e["start"]
        d = max(e["start"] - end, start - e_end, 0.0)
        if d <= best_d:
            best, best_d = e, d
            if d == 0:
                break
    return url_for("events.event", event_id=best["id"]) if best else "#"
