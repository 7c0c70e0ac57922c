"""Reports page (every role): a day, week or month of counter figures with inline SVG charts, and the
downloads of the same report (`monitor.counters.reports.build_report`) as CSV (Excel) or HTML."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import lazy_gettext as _l

from monitor.counters.office_report import build_office_report, render_office_report
from monitor.counters.charts import absence_per_counter, hour_range, served_per_hour, wait_histogram
from monitor.counters.render import render_report, report_css
from monitor.counters.reports import build_report
from monitor.counters.rows import Report, ReportRow
from monitor.db.store import store_report_cache
from webui import audit
from webui.db import get_db
from webui.i18n import language
from webui.auth import role_required
from webui.office_totals import agreement_totals, office_totals
from webui.security import content_security_policy, style_hash
from webui.site import site_config

bp = Blueprint("reports", __name__)

FORMATS = {"csv": "text/csv; charset=utf-8", "html": "text/html; charset=utf-8"}


def _today() -> date:
    config = site_config()
    return datetime.fromtimestamp(current_app.config["CLOCK"](), config.site.tz).date()


def periods(today: date) -> list[tuple[Any, date, date]]:
    """(label, first day, last day) of the periods offered as one-click downloads."""
    monday = today - timedelta(days=today.weekday())
    return [
        (_l("Today"), today, today),
        (_l("Yesterday"), today - timedelta(days=1), today - timedelta(days=1)),
        (_l("This week"), monday, today),
        (_l("Last week"), monday - timedelta(days=7), monday - timedelta(days=1)),
    ]


PERIODS = ("day", "week", "month")


def period_range(kind: str, day: date, today: date) -> tuple[date, date]:
    """First and last day of the day, week (Monday first) or month holding `day`, never past today."""
    if kind == "day":
        first = last = day
    elif kind == "week":
        first = day - timedelta(days=day.weekday())
        last = first + timedelta(days=6)
    else:
        first = day.replace(day=1)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return first, max(first, min(last, today))


def shift(kind: str, day: date, step: int) -> date:
    """The same kind of period `step` periods before (-1) or after (+1) the one holding `day`."""
    if kind == "day":
        return day + timedelta(days=step)
    if kind == "week":
        return day + timedelta(days=7 * step)
    month = day.month - 1 + step
    return date(day.year + month // 12, month % 12 + 1, 1)


@bp.route("/reports")
@role_required("viewer")
def index() -> str:
    today = _today()
    config = site_config()
    kind = request.args.get("period", "day")
    if kind not in PERIODS:
        abort(400, description=f"period: expected one of {', '.join(PERIODS)}, got {kind[:20]!r}")
    day = _day_arg("date") if request.args.get("date") else today
    camera = request.args.get("camera") or None
    first, last = period_range(kind, day, today)
    nav = {"periods": periods(today), "today": today, "cameras": config.cameras, "kind": kind, "day": day,
           "first": first, "last": last, "prev_day": shift(kind, day, -1),
           "next_day": shift(kind, day, 1) if last < today else None}
    if _by() == "office":
        return _office_page(config, nav)
    try:
        report = build_report(config, get_db(), first, last, camera)
    except ValueError as err:  # unknown camera
        abort(400, description=str(err))
    store_report_cache(current_app.config["DATABASE"], report.cache_entries)  # the next request is fast
    return render_template("reports/index.html", camera=camera, report=report, charts=charts(report),
                           totals=totals(report), **nav)


def _by() -> str:
    by = request.args.get("by") or "camera"
    if by not in ("camera", "office"):
        abort(400, description=f"by: expected camera or office, got {by[:20]!r}")
    return by


def _office_page(config: Any, nav: dict[str, Any]) -> str:
    """The office view: per counter, field and queue, ticket figures beside the cameras', agreement rows."""
    try:
        report = build_office_report(config, get_db(), nav["first"], nav["last"], lang=language())
    except ValueError as err:
        abort(400, description=str(err))
    return render_template("reports/office.html", report=report, levels=[
        ("counter", _l("Counters"), office_totals(report, "counter")),
        ("field", _l("Fields"), office_totals(report, "field")),
        ("queue", _l("Queues"), office_totals(report, "queue"))], agreement=agreement_totals(report), **nav)


