"""Reports page (every role): download a period's counter report as CSV (Excel) or HTML."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import lazy_gettext as _l

from monitor.reports import build_report, render_report
from webui import get_db, language
from webui.auth import role_required

bp = Blueprint("reports", __name__)

FORMATS = {"csv": "text/csv; charset=utf-8", "html": "text/html; charset=utf-8"}


def _today() -> date:
    config = current_app.config["ONESTOP"]
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


@bp.route("/reports")
@role_required("viewer")
def index() -> str:
    today = _today()
    return render_template("reports.html", periods=periods(today), today=today,
                           cameras=current_app.config["ONESTOP"].cameras)


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
    camera = request.args.get("camera") or None
    config = current_app.config["ONESTOP"]
    try:
        report = build_report(config, get_db(), first, last, camera)
    except ValueError as err:  # reversed or too long a range, unknown camera
        abort(400, description=str(err))
    body = render_report(report, fmt, language())
    name = f"onestop-report-{first.isoformat()}" + (f"_{last.isoformat()}" if last != first else "")
    name += f"-{camera}" if camera else ""
    # CSV goes to Excel as a file; HTML opens in the browser (it prints well from there).
    disposition = "attachment" if fmt == "csv" else "inline"
    return Response(body, content_type=FORMATS[fmt],
                    headers={"Content-Disposition": f'{disposition}; filename="{name}.{fmt}"'})
