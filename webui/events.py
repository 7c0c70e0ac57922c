"""Events pages (supervisor and admin): the filtered list, one event with its clip and review, files."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request, send_file,
                   url_for)
from flask_babel import gettext as _
from flask_login import current_user

from werkzeug.exceptions import NotFound

from monitor.camera.rendition import needs_rendition
from monitor.db.store import event_zones, get_event, review_event
from webui import audit
from webui.auth import role_required
from webui.db import get_db, write_db
from webui.media import first_range, recording_file, rendition_or_abort
from webui.masking import masked_download
from webui.params import bad, parse_filters, query_page
from webui.site import site_config

bp = Blueprint("events", __name__)

NOTE_MAX_CHARS = 2000


def _zone_choices() -> list[tuple[str, str]]:
    """(zone id, label) of every configured zone, for the filter form."""
    seen: dict[str, list[str]] = {}
    for cam in site_config().cameras:
        for z in cam.zones:
            seen.setdefault(z.id, []).append(cam.name)
    return [(zid, f"{zid} ({', '.join(names)})") for zid, names in sorted(seen.items())]


@bp.route("/events")
@role_required("supervisor")
def index() -> str:
    query = parse_filters(request.args)
    result, _page = query_page(request.args, query.filters, current_app.config["PAGE_SIZE"])
    return render_template(
        "events/index.html",
        events=result.events,
        older=result.older.token() if result.older else None,
        newer=result.newer.token() if result.newer else None,
        values=query.values,
        cameras=site_config().cameras,
        zones=_zone_choices(),
    )


@bp.route("/events/<event_id>")
@role_required("supervisor")
def event(event_id: str) -> str:
    ev = _event_or_404(event_id)
    rendition = _offers_rendition(ev)
    return render_template("events/event.html", ev=ev, zones=event_zones(ev), note_max=NOTE_MAX_CHARS,
                           rendition=rendition)


def _offers_rendition(ev: dict[str, Any]) -> bool:
    """Whether the player offers an H.264 rendition after the clip (an H.265 clip on disk)."""
    if ev["clip_state"] != "complete":
        return False
    try:
        return needs_rendition(recording_file(ev["clip_path"]))
    except NotFound:  # the page still shows the event; the player reports the missing file
        return False


def _event_or_404(event_id: str) -> dict[str, Any]:
    ev = get_event(get_db(), event_id)
    if ev is None:
        abort(404)
    return ev


def _note(raw: str) -> str:
    note = raw.replace("\r\n", "\n").strip()
    if len(note) > NOTE_MAX_CHARS:
        bad("note", f"at most {NOTE_MAX_CHARS} characters", f"{len(note)} characters")
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in note):
        bad("note", "text without control characters", note)
    return note


@bp.route("/events/<event_id>/review", methods=["POST"])
@role_required("supervisor")
def review(event_id: str) -> Any:
    action = request.form.get("action", "review")
    if action not in ("review", "unreview"):
        bad("action", "review or unreview", action)
    note = _note(request.form.get("note", ""))
    _event_or_404(event_id)
    who, when = (current_user.username, current_app.config["CLOCK"]()) if action == "review" else (None, None)
    with write_db() as db:
        review_event(db, event_id, user=who, at=when, note=note)
    audit.record("event_review", event_id, action)
    flash(_("Marked as reviewed.") if action == "review" else _("Marked as not reviewed."))
    return redirect(url_for("events.event", event_id=event_id))


def _clip_or_404(event_id: str) -> tuple[dict[str, Any], Path]:
    """The event and its clip file (404 unless the clip is complete and on disk)."""
    ev = _event_or_404(event_id)
    if ev["clip_state"] != "complete":
        abort(404)
    return ev, recording_file(ev["clip_path"])


@bp.route("/events/<event_id>/clip.mp4")
@role_required("supervisor")
def clip(event_id: str) -> Any:
    ev, path = _clip_or_404(event_id)
    download = request.args.get("download") == "1"
    if first_range():
        audit.record("clip_download" if download else "clip_view", event_id, ev["camera"])
    masked = masked_download(path, ev["camera"], f"{event_id}.masked.mp4") if download else None
    if masked is not None:  # a clip leaving the system is masked, as in case exports
        return masked
    # conditional=True answers Range requests with 206, so the browser can seek
    return send_file(path, mimetype="video/mp4", conditional=True, download_name=f"{event_id}.mp4",
                     as_attachment=download)


@bp.route("/events/<event_id>/clip.h264.mp4")
@role_required("supervisor")
def clip_rendition(event_id: str) -> Any:
    """The H.264 rendition of an H.265 clip, for browsers without HEVC (made on first request, cached)."""
    ev, path = _clip_or_404(event_id)
    rendition = rendition_or_abort(event_id, path)
    if first_range():
        audit.record("clip_view", event_id, ev["camera"])
    return send_file(rendition, mimetype="video/mp4", conditional=True, download_name=f"{event_id}.h264.mp4")


@bp.route("/events/<event_id>/thumbnail.jpg")
@role_required("supervisor")
def thumbnail(event_id: str) -> Any:
    ev = _event_or_404(event_id)
    return send_file(recording_file(ev["thumb_path"]), mimetype="image/jpeg", conditional=True, max_age=60)
