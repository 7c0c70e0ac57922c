"""The office report: rows per counter, per field and per queue (day and hour), tickets beside the cameras.

Where a day has queue tickets, served counts, waits and service times come from them and the
camera's own figures stand beside them (camera_* columns), with an agreement row per counter:
served difference (camera minus tickets), mean absolute error of the waits and of the service
times over the citizens matched between the two. Days without tickets use the cameras alone.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from collections.abc import Callable
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np
import sqlite_utils
from markupsafe import Markup

from monitor.counters.analytics import CounterStats
from monitor.counters.render import N_, UTF8_BOM, environment, report_css, translations
from monitor.counters.reports import MAX_DAYS, PAD_S, day_window
from monitor.counters.site import (
    OfficeAnalysis,
    analyse_office,
    counter_window,
    field_window,
    hour_windows,
    queue_window,
    walking_keys,
)
from monitor.counters.tickets import Visit, agreement, visits
from monitor.db.store import zone_samples
from monitor.db.tickets import ticket_events
from monitor.records import Interval, ZoneSamples
from monitor.site.config import Config
from monitor.site.office import Office, office_of

__all__ = ["OfficeReport", "OfficeRow", "analyse_day", "build_office_report", "office_day_rows", "office_samples", "render_office_report"]

Level = Literal["counter", "field", "queue", "agreement"]


@dataclass
class OfficeRow:
    """One counter, field or queue over a day (hour None) or an hour; or a counter's agreement row of a day."""

    day: date
    hour: int | None
    level: Level
    id: str
    name: str
    source: Literal["camera", "tickets"]
    served: int
    mean_service_s: float | None = None
    median_service_s: float | None = None
    mean_wait_s: float | None = None
    max_wait_s: float | None = None
    mean_queue: float | None = None
    max_queue: float | None = None
    absence_min: float | None = None
    utilisation: float | None = None
    camera_served: int | None = None
    camera_mean_wait_s: float | None = None
    camera_mean_service_s: float | None = None
    served_diff: int | None = None
    wait_mae_s: float | None = None
    service_mae_s: float | None = None
    matched: int | None = None
    left_unserved: int | None = None  # queue rows: citizens who left the queue without being served


@dataclass
class OfficeReport:
    """The rows of one office over a range of local days."""

    site: str
    date_from: date
    date_to: date
    rows: list[OfficeRow]
    generated_at: datetime
    derived: bool = field(default=False)  # counters derived from the zones (no counters: section)


def build_office_report(config: Config, db: sqlite_utils.Database, day_from: date, day_to: date,
                        *, now: datetime | None = None, lang: str | None = None) -> OfficeReport:
    """Rows per counter, field and queue for each day and hour with data, tickets first where present.

    Field rows are named in lang (vi or en; default the site's language) from the fields: section.
    """
    if day_from > day_to:
        raise ValueError(f"first day {day_from.isoformat()} is after last day {day_to.isoformat()}; swap them")
    if (day_to - day_from).days + 1 > MAX_DAYS:
        raise ValueError(f"range {day_from}..{day_to} is longer than {MAX_DAYS} days")
    office = office_of(config)
    tz = config.site.tz
    generated = now if now is not None else datetime.now(tz)
    rows: list[OfficeRow] = []
    day = day_from
    while day <= day_to:
        analysis, window, tickets = analyse_day(config, office, db, day, generated.timestamp())
        rows += office_day_rows(analysis, day, window, tickets, tz, lang=lang or config.site.language)
        day += timedelta(days=1)
    return OfficeReport(config.site.name, day_from, day_to, rows, generated, office.derived)


def analyse_day(config: Config, office: Office, db: sqlite_utils.Database, day: date, now: float | None = None
                ) -> tuple[OfficeAnalysis, Interval, list[Visit]]:
    """One local day of the office: its analysis, its window and the visits of the tickets issued in it.

    With `now`, ticket events after it are left out: a feed's clock a little ahead (within its
    clock_skew_s) or tickets imported ahead (the looping demo) do not count before they happen.
    """
    tz = config.site.tz
    window = day_window(day, tz)
    samples = office_samples(db, office, Interval(window.start - PAD_S, window.end + PAD_S))
    events = ticket_events(db, window.start, window.end)
    tickets = visits([e for e in events if now is None or e.t <= now])
    return analyse_office(office, samples, config.site.opening_hours.spans(day, tz)), window, tickets


