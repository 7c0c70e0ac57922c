"""The daily staffing-compliance report per counter: first and last time staffed in each opening period,
every absence over a threshold, and the minutes the counter was empty while people waited.

`counter_compliance` is pure (samples and periods in, items out); `day_compliance` reads one day of a
site's counters from the database; `render_csv` / `render_html` write it. Each item carries the
moment a supervisor should look at: the web UI links it to the recordings (events) around then.
"""

from __future__ import annotations

import csv
import html
import io
import os
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import sqlite_utils

from monitor.counters.analytics import (
    AnalyticsParams,
    absences,
    drop_short,
    intersect,
    presence_intervals,
    staff_hidden,
    total_duration,
)
from monitor.db.store import zone_samples
from monitor.records import Interval, ZoneSamples, merge_intervals
from monitor.site.config import Config
from monitor.site.office import office_of

__all__ = ["ComplianceItem", "counter_compliance", "day_compliance", "render_csv", "render_html", "write_compliance_files"]

ABSENCE_MIN = 15.0  # absences reported from this long (the officer_away alert's default)
DIP_S = 5.0  # a waiting area or seat flickering for a few seconds is one run
# Spans shorter than this are not "empty while people waited": the seconds before a seat is first
# confirmed at start, or an officer turning away as the next citizen walks up.
EMPTY_MIN_S = 30.0


@dataclass(frozen=True)
class ComplianceItem:
    """One line of the report: what happened at a counter, when, for how long (minutes)."""

    counter: str
    name: str
    camera: str
    kind: str  # first_staffed | last_staffed | not_staffed | absence | empty_while_waiting | staff_hidden
    at: float  # the moment to look at (unix seconds)
    minutes: float  # late / early / absent / empty minutes; 0 where on time
    period: Interval


def _level(queue: ZoneSamples) -> np.ndarray:
    return np.floor(np.clip(queue.count.astype(np.float64), 0.0, None) + 0.5)


def empty_while_waiting(seat: ZoneSamples, queue: ZoneSamples, periods: list[Interval]) -> list[Interval]:
    """Spans in the periods when the seat was seen empty and at least one person waited."""
    t, si, qi = np.intersect1d(seat.t, queue.t, assume_unique=True, return_indices=True)
    mask = ~seat.occupied[si] & (_level(queue)[qi] >= 1)
    runs = merge_intervals(presence_intervals(ZoneSamples(t, mask, np.zeros(t.size, np.float32))), DIP_S)
    return drop_short(intersect(runs, periods), EMPTY_MIN_S)


def counter_compliance(counter: tuple[str, str, str], seat: ZoneSamples, queue: ZoneSamples | None,
                       periods: list[Interval], absence_min: float = ABSENCE_MIN,
                       spot: ZoneSamples | None = None) -> list[ComplianceItem]:
    """The report items of one counter (id, name, camera) over a day's opening periods, in time order.

    With the counter's service spot: a staff seat never seen occupied while citizens stayed at the spot
    (analytics.staff_hidden) gives one staff_hidden item per period and nothing else. The camera does not
    see that officer (or they were away all day while citizens sat at the counter anyway): their emptiness
    is not reported as theirs.
    """
    cid, name, cam = counter
    if spot is not None and staff_hidden(spot, seat, AnalyticsParams().hidden_staff_s):
        return [ComplianceItem(cid, name, cam, "staff_hidden", p.start, 0.0, p) for p in periods]
    items: list[ComplianceItem] = []
    seated = presence_intervals(seat)
    for p in periods:
        inside = intersect(seated, [p])
        if not inside:
            items.append(ComplianceItem(cid, name, cam, "not_staffed", p.start, p.duration / 60, p))
            continue
        first, last = inside[0].start, inside[-1].end
        items.append(ComplianceItem(cid, name, cam, "first_staffed", first, (first - p.start) / 60, p))
        items.append(ComplianceItem(cid, name, cam, "last_staffed", last, (p.end - last) / 60, p))
        for gone in absences(seat, [p], absence_min * 60):
            if gone.start > first and gone.end < p.end:  # late arrival and early leaving are their own lines
                items.append(ComplianceItem(cid, name, cam, "absence", gone.start, gone.duration / 60, p))
        if queue is not None:
            empty = empty_while_waiting(seat, queue, [p])
            if empty:
                items.append(ComplianceItem(cid, name, cam, "empty_while_waiting", empty[0].start,
                                            total_duration(empty) / 60, p))
    return sorted(items, key=lambda i: (i.at, i.kind))


def day_compliance(config: Config, db: sqlite_utils.Database, day: date,
                   absence_min: float = ABSENCE_MIN) -> list[ComplianceItem]:
    """Every counter's items for one local day (empty on a closed day)."""
    tz = config.site.tz
    periods = config.site.opening_hours.spans(day, tz)
    if not periods:
        return []
    office = office_of(config)
    t0, t1 = periods[0].start, periods[-1].end
    queues = {q.id: q.areas for q in office.queues}
    out: list[ComplianceItem] = []
    for c in office.counters:
        seat = zone_samples(db, *c.seat, t0, t1)
        areas = queues.get(c.queue or "", ())
        queue = zone_samples(db, *areas[0], t0, t1) if len(areas) == 1 else None  # summed areas: not yet
        spot = zone_samples(db, *c.spot, t0, t1)
        out += counter_compliance((c.id, c.name, c.seat[0]), seat, queue, periods, absence_min, spot)
    return out


HEADERS = ("counter", "name", "kind", "time", "minutes", "period")


def _rows(items: list[ComplianceItem], tz: object) -> list[list[str]]:
    def hm(t: float) -> str:
        return datetime.fromtimestamp(t, tz).strftime("%H:%M:%S")  # type: ignore[arg-type]

    return [[i.counter, i.name, i.kind, hm(i.at), f"{i.minutes:.1f}", f"{hm(i.period.start)}-{hm(i.period.end)}"]
            for i in items]


def render_csv(items: list[ComplianceItem], tz: object) -> bytes:
    """The items as CSV with a header row (UTF-8 with BOM: spreadsheets then read Vietnamese names right)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(HEADERS)
    writer.writerows(_rows(items, tz))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def write_compliance_files(config: Config, db: sqlite_utils.Database, day: date, out_dir: Path) -> list[Path]:
    """Write out_dir/YYYY-MM-DD-compliance.csv and .html (each via a temp file and a rename); returns them."""
    items = day_compliance(config, db, day)
    out_dir.mkdir(parents=True, exist_ok=True)
    tz = config.site.tz
    files = {out_dir / f"{day.isoformat()}-compliance.csv": render_csv(items, tz),
             out_dir / f"{day.isoformat()}-compliance.html": render_html(items, tz, f"{config.site.name} {day.isoformat()}")}
    for path, data in files.items():
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    return list(files)


def render_html(items: list[ComplianceItem], tz: object, title: str) -> bytes:
    """The items as a stand-alone HTML table."""
    head = "".join(f"<th>{h}</th>" for h in HEADERS)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in _rows(items, tz))
    page = (f"<!doctype html><html><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title></head>"
            f"<body><h1>{html.escape(title)}</h1><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            "</body></html>")
    return page.encode("utf-8")
