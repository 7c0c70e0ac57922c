"""The supervisors' /alerts page: open and recent alerts, acknowledged with a comment (stored and audited),
and the banner every page shows while alerts are open and unacknowledged."""

from __future__ import annotations

import sqlite3
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from monitor.db import alerts as table
from monitor.db.users import role_at_least
from webui import audit
from webui.db import get_db, write_db
from webui.auth import role_required
from webui.site import site_config

bp = Blueprint("alerts", __name__)

RECENT_DAYS = 7  # closed alerts listed under the open ones
RULE_LABELS = {
    "queue_long": _l("Long queue"), "long_wait": _l("Long wait"), "unstaffed_queue": _l("Counter empty while people wait"),
    "officer_away": _l("Officer away"), "late_start": _l("Counter not staffed after opening"),
    "left_early": _l("Counter left before closing"), "camera_offline": _l("Camera offline"),
}
UNIT_LABELS = {"people": _l("people"), "min": _l("min"), "s": _l("s")}


@bp.app_context_processor
def banner() -> dict[str, Any]:
    """open_alerts: how many alerts are open and unacknowledged (supervisors and admins only; 0 otherwise)."""
    if not (current_user.is_authenticated and role_at_least(current_user.role, "supervisor")):
        return {"open_alerts": 0}
    try:
        return {"open_alerts": table.unacknowledged_open(get_db())}
    except sqlite3.OperationalError:  # a database not migrated to 011 yet: no banner rather than no page
        return {"open_alerts": 0}


@bp.get("/alerts")
@role_required("supervisor")
def index() -> Any:
    """Open alerts first, then those raised in the last RECENT_DAYS days."""
    from monitor.ops.rules import UNITS
    from monitor.site.office import office_of

    config = site_config()
    since = current_app.config["CLOCK"]() - RECENT_DAYS * 86400
    office = office_of(config)
    names = {q.id: q.name for q in office.queues} | {c.id: c.name for c in office.counters} | {
        c.id: c.name for c in config.cameras}
    return render_template("alerts/index.html", alerts=table.list_alerts(get_db(), since), names=names,
                           rule_label=lambda r: RULE_LABELS.get(r, r),
                           unit_label=lambda r: UNIT_LABELS.get(UNITS.get(r, ""), ""), days=RECENT_DAYS)


@bp.post("/alerts/<int:alert_id>/ack")
@role_required("supervisor")
def acknowledge(alert_id: int) -> Any:
    """Acknowledge one alert with a comment: who and when are stored on the alert and in the audit log."""
    comment = request.form.get("comment", "").strip()
    if not comment:
        abort(400, description="comment: expected a few words on what was done, got nothing")
    if len(comment) > table.COMMENT_MAX_CHARS:
        abort(400, description=f"comment: expected at most {table.COMMENT_MAX_CHARS} characters, got {len(comment)}")
    with write_db() as db:
        found = table.acknowledge(db, alert_id, current_user.username, current_app.config["CLOCK"](), comment)
    if not found:
        abort(404)
    audit.record("alert_ack", str(alert_id), comment)
    flash(_("Alert acknowledged."))
    return redirect(url_for("alerts.index"))
