"""The admins' /audit page: the audit log filtered by user, action and days, paged, and its CSV export."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import Blueprint, Response, current_app, render_template, request
from flask_babel import lazy_gettext as _l

from monitor.db import audit
from monitor.db.audit import ACTIONS, AuditFilter
from webui.audit import record
from webui.auth import role_required
from webui.db import get_db
from webui.params import bad, parse_day, parse_page
from webui.site import site_config

bp = Blueprint("audit", __name__)

MAX_EXPORT_ROWS = 100_000  # ~10 MB of CSV: a year of a busy office; narrow the dates beyond that
MAX_FILTER_CHARS = 64
ACTION_LABELS = {
    "login": _l("login"), "login_failed": _l("failed login"), "login_locked": _l("login locked"),
    "logout": _l("logout"), "clip_view": _l("clip viewed"), "clip_download": _l("clip downloaded"),
    "export": _l("export"), "event_review": _l("event reviewed"), "user_change": _l("user changed"),
    "camera_change": _l("camera changed"), "config_change": _l("configuration changed"),
    "alert_ack": _l("alert acknowledged"),
    "recordings_view": _l("recordings opened"), "segment_view": _l("recording viewed"),
    "segment_download": _l("recording downloaded"),
    "alert_ack": _l("alert acknowledged"), "case_open": _l("case opened"), "case_view": _l("case viewed"),
    "case_note": _l("case note added"), "case_close": _l("case closed"), "case_release": _l("case hold released"),
    "case_export": _l("case exported"),
}


def _filters() -> tuple[AuditFilter, dict[str, str]]:
    """The filters of the query string; a bad value aborts with a 400 naming the parameter."""
    args = request.args
    user, action = args.get("user", "").strip(), args.get("action", "")
    if len(user) > MAX_FILTER_CHARS:
        bad("user", f"a user name of at most {MAX_FILTER_CHARS} characters", user)
    if action and action not in ACTIONS:
        bad("action", f"one of {', '.join(ACTIONS)}", action)
    first, last = parse_day("date_from", args.get("date_from", "")), parse_day("date_to", args.get("date_to", ""))
    if first and last and first > last:
        bad("date_to", f"a day on or after date_from {first.isoformat()}", args["date_to"])
    tz = site_config().site.tz
    f = AuditFilter(
        user=user or None, action=action or None,
        since=datetime.combine(first, time(), tz).timestamp() if first else None,
        until=datetime.combine(last + timedelta(days=1), time(), tz).timestamp() if last else None,
    )
    values = {k: args[k] for k in ("user", "action", "date_from", "date_to") if args.get(k)}
    return f, values


@bp.route("/audit")
@role_required("admin")
def index() -> str:
    f, values = _filters()
    size = current_app.config["PAGE_SIZE"]
    page = parse_page(request.args, size)
    rows = audit.query(get_db(), f, limit=size + 1, offset=(page - 1) * size)
    return render_template("audit/index.html", entries=rows[:size], has_next=len(rows) > size, page=page,
                           values=values, actions=ACTIONS, action_labels=ACTION_LABELS,
                           users=audit.users_seen(get_db()))


@bp.route("/audit/export.csv")
@role_required("admin")
def export() -> Response:
    f, values = _filters()
    rows = audit.query(get_db(), f, limit=MAX_EXPORT_ROWS)
    record("export", "audit", " ".join(f"{k}={v}" for k, v in sorted(values.items())))
    body = audit.to_csv(rows, site_config().site.tz)
    stamp = datetime.fromtimestamp(current_app.config["CLOCK"](), site_config().site.tz)
    name = f"onestop-audit-{stamp.strftime('%Y-%m-%d')}.csv"
    return Response(body, content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
