"""Events pages (supervisor and admin): the list with camera states, one event with its clip, files, JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, render_template, request, send_file

from monitor.store import camera_states, get_event, list_events
from webui import get_db
from webui.auth import role_required

bp = Blueprint("events", __name__)

MAX_PAGE = 100_000  # deeper pages than this are not a real use; refuse rather than scan


def _page() -> int:
    raw = request.args.get("page", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        abort(400, description=f"page: expected a whole number from 1 to {MAX_PAGE}, got {raw[:20]!r}")
    return int(raw)


def _camera_filter() -> str | None:
    cam = request.args.get("camera") or None
    known = {c.id for c in current_app.config["ONESTOP"].cameras}
    if cam is not None and cam not in known:
        abort(400, description=f"camera: unknown camera {cam[:40]!r} (known: {', '.join(sorted(known))})")
    return cam


def _recording(rel: str | None) -> Path:
    """Resolve a stored relative path inside the recordings folder (never outside it)."""
    if not rel:
        abort(404)
    root = Path(current_app.config["RECORDINGS"]).resolve()
    path = (root / rel).resolve()
    if root not in path.parents or not path.is_file():
        abort(404)
    return path


@bp.route("/")
@role_required("supervisor")
def index() -> str:
    page = _page()
    camera = _camera_filter()
    size = current_app.config["PAGE_SIZE"]
    db = get_db()
    events = list_events(db, camera=camera, limit=size + 1, offset=(page - 1) * size)
    return render_template(
        "index.html",
        events=events[:size],
        has_next=len(events) > size,
        page=page,
        camera=camera,
        cameras=camera_states(db),
        now=current_app.config["CLOCK"](),
    )


@bp.route("/events/<event_id>")
@role_required("supervisor")
def event(event_id: str) -> str:
    ev = get_event(get_db(), event_id)
    if ev is None:
        abort(404)
    return render_template("event.html", ev=ev)


@bp.route("/events/<event_id>/clip.mp4")
@role_required("supervisor")
def clip(event_id: str) -> Any:
    ev = get_event(get_db(), event_id)
    if ev is None or ev["clip_state"] != "complete":
        abort(404)
    # conditional=True answers Range requests with 206, so the browser can seek
    return send_file(_recording(ev["clip_path"]), mimetype="video/mp4", conditional=True,
                     download_name=f"{event_id}.mp4", as_attachment=request.args.get("download") == "1")


@bp.route("/events/<event_id>/thumbnail.jpg")
@role_required("supervisor")
def thumbnail(event_id: str) -> Any:
    ev = get_event(get_db(), event_id)
    if ev is None:
        abort(404)
    return send_file(_recording(ev["thumb_path"]), mimetype="image/jpeg", conditional=True, max_age=60)


@bp.route("/api/v1/events")
@role_required("supervisor")
def api_events() -> Any:
    page = _page()
    camera = _camera_filter()
    size = current_app.config["PAGE_SIZE"]
    return jsonify(list_events(get_db(), camera=camera, limit=size, offset=(page - 1) * size))


@bp.route("/api/v1/cameras")
@role_required("supervisor")
def api_cameras() -> Any:
    return jsonify(camera_states(get_db()))
