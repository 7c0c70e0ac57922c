"""Events pages (supervisor and admin): the filtered list, one event with its clip and review, files."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request, send_file,
                   url_for)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import NotFound

from monitor.camera.rendition import RenditionError, get_rendition, needs_rendition
from monitor.db.store import Cursor, EventFilter, EventPage, event_zones, get_event, page_events, review_event
from webui import audit, get_db, write_db
from webui.auth import role_required

bp = Blueprint("events", __name__)

MAX_PAGE = 100_000  # the page number itself; the row offset has its own cap below
# Pages are reached by cursor (before/after: the start and id of an event), which costs the same at
# any depth. `page=` is kept for old links and bookmarks; its OFFSET walks every skipped index entry
# (100,000 rows cost ~25 ms on a 1M-event database), so it stops there.
MAX_OFFSET = 100_000
MAX_MIN_LENGTH_S = 86_400
NOTE_MAX_CHARS = 2000
FILTER_FIELDS = ("camera", "zone", "date_from", "date_to", "time_from", "time_to", "min_length", "reviewed")
REVIEWED = {"": None, "yes": True, "no": False}

_NUMBER = re.compile(r"[0-9]{1,9}")
_SECONDS = re.compile(r"[0-9]{1,6}(\.[0-9]{1,3})?")
_ISO_DAY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_VI_DAY = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")
_CLOCK = re.compile(r"([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?")


def bad(name: str, expected: str, raw: str) -> Any:
    """Abort with a 400 whose one line names the parameter, what is valid and what came."""
    abort(400, description=f"{name}: expected {expected}, got {raw[:40]!r}")


@dataclass(frozen=True)
class Query:
    """A parsed events query: the store filter and the non-empty raw values (for forms and links)."""

    filters: EventFilter
    values: dict[str, str]


def parse_int(args: MultiDict[str, str], name: str, default: int, lo: int, hi: int) -> int:
    """A whole-number parameter in [lo, hi] (ASCII digits only: '²'.isdigit() is True, int('²') fails)."""
    raw = args.get(name, "")
    if raw == "":
        return default
    if not _NUMBER.fullmatch(raw) or not lo <= int(raw) <= hi:
        bad(name, f"a whole number from {lo} to {hi}", raw)
    return int(raw)


def parse_page(args: MultiDict[str, str], size: int) -> int:
    """The 1-based page number, refused past MAX_OFFSET rows."""
    page = parse_int(args, "page", 1, 1, MAX_PAGE)
    last = MAX_OFFSET // size + 1
    if page > last:
        bad("page", f"at most {last} with {size} events per page (the older link goes further back)",
            str(page))
    return page


def parse_cursor(args: MultiDict[str, str]) -> tuple[Cursor | None, Cursor | None]:
    """The (before, after) cursors of the older/newer links; at most one, and not with page."""
    found = {}
    for name in ("before", "after"):
        raw = args.get(name, "")
        if raw:
            try:
                found[name] = Cursor.parse(raw)
            except ValueError:
                bad(name, "a cursor from an older/newer link, like 1795000000.25_quay-1-20261124-080000-a1b2c3", raw)
    if len(found) == 2:
        bad("after", "no after together with before (one direction at a time)", args["after"])
    if found and args.get("page", ""):
        bad("page", "no page together with a before/after cursor", args["page"])
    return found.get("before"), found.get("after")


def query_page(args: MultiDict[str, str], filters: EventFilter, size: int) -> tuple[EventPage, int | None]:
    """The page a query asks for (a cursor, an old-style page number or the newest) and its page number."""
    before, after = parse_cursor(args)
    page = parse_page(args, size) if args.get("page", "") else None
    offset = (page - 1) * size if page else 0
    return page_events(get_db(), filters, size, before=before, after=after, offset=offset), page


def _day(name: str, raw: str) -> date | None:
    if raw == "":
        return None
    iso, vi = _ISO_DAY.fullmatch(raw), _VI_DAY.fullmatch(raw)
    try:
        if iso:
            y, m, d = (int(v) for v in iso.groups())
        elif vi:
            d, m, y = (int(v) for v in vi.groups())
        else:
            raise ValueError(raw)
        if not 1970 <= y <= 9998:
            raise ValueError(raw)
        return date(y, m, d)
    except ValueError:
        bad(name, "a date like 2026-11-24 or 24/11/2026 (years 1970-9998)", raw)


parse_day = _day  # the same date parameter on other pages (the audit log)


def _clock(name: str, raw: str) -> int | None:
    if raw == "":
        return None
    m = _CLOCK.fullmatch(raw)
    h, mi, s = (int(v or 0) for v in m.groups()) if m else (99, 0, 0)
    if h > 23 or mi > 59 or s > 59:
        bad(name, "a time of day like 07:30 (00:00 to 23:59)", raw)
    return h * 3600 + mi * 60 + s


def _camera_and_zone(args: MultiDict[str, str]) -> tuple[str | None, str | None]:
    cameras = {c.id: c for c in current_app.config["ONESTOP"].cameras}
    cam, zone = args.get("camera", ""), args.get("zone", "")
    if cam and cam not in cameras:
        bad("camera", f"one of {', '.join(sorted(cameras)) or '(none configured)'}", cam)
    if zone:
        zones = sorted({z.id for c in cameras.values() if not cam or c.id == cam for z in c.zones})
        if zone not in zones:
            where = f"a zone of camera {cam}" if cam else "a configured zone"
            bad("zone", f"{where}: one of {', '.join(zones) or '(none)'}", zone)
    return cam or None, zone or None


def parse_filters(args: MultiDict[str, str]) -> Query:
    """The events filters of a query string; a bad value aborts with a 400 naming the parameter."""
    config = current_app.config["ONESTOP"]
    tz = config.site.tz
    camera, zone = _camera_and_zone(args)
    first, last = _day("date_from", args.get("date_from", "")), _day("date_to", args.get("date_to", ""))
    if first and last and first > last:
        bad("date_to", f"a day on or after date_from {first.isoformat()}", args["date_to"])
    tod_from, tod_to = _clock("time_from", args.get("time_from", "")), _clock("time_to", args.get("time_to", ""))
    if tod_from is not None and tod_from == tod_to:
        bad("time_to", "a time different from time_from", args["time_to"])
    raw_len = args.get("min_length", "")
    if raw_len and (not _SECONDS.fullmatch(raw_len) or float(raw_len) > MAX_MIN_LENGTH_S):
        bad("min_length", f"seconds from 0 to {MAX_MIN_LENGTH_S}, like 30 or 2.5", raw_len)
    reviewed = args.get("reviewed", "")
    if reviewed not in REVIEWED:
        bad("reviewed", "yes, no or nothing (both)", reviewed)
    filters = EventFilter(
        camera=camera, zone=zone,
        since=datetime.combine(first, time(), tz).timestamp() if first else None,
        until=datetime.combine(last + timedelta(days=1), time(), tz).timestamp() if last else None,
        tod_from=tod_from, tod_to=tod_to, tz=tz,
        min_length=float(raw_len) if raw_len else None, reviewed=REVIEWED[reviewed],
    )
    values = {k: args[k] for k in FILTER_FIELDS if args.get(k)}
    return Query(filters, values)


def _recording(rel: str | None) -> Path:
    """Resolve a stored relative path inside the recordings folder (never outside it)."""
    if not rel:
        abort(404)
    root = Path(current_app.config["RECORDINGS"]).resolve()
    path = (root / rel).resolve()
    if root not in path.parents or not path.is_file():
        abort(404)
    return path


def _zone_choices() -> list[tuple[str, str]]:
    """(zone id, label) of every configured zone, for the filter form."""
    seen: dict[str, list[str]] = {}
    for cam in current_app.config["ONESTOP"].cameras:
        for z in cam.zones:
            seen.setdefault(z.id, []).append(cam.name)
    return [(zid, f"{zid} ({', '.join(names)})") for zid, names in sorted(seen.items())]


@bp.route("/events")
@role_required("supervisor")
def index() -> str:
    query = parse_filters(request.args)
    result, _page = query_page(request.args, query.filters, current_app.config["PAGE_SIZE"])
    return render_template(
        "events.html",
        events=result.events,
        older=result.older.token() if result.older else None,
        newer=result.newer.token() if result.newer else None,
        values=query.values,
        cameras=current_app.config["ONESTOP"].cameras,
        zones=_zone_choices(),
    )


@bp.route("/events/<event_id>")
@role_required("supervisor")
def event(event_id: str) -> str:
    ev = _event_or_404(event_id)
    rendition = _offers_rendition(ev)
    return render_template("event.html", ev=ev, zones=event_zones(ev), note_max=NOTE_MAX_CHARS,
                           rendition=rendition)


def _offers_rendition(ev: dict[str, Any]) -> bool:
    """Whether the player offers an H.264 rendition after the clip (an H.265 clip on disk)."""
    if ev["clip_state"] != "complete":
        return False
    try:
        return needs_rendition(_recording(ev["clip_path"]))
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
    return ev, _recording(ev["clip_path"])


@bp.route("/events/<event_id>/clip.mp4")
@role_required("supervisor")
def clip(event_id: str) -> Any:
    ev, path = _clip_or_404(event_id)
    download = request.args.get("download") == "1"
    if _first_range():
        audit.record("clip_download" if download else "clip_view", event_id, ev["camera"])
    # conditional=True answers Range requests with 206, so the browser can seek
    return send_file(path, mimetype="video/mp4", conditional=True, download_name=f"{event_id}.mp4",
                     as_attachment=download)


@bp.route("/events/<event_id>/clip.h264.mp4")
@role_required("supervisor")
def clip_rendition(event_id: str) -> Any:
    """The H.264 rendition of an H.265 clip, for browsers without HEVC (made on first request, cached)."""
    ev, path = _clip_or_404(event_id)
    if not needs_rendition(path):
        abort(404)  # the clip itself plays everywhere
    try:
        rendition = get_rendition(Path(current_app.config["RECORDINGS"]), event_id, path)
    except RenditionError as err:
        current_app.logger.error("%s: %s", event_id, err)
        abort(503)
    if _first_range():
        audit.record("clip_view", event_id, ev["camera"])
    return send_file(rendition, mimetype="video/mp4", conditional=True, download_name=f"{event_id}.h264.mp4")


def _first_range() -> bool:
    """Whether this request starts reading the clip (no Range, or from byte 0).

    A player fetches a clip in many Range requests while it plays and seeks; the audit log wants
    one row per viewing, not one per chunk.
    """
    ranges = request.headers.get("Range", "").replace(" ", "")
    return ranges == "" or ranges.startswith("bytes=0-")


@bp.route("/events/<event_id>/thumbnail.jpg")
@role_required("supervisor")
def thumbnail(event_id: str) -> Any:
    ev = _event_or_404(event_id)
    return send_file(_recording(ev["thumb_path"]), mimetype="image/jpeg", conditional=True, max_age=60)
