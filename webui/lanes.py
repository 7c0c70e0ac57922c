"""Drawing a day on the timeline's SVG: the scale, the marks, the hour ticks, the queue polyline, links to events.

Shared by the camera counter's timeline (webui/timeline.py) and the named counter's or field's
(webui/office_timeline.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import numpy as np
from flask import url_for

from monitor.records import Interval, ZoneSamples

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


def day_span(day: date, tz: Any, window: Interval, periods: list[Interval], samples: list[ZoneSamples]) -> Interval:
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


def hour_marks(day: date, tz: Any, span: Interval) -> list[tuple[float, str]]:
    out = []
    for h in range(24):
        t = datetime.combine(day, time(h), tzinfo=tz).timestamp()
        if span.start <= t <= span.end:
            out.append((t, f"{h:02d}:00"))
    return out


def queue_path(queue: ZoneSamples, span: Interval, x: Any, top_y: float) -> tuple[str, float]:
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


def nearest_event(events: list[dict[str, Any]], start: float, end: float) -> str:
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