def office_samples(db: sqlite_utils.Database, office: Office, span: Interval) -> dict[tuple[str, str], ZoneSamples]:
    """The per-second samples within span of every zone the office analysis reads: counters' seats and spots,
    queues' waiting areas and their cameras' walkers."""
    keys = {k for c in office.counters for k in (c.seat, c.spot)} | {a for q in office.queues for a in q.areas}
    keys |= {k for q in office.queues for k in walking_keys(q.areas)}
    return {k: zone_samples(db, k[0], k[1], span.start, span.end) for k in sorted(keys)}


def office_day_rows(a: OfficeAnalysis, day: date, window: Interval, tickets: list[Visit], tz: ZoneInfo,
                    hours: bool = True, lang: str = "vi") -> list[OfficeRow]:
    """The rows of one day: day rows, then (with hours) hour rows with service or open time, then agreement rows."""
    office = a.office
    groups: list[tuple[Level, str, str, list[str]]] = [("counter", c.id, c.name, [c.id]) for c in office.counters]
    groups += [("field", f, office.field_label(f, lang), [c.id for c in office.counters if c.field == f])
               for f in office.fields]
    groups += [("queue", q.id, q.name, list(q.counters)) for q in office.queues]
    # As in the camera report: no rows for a group whose zones sent no sample that day (no data is not
    # nobody served), nor for an hour without service unless it is open and its zones were seen.
    groups = [g for g in groups if a.seen(g[3], window) or any(v.counter in g[3] for v in tickets)]
    rows: list[OfficeRow] = []
    spans = [(None, window)] + ([(h, iv) for h, iv in hour_windows(window, tz)] if hours else [])
    for hour, span in spans:
        for level, key, name, ids in groups:
            stats = {"counter": counter_window, "field": field_window, "queue": queue_window}[level](a, key, span)
            mine = [v for v in tickets if v.counter in ids and v.served_at is not None and span.start <= v.served_at < span.end]
            row = _row(day, hour, level, key, name, stats, mine if tickets else None)
            if level == "queue":
                row.left_unserved = a.left_unserved([key], span)
            if hour is None or row.served or (stats.open_s > 0 and a.seen(ids, span)):
                rows.append(row)
    if tickets:
        rows += [_agreement(a, day, window, c.id, c.name, tickets) for c in office.counters]
    return rows


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def _row(day: date, hour: int | None, level: Level, key: str, name: str, s: CounterStats,
         tickets: list[Visit] | None) -> OfficeRow:
    row = OfficeRow(day, hour, level, key, name, "camera", s.served, s.mean_service_s, s.median_service_s,
                    s.mean_wait_s, s.max_wait_s, s.mean_queue, s.max_queue, s.absence_s / 60, s.utilisation)
    if tickets is None:
        return row
    waits = [v.wait_s for v in tickets if v.wait_s is not None]
    service = [v.service_s for v in tickets if v.service_s is not None]
    row.source, row.served = "tickets", len(tickets)
    row.camera_served, row.camera_mean_wait_s, row.camera_mean_service_s = s.served, s.mean_wait_s, s.mean_service_s
    row.mean_wait_s, row.max_wait_s = _mean(waits), (max(waits) if waits else None)
    row.mean_service_s = _mean(service)
    row.median_service_s = float(np.median(service)) if service else None
    return row


def _agreement(a: OfficeAnalysis, day: date, window: Interval, cid: str, name: str, tickets: list[Visit]) -> OfficeRow:
    sessions = a.sessions[cid]
    camera = [(s.start, s.duration, a.wait_known(cid, k))
              for k, s in enumerate(sessions) if window.start <= s.start < window.end]
    mine = [v for v in tickets if v.counter == cid and v.served_at is not None and window.start <= v.served_at < window.end]
    ag = agreement(camera, mine)
    return OfficeRow(day, None, "agreement", cid, name, "tickets", ag.ticket_served, camera_served=ag.camera_served,
                     served_diff=ag.served_diff, wait_mae_s=ag.wait_mae_s, service_mae_s=ag.service_mae_s,
                     matched=ag.matched)


# ---------------------------------------------------------------- rendering

