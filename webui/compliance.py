"""The supervisors' /compliance page: one day's staffing-compliance items per counter, each linked to the
recordings (events) around its moment, and the same items as CSV or HTML files."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from monitor.counters.compliance import ComplianceItem, day_compliance, render_csv, render_html
from webui.db import get_db
from webui.audit import record
from webui.auth import role_required
from webui.params import parse_day
from webui.site import site_config

bp = Blueprint("compliance", __name__)

LOOK_AROUND = timedelta(minutes=5)  # the events listed for an item: its moment +- 5 min
KIND_LABELS = {
    "first_staffed": _l("First staffed (minutes late)"), "last_staffed": _l("Last staffed (minutes early)"),
    "not_staffed": _l("Not staffed all period"), "absence": _l("Absence"),
    "empty_while_waiting": _l("Empty while people waited"),
    "staff_hidden": _l("Officer not visible to the camera (citizens were served)"),
}
FORMATS = {"csv": "text/csv; charset=utf-8", "html": "text/html; charset=utf-8"}


def recording_link(item: ComplianceItem, tz: Any) -> str:
    """The events list of the item's camera around its moment."""
    at = datetime.fromtimestamp(item.at, tz)
    lo, hi = at - LOOK_AROUND, at + LOOK_AROUND
    return url_for("events.index", camera=item.camera, date_from=at.date().isoformat(), date_to=at.date().isoformat(),
                   time_from=lo.strftime("%H:%M"), time_to=hi.strftime("%H:%M"))


@bp.get("/compliance")
@role_required("supervisor")
def index() -> Any:
    """The day's items (default: today), or a CSV/HTML file of them with format=csv|html."""
    config = site_config()
    tz = config.site.tz
    day = parse_day("date", request.args.get("date", "")) or datetime.fromtimestamp(
        current_app.config["CLOCK"](), tz).date()
    fmt = request.args.get("format", "")
    if fmt and fmt not in FORMATS:
        abort(400, description=f"format: expected csv or html, got {fmt[:20]!r}")
    items = day_compliance(config, get_db(), day)
    if fmt:
        record("export", f"compliance {day.isoformat()}", fmt)
        title = f"{config.site.name} {day.isoformat()}"
        body = render_csv(items, tz) if fmt == "csv" else render_html(items, tz, title)
        return Response(body, mimetype=FORMATS[fmt], headers={
            "Content-Disposition": f'attachment; filename="compliance-{day.isoformat()}.{fmt}"'})
    rows = [(i, KIND_LABELS.get(i.kind, i.kind), recording_link(i, tz)) for i in items]
    return render_template("compliance/index.html", rows=rows, day=day)


@bp.get("/compliance/week")
@role_required("supervisor")
def week() -> Any:
    """The week (Monday to Sunday) holding date, per counter; or its CSV/HTML file with format=csv|html."""
    from monitor.counters.weekly import render_week_csv, render_week_html, week_compliance, week_of

    config = site_config()
    day = parse_day("date", request.args.get("date", "")) or datetime.fromtimestamp(
        current_app.config["CLOCK"](), config.site.tz).date()
    fmt = request.args.get("format", "")
    if fmt and fmt not in FORMATS:
        abort(400, description=f"format: expected csv or html, got {fmt[:20]!r}")
    monday = week_of(day)
    rows = week_compliance(config, get_db(), monday)
    if fmt:
        record("export", f"compliance week {monday.isoformat()}", fmt)
        title = f"{config.site.name} {monday.isoformat()} .. {(monday + timedelta(days=6)).isoformat()}"
        body = render_week_csv(rows) if fmt == "csv" else render_week_html(rows, title)
        return Response(body, mimetype=FORMATS[fmt], headers={
            "Content-Disposition": f'attachment; filename="compliance-week-{monday.isoformat()}.{fmt}"'})
    rules = config.alerts.rules
    return render_template("compliance/week.html", rows=rows, monday=monday, sunday=monday + timedelta(days=6),
                           late_min=rules.late_start.after_min, early_min=rules.left_early.before_min)
