"""The weekly staffing-compliance summary: per counter over Monday..Sunday, built from the daily items of
monitor/counters/compliance.py (the daily computation is reused, not repeated).

A day counts as "late" when a period's first staffed moment is more than `late_min` after its opening,
and as "left early" when a period's last one is more than `early_min` before its closing: the
thresholds of the late_start and left_early alert rules, so the summary and the alerts agree.
"""

from __future__ import annotations

import csv
import html
import io
import os
from collections.abc import Mapping, Sequence
from dataclasses import astuple, dataclass, fields
from datetime import date, timedelta
from pathlib import Path

import sqlite_utils

from monitor.counters.compliance import ComplianceItem, day_compliance
from monitor.site.config import Config
from monitor.site.office import office_of

__all__ = ["WeekRow", "week_compliance", "week_of", "week_summary", "render_week_csv", "render_week_html",
           "last_open_day", "write_week_files"]


@dataclass(frozen=True)
class WeekRow:
    """One counter's week."""

    counter: str
    name: str
    days_open: int  # days with opening hours
    days_late: int  # days with a period staffed more than late_min after opening
    days_left_early: int  # days with a period left more than early_min before closing
    periods_not_staffed: int  # opening periods nobody sat at the counter
    absences: int  # absences over the report's threshold (15 min)
    absence_min: float
    empty_waiting_min: float  # minutes the seat was empty while people waited
    periods_not_visible: int = 0  # opening periods the camera never saw the officer while citizens were served


def week_of(day: date) -> date:
    """The Monday of the ISO week holding day."""
    return day - timedelta(days=day.weekday())


def _counter_row(cid: str, name: str, days: Mapping[date, list[ComplianceItem]], late_min: float,
                 early_min: float) -> WeekRow:
    late = early = not_staffed = absences = hidden = 0
    absent = empty = 0.0
    for items in days.values():
        mine = [i for i in items if i.counter == cid]
        late += any(i.kind == "first_staffed" and i.minutes > late_min for i in mine)
        early += any(i.kind == "last_staffed" and i.minutes > early_min for i in mine)
        not_staffed += sum(i.kind == "not_staffed" for i in mine)
        hidden += sum(i.kind == "staff_hidden" for i in mine)
        absences += sum(i.kind == "absence" for i in mine)
        absent += sum(i.minutes for i in mine if i.kind == "absence")
        empty += sum(i.minutes for i in mine if i.kind == "empty_while_waiting")
    return WeekRow(cid, name, len(days), late, early, not_staffed, absences, absent, empty, hidden)


def week_summary(days: Mapping[date, list[ComplianceItem]], counters: Sequence[tuple[str, str]], late_min: float,
                 early_min: float) -> list[WeekRow]:
    """One row per counter (id, name) from the open days' items (days without opening hours left out)."""
    return [_counter_row(cid, name, days, late_min, early_min) for cid, name in counters]


def week_compliance(config: Config, db: sqlite_utils.Database, monday: date) -> list[WeekRow]:
    """The summary of the week starting at monday, from the daily report of each open day."""
    tz = config.site.tz
    days = {}
    for n in range(7):
        day = monday + timedelta(days=n)
        if config.site.opening_hours.spans(day, tz):
            days[day] = day_compliance(config, db, day)
    rules = config.alerts.rules
    counters = [(c.id, c.name) for c in office_of(config).counters]
    return week_summary(days, counters, rules.late_start.after_min, rules.left_early.before_min)


HEADERS = tuple(f.name for f in fields(WeekRow))


def _cells(row: WeekRow) -> list[str]:
    return [f"{v:.0f}" if isinstance(v, float) else str(v) for v in astuple(row)]


def render_week_csv(rows: list[WeekRow]) -> bytes:
    """The rows as CSV with a header row (UTF-8 with BOM, as the daily file)."""
    buf = io.StringIO()
    out = csv.writer(buf)
    out.writerow(HEADERS)
    out.writerows(_cells(r) for r in rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def render_week_html(rows: list[WeekRow], title: str) -> bytes:
    """The rows as a stand-alone HTML table."""
    head = "".join(f"<th>{h}</th>" for h in HEADERS)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in _cells(r)) + "</tr>" for r in rows)
    return (f"<!doctype html><html><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title></head><body>"
            f"<h1>{html.escape(title)}</h1><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            "</body></html>").encode("utf-8")


def last_open_day(config: Config, day: date) -> bool:
    """Whether day is the last day of its week with opening hours (the week's summary is due after it)."""
    tz = config.site.tz
    later = (day + timedelta(days=n) for n in range(1, 7 - day.weekday()))
    return bool(config.site.opening_hours.spans(day, tz)) and not any(config.site.opening_hours.spans(d, tz) for d in later)


def write_week_files(config: Config, db: sqlite_utils.Database, day: date, out_dir: Path) -> list[Path]:
    """After the week's last open day: out_dir/<monday>-compliance-week.csv and .html (temp file and rename)."""
    if not last_open_day(config, day):
        return []
    monday = week_of(day)
    rows = week_compliance(config, db, monday)
    title = f"{config.site.name} {monday.isoformat()} .. {(monday + timedelta(days=6)).isoformat()}"
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {out_dir / f"{monday.isoformat()}-compliance-week.csv": render_week_csv(rows),
             out_dir / f"{monday.isoformat()}-compliance-week.html": render_week_html(rows, title)}
    for path, data in files.items():
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    return list(files)