# (row field, header): the column order of the CSV and the HTML tables; headers are catalogue messages
_COLUMNS: list[tuple[str, str]] = [
    ("day", N_("Date")), ("hour", N_("Hour")), ("level", N_("Level")), ("id", N_("Id")), ("name", N_("Name")),
    ("source", N_("Source")), ("served", N_("Served")), ("mean_service_s", N_("Mean service (s)")),
    ("median_service_s", N_("Median service (s)")), ("mean_wait_s", N_("Mean wait (s)")),
    ("max_wait_s", N_("Max wait (s)")), ("mean_queue", N_("Mean queue (people)")),
    ("max_queue", N_("Max queue (people)")), ("left_unserved", N_("Left unserved")), ("absence_min", N_("Absence (min)")),
    ("utilisation", N_("Utilisation (%)")), ("camera_served", N_("Camera: served")),
    ("camera_mean_wait_s", N_("Camera: mean wait (s)")), ("camera_mean_service_s", N_("Camera: mean service (s)")),
    ("served_diff", N_("Served difference (camera − tickets)")), ("wait_mae_s", N_("Wait MAE (s)")),
    ("service_mae_s", N_("Service MAE (s)")), ("matched", N_("Matched")),
]
# the values of the level and source columns, as the report shows them (context: they are lower-case words)
_WORDS = {"counter": N_("counter (report level)"), "field": N_("field (report level)"),
          "queue": N_("queue (report level)"), "agreement": N_("agreement (report level)"),
          "camera": N_("camera (report source)"), "tickets": N_("tickets (report source)")}
_TITLE = N_("Report by counter, field and queue")
_SECTIONS = [(N_("Counters, fields and queues"), ("counter", "field", "queue")),
             (N_("Cameras against tickets"), ("agreement",))]


def _word(value: str, gettext: Callable[[str], str]) -> str:
    """A level or source in the report's language ("counter (report level)" -> "counter" / "quầy")."""
    return gettext(_WORDS[value]).split(" (")[0] if value in _WORDS else value


def _cells(row: OfficeRow, language: str) -> list[str]:
    """Whole numbers except the queue (one decimal): a Vietnamese Excel reads '.' as a thousands separator."""
    gettext = translations(language).gettext
    out = []
    for key, _ in _COLUMNS:
        v = getattr(row, key)
        if v is None:
            out.append("")
        elif key == "day":
            out.append(v.strftime("%d/%m/%Y") if language == "vi" else v.isoformat())
        elif key == "hour":
            out.append(f"{v:02d}:00")
        elif key in ("level", "source"):
            out.append(_word(v, gettext))
        elif key in ("mean_queue", "max_queue"):
            out.append(f"{v:.1f}")
        elif key == "utilisation":
            out.append(str(int(round(v * 100))))
        elif isinstance(v, (int, float)):
            out.append(str(int(round(v))))
        else:
            out.append(str(v))
    return out


def render_office_report(report: OfficeReport, fmt: str, language: str) -> bytes:
    """CSV (UTF-8 with BOM, for Excel), JSON (English keys) or a standalone HTML page."""
    gettext = translations(language).gettext  # an unknown language is refused whatever the format
    heads = [gettext(h) for _, h in _COLUMNS]
    if fmt == "csv":
        buf = io.StringIO(newline="")
        out = csv.writer(buf)
        out.writerow(heads)
        out.writerows(_cells(r, language) for r in report.rows)
        return UTF8_BOM + buf.getvalue().encode("utf-8")
    if fmt == "json":
        rows = [{**asdict(r), "day": r.day.isoformat()} for r in report.rows]
        doc = {"site": report.site, "date_from": report.date_from.isoformat(), "date_to": report.date_to.isoformat(),
               "camera": None, "generated_at": report.generated_at.isoformat(), "derived_counters": report.derived, "rows": rows}
        return json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")
    if fmt == "html":
        return _html(report, heads, language).encode("utf-8")
    raise ValueError(f"unknown report format {fmt!r} (known: csv, json, html)")


def _html(report: OfficeReport, heads: list[str], language: str) -> str:
    gettext = translations(language).gettext
    tables = [(gettext(heading), [_cells(r, language) for r in report.rows if r.level in levels])
              for heading, levels in _SECTIONS]
    return environment(language).get_template("office_report.html").render(
        language=language, title=f"{gettext(_TITLE)} — {report.site}", css=Markup(report_css()),
        period=f"{report.date_from.isoformat()} – {report.date_to.isoformat()}", headers=heads,
        tables=[(h, rows) for h, rows in tables if rows])