def _office_download(first: date, last: date, fmt: str) -> Response:
    try:
        report = build_office_report(site_config(), get_db(), first, last, lang=language())
    except ValueError as err:  # reversed or too long a range
        abort(400, description=str(err))
    audit.record("export", f"report.{fmt}", f"{first.isoformat()}..{last.isoformat()} by=office")
    name = f"onestop-office-report-{first.isoformat()}" + (f"_{last.isoformat()}" if last != first else "")
    disposition = "attachment" if fmt == "csv" else "inline"
    return Response(render_office_report(report, fmt, language()), content_type=FORMATS[fmt],
                    headers={"Content-Disposition": f'{disposition}; filename="{name}.{fmt}"'})


def _day_arg(name: str) -> date:
    raw = request.args.get(name, "")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        abort(400, description=f"{name}: expected a date like 2026-11-24, got {raw[:20]!r}")


@bp.route("/reports/download")
@role_required("viewer")
def download() -> Response:
    first, last = _day_arg("from"), _day_arg("to")
    fmt = request.args.get("format", "csv")
    if fmt not in FORMATS:
        abort(400, description=f"format: expected one of {', '.join(FORMATS)}, got {fmt[:20]!r}")
    if _by() == "office":
        return _office_download(first, last, fmt)
    camera = request.args.get("camera") or None
    config = site_config()
    try:
        report = build_report(config, get_db(), first, last, camera)
    except ValueError as err:  # reversed or too long a range, unknown camera
        abort(400, description=str(err))
    store_report_cache(current_app.config["DATABASE"], report.cache_entries)  # the next request is fast
    body = render_report(report, fmt, language())
    audit.record("export", f"report.{fmt}", f"{first.isoformat()}..{last.isoformat()} camera={camera or 'all'}")
    name = f"onestop-report-{first.isoformat()}" + (f"_{last.isoformat()}" if last != first else "")
    name += f"-{camera}" if camera else ""
    # CSV goes to Excel as a file; HTML opens in the browser (it prints well from there).
    disposition = "attachment" if fmt == "csv" else "inline"
    headers = {"Content-Disposition": f'{disposition}; filename="{name}.{fmt}"'}
    if fmt == "html":  # the standalone report carries its stylesheet inline: allow exactly that one by hash
        headers["Content-Security-Policy"] = content_security_policy((style_hash(report_css()),))
    return Response(body, content_type=FORMATS[fmt], headers=headers)


# ---------------------------------------------------------------- figures for the page


@dataclass
class Total:
    """One counter over the whole period (the day rows summed, means weighted by citizens)."""

    camera: str
    counter: str
    days: int
    served: int
    mean_service_s: float | None
    mean_wait_s: float | None
    max_wait_s: float | None
    max_queue: float
    absence_min: float


def totals(report: Report) -> list[Total]:
    """Per counter, the period's figures from the report's day rows."""
    groups: dict[tuple[str, str], list[ReportRow]] = defaultdict(list)
    for r in report.rows:
        if r.hour is None:
            groups[(r.camera, r.counter)].append(r)
    out = []
    for (camera, counter), rows in sorted(groups.items()):
        served = sum(r.served for r in rows)
        waits = [w for r in rows for w in r.waits]
        service = [(r.mean_service_s, r.served) for r in rows if r.mean_service_s is not None]
        out.append(Total(
            camera=camera, counter=counter, days=len(rows), served=served,
            mean_service_s=sum(m * n for m, n in service) / served if served and service else None,
            mean_wait_s=float(np.mean(waits)) if waits else None,
            max_wait_s=max(waits) if waits else None,
            max_queue=max(r.max_queue for r in rows),
            absence_min=sum(r.absence_min for r in rows),
        ))
    return out


# ---------------------------------------------------------------- inline SVG charts

