"""Complaint cases in the web UI: supervisors open cases from a time range and counters or cameras, read the
recordings gathered, append notes and export the evidence ZIP; admins close cases and release holds.
Every view, note, export, close and release is written to the audit log."""

from __future__ import annotations

import logging
import sqlite3
import tempfile
from datetime import datetime, time
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from monitor.cases.export import export_case
from monitor.db import cases
from monitor.db.cases import CaseError, NewCase, Span
from monitor.site.config import Config
from monitor.site.office import office_of
from webui import audit
from webui.auth import role_required
from webui.db import get_db, write_db
from webui.params import parse_clock, parse_day
from webui.site import site_config

log = logging.getLogger(__name__)

bp = Blueprint("cases", __name__)

STATUS_FILTERS = ("", "open", "closed")


def _sources(config: Config) -> list[tuple[str, str | None]]:
    """(camera, counter or None) pairs from the form's counters and cameras; 400 naming an unknown one."""
    try:
        return cases.sources_of(config, request.form.getlist("counters"), request.form.getlist("cameras"))
    except CaseError as err:
        abort(400, description=str(err))


def _time_range(config: Config) -> tuple[float, float]:
    form = request.form
    day = parse_day("date", form.get("date", ""))
    start, end = parse_clock("time_from", form.get("time_from", "")), parse_clock("time_to", form.get("time_to", ""))
    if day is None or start is None or end is None:
        abort(400, description="date, time_from, time_to: expected a day and two times like 2026-11-24 08:30 09:15")
    midnight = datetime.combine(day, time(), config.site.tz).timestamp()
    return midnight + start, midnight + end


def _case_or_404(case_id: int) -> cases.Case:
    case = cases.get_case(get_db(), case_id)
    if case is None:
        abort(404)
    return case


@bp.get("/cases")
@role_required("supervisor")
def index() -> Any:
    """The cases (optionally of one status) and the form to open one."""
    status = request.args.get("status", "")
    if status not in STATUS_FILTERS:
        abort(400, description=f"status: expected open or closed, got {status[:20]!r}")
    config = site_config()
    today = datetime.fromtimestamp(current_app.config["CLOCK"](), config.site.tz).date()
    return render_template("cases/index.html", cases=cases.list_cases(get_db(), status or None), status=status,
                           counters=office_of(config).counters, cameras=config.cameras, today=today)


@bp.post("/cases")
@role_required("supervisor")
def create() -> Any:
    """Open a case; its footage is held from now on."""
    config = site_config()
    t0, t1 = _time_range(config)
    pairs = _sources(config)
    new = NewCase(request.form.get("title", ""), t0, t1, tuple(dict.fromkeys(cam for cam, _c in pairs)))
    try:
        with write_db() as db:
            case_id = cases.create_case(db, new, current_user.username, current_app.config["CLOCK"](), pairs)
    except CaseError as err:
        abort(400, description=str(err))
    audit.record("case_open", cases.audit_target(case_id), f"{new.title[:100]} ({', '.join(new.cameras)})")
    flash(_("Case opened. Its recordings are held until an admin releases them."))
    return redirect(url_for("cases.case", case_id=case_id))


@bp.get("/cases/<int:case_id>")
@role_required("supervisor")
def case(case_id: int) -> Any:
    """One case: its recordings, notes, status and actions; the view is audited."""
    c = _case_or_404(case_id)
    db = get_db()
    found = cases.recordings(db, [Span(cam, c.t0, c.t1) for cam in c.cameras])
    audit.record("case_view", c.target)
    masked = {cam.id for cam in site_config().cameras if cam.privacy_masks}
    return render_template("cases/case.html", case=c, recordings=found, notes=cases.notes(db, case_id), masked=masked)


@bp.post("/cases/<int:case_id>/notes")
@role_required("supervisor")
def add_note(case_id: int) -> Any:
    """Append a note (who and when are stored; notes are never edited)."""
    _case_or_404(case_id)
    text = request.form.get("note", "")
    try:
        with write_db() as db:
            cases.add_note(db, case_id, current_user.username, text, current_app.config["CLOCK"]())
    except CaseError as err:
        abort(400, description=str(err))
    audit.record("case_note", cases.audit_target(case_id), text.strip()[:200])
    return redirect(url_for("cases.case", case_id=case_id))


def _admin_step(case_id: int, step: Any, action: str, message: str) -> Any:
    _case_or_404(case_id)
    try:
        with write_db() as db:
            step(db, case_id, current_user.username, current_app.config["CLOCK"]())
    except CaseError as err:
        abort(409, description=str(err))
    audit.record(action, cases.audit_target(case_id))
    flash(message)
    return redirect(url_for("cases.case", case_id=case_id))


@bp.post("/cases/<int:case_id>/close")
@role_required("admin")
def close(case_id: int) -> Any:
    """Close the case (the hold stays until released)."""
    return _admin_step(case_id, cases.close_case, "case_close", _("Case closed. Its recordings stay held."))


@bp.post("/cases/<int:case_id>/release")
@role_required("admin")
def release(case_id: int) -> Any:
    """Release the case's hold: its footage follows the retention settings again."""
    return _admin_step(case_id, cases.release_hold, "case_release",
                       _("Hold released. The recordings now follow the retention settings."))


@bp.get("/cases/<int:case_id>/export.zip")
@role_required("supervisor")
def export(case_id: int) -> Any:
    """The evidence ZIP (clips, notes, audit extract, manifest); audited before it is built, so it lists itself."""
    _case_or_404(case_id)
    audit.record("case_export", cases.audit_target(case_id), "zip")
    out = tempfile.TemporaryFile(prefix="case-export-")  # deleted when closed, after the response is sent
    try:
        result = export_case(site_config(), get_db(), case_id, out, current_app.config["CLOCK"](),
                             current_user.username)
    except OSError as err:
        out.close()
        log.error("case %d export failed: %s", case_id, err)
        abort(500)
    out.seek(0)
    response = send_file(out, mimetype="application/zip", as_attachment=True, download_name=f"case-{case_id}.zip")
    response.headers["X-Manifest-SHA256"] = result.manifest_sha256
    return response


def held_figures(recordings_dir: Path) -> Any:
    """Files and bytes the holds keep (for the health page); None when it cannot be read."""
    from monitor.upkeep.holds import held_usage

    try:
        db = get_db()
        return held_usage(db, recordings_dir, cases.held_spans(db))
    except (sqlite3.Error, OSError) as err:  # a figure on the health page must never take the page down
        log.warning("held footage not measured: %s", err)
        return None