CHART_W, CHART_H = 440, 200  # SVG user units; the charts scale to their box
PAD_L, PAD_B, PAD_T = 34, 22, 16  # room for the value axis, the labels under the bars and the top values
SERIES_COLOURS = ("#2f6db5", "#d9822b", "#3a9d5d", "#b5452f", "#7a4fb5", "#4f9fb5")


@dataclass
class Bar:
    x: float
    y: float
    w: float
    h: float
    label: str
    value: float


@dataclass
class Chart:
    """Geometry of one chart; the template only draws it."""

    name: str
    width: int
    height: int
    top: float  # the value at the top of the axis
    bars: list[Bar]
    lines: list[tuple[str, str, str]]  # (series name, colour, polyline points)
    ticks: list[tuple[float, str]]  # (x, label) under the plot for line charts
    horizontal: bool = False

    @property
    def empty(self) -> bool:
        return not self.bars and not self.lines


def charts(report: Report) -> list[Chart]:
    """Served per hour, waiting-time distribution, queue over the day, absence per counter."""
    days = [r for r in report.rows if r.hour is None]
    hours = [r for r in report.rows if r.hour is not None]
    return [
        bar_chart("served", served_per_hour(hours)),
        bar_chart("waits", wait_histogram([w for r in days for w in r.waits])),
        line_chart("queue", _queue_by_hour(hours)),
        hbar_chart("absence", absence_per_counter(days, sep=" · ")),
    ]


def _queue_by_hour(hours: list[ReportRow]) -> dict[str, list[tuple[int, float]]]:
    """Per camera, each hour's mean queue averaged over the days (its counters share one waiting area)."""
    per: dict[str, dict[int, dict[date, float]]] = defaultdict(lambda: defaultdict(dict))
    for r in hours:
        per[r.camera][r.hour].setdefault(r.day, r.mean_queue)  # type: ignore[index]
    return {cam: [(h, float(np.mean(list(v.values())))) for h, v in sorted(by_hour.items())]
            for cam, by_hour in sorted(per.items())}


def bar_chart(name: str, data: list[tuple[str, float]]) -> Chart:
    """Vertical bars, one per label."""
    top = max([v for _, v in data] + [1.0])
    plot_w, plot_h = CHART_W - PAD_L - 6, CHART_H - PAD_B - PAD_T
    step = plot_w / max(len(data), 1)
    bars = [Bar(PAD_L + k * step + step * 0.1, CHART_H - PAD_B - v / top * plot_h, step * 0.8, v / top * plot_h,
                label, v) for k, (label, v) in enumerate(data)]
    return Chart(name, CHART_W, CHART_H, top, bars, [], [])


def line_chart(name: str, series: dict[str, list[tuple[int, float]]]) -> Chart:
    """One polyline per series over the local hours (points at the middle of each hour)."""
    hours = hour_range({h for pts in series.values() for h, _ in pts})
    top = max([v for pts in series.values() for _, v in pts] + [1.0])
    plot_w, plot_h = CHART_W - PAD_L - 6, CHART_H - PAD_B - PAD_T
    step = plot_w / max(len(hours), 1)

    def x(h: int) -> float:
        return PAD_L + (h - hours[0] + 0.5) * step

    lines = [(cam, SERIES_COLOURS[n % len(SERIES_COLOURS)],
              " ".join(f"{x(h):.1f},{CHART_H - PAD_B - v / top * plot_h:.1f}" for h, v in pts))
             for n, (cam, pts) in enumerate(series.items()) if pts]
    return Chart(name, CHART_W, CHART_H, top, [], lines, [(x(h), f"{h:02d}") for h in hours])


def hbar_chart(name: str, data: list[tuple[str, float]]) -> Chart:
    """Horizontal bars, one row per label (label left of the bar, value after it)."""
    row_h, label_w = 22, 150
    top = max([v for _, v in data] + [1.0])
    bars = [Bar(label_w, 6 + k * row_h, v / top * (CHART_W - label_w - 50), row_h - 6, label, v)
            for k, (label, v) in enumerate(data)]
    return Chart(name, CHART_W, max(12 + row_h * len(data), 40), top, bars, [], [], horizontal=True)
