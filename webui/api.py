"""JSON API under /api/v1: events, cameras, occupancy, reports and its own OpenAPI 3.0 document."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, request, url_for

from monitor.ops.health import scrub
from monitor.counters.office_report import build_office_report, render_office_report
from monitor.counters.render import render_report
from monitor.counters.reports import build_report
from monitor.db.store import (camera_states, event_zones, get_event, minute_rollups, occupancy_now,
                           store_report_cache)
from webui import audit, tickets_api
from webui.auth import role_required
from webui.db import get_db
from webui.i18n import language
from webui.params import bad, parse_filters, parse_int, query_page
from webui.site import site_config

bp = Blueprint("api", __name__, url_prefix="/api/v1")

DEFAULT_LIMIT, MAX_LIMIT = 50, 500
MAX_OCCUPANCY_DAYS = 31  # 44,640 minute rows per zone: a month is the longest chart anyone draws
DEFAULT_OCCUPANCY_S = 3600
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def event_json(ev: dict[str, Any]) -> dict[str, Any]:
    """An events row as the API shows it: files as URLs, zones as a list, the review."""
    return {
        "id": ev["id"], "camera": ev["camera"], "start": ev["start"], "end": ev["end"],
        "length": ev["end"] - ev["start"] if ev["end"] is not None else None,
        "peak": ev["peak"], "zones": event_zones(ev),
        "clip_state": ev["clip_state"], "clip_duration": ev["clip_duration"],
        "reviewed": ev.get("reviewed_at") is not None, "reviewed_by": ev.get("reviewed_by"),
        "reviewed_at": ev.get("reviewed_at"), "note": ev.get("note"),
        "url": url_for("events.event", event_id=ev["id"]),
        "clip_url": url_for("events.clip", event_id=ev["id"]) if ev["clip_state"] == "complete" else None,
        "thumbnail_url": url_for("events.thumbnail", event_id=ev["id"]) if ev["thumb_path"] else None,
    }


@bp.route("/events")
@role_required("supervisor")
def events() -> Any:
    query = parse_filters(request.args)
    limit = parse_int(request.args, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    result, page = query_page(request.args, query.filters, limit)
    older, newer = (c.token() if c else None for c in (result.older, result.newer))
    return jsonify(events=[event_json(r) for r in result.events], limit=limit, filters=query.values,
                   has_next=older is not None, older=older, newer=newer, page=page)


@bp.route("/events/<event_id>")
@role_required("supervisor")
def event(event_id: str) -> Any:
    ev = get_event(get_db(), event_id)
    if ev is None:
        abort(404, description=f"no event {event_id[:60]!r}")
    return jsonify(event_json(ev))


@bp.route("/cameras")
@role_required("supervisor")
def cameras() -> Any:
    rows = camera_states(get_db())
    configured = {c.id: c for c in site_config().cameras}
    for row in rows:  # workers redact errors already; this also blanks a password quoted any other way
        if row["id"] in configured:
            row["error"] = scrub(row.get("error"), configured[row["id"]])
    return jsonify(rows)


def _camera_arg(required: bool = True) -> Any:
    cams = {c.id: c for c in site_config().cameras}
    raw = request.args.get("camera", "")
    if raw in cams:
        return cams[raw]
    if raw or required:
        bad("camera", f"one of {', '.join(sorted(cams)) or '(none configured)'}", raw)
    return None


def _instant(name: str, default: float, end_of_day: bool) -> float:
    """An ISO date or date-time (site time when no offset) as a unix time; a date `to` means its day's end."""
    raw = request.args.get(name, "")
    if raw == "":
        return default
    tz = site_config().site.tz
    try:
        if len(raw) > 40:
            raise ValueError(raw)
        if _ISO_DAY.fullmatch(raw):
            day = date.fromisoformat(raw) + timedelta(days=1 if end_of_day else 0)
            moment = datetime.combine(day, time(), tz)
        else:
            moment = datetime.fromisoformat(raw)
            moment = moment if moment.tzinfo else moment.replace(tzinfo=tz)
        if not 1970 <= moment.year <= 9998:
            raise ValueError(raw)
        return moment.timestamp()
    except (ValueError, OverflowError, OSError):
        bad(name, "an ISO date or date-time like 2026-11-24 or 2026-11-24T08:00 (years 1970-9998)", raw)


@bp.route("/occupancy")
@role_required("supervisor")
def occupancy() -> Any:
    cam = _camera_arg()
    zone_ids = [z.id for z in cam.zones]
    zone = request.args.get("zone", "")
    if zone and zone not in zone_ids:
        bad("zone", f"a zone of camera {cam.id}: one of {', '.join(zone_ids) or '(none)'}", zone)
    now = current_app.config["CLOCK"]()
    t1 = _instant("to", now, end_of_day=True)
    t0 = _instant("from", t1 - DEFAULT_OCCUPANCY_S, end_of_day=False)
    if t0 >= t1:
        bad("to", "a time after from", request.args.get("to", ""))
    if t1 - t0 > MAX_OCCUPANCY_DAYS * 86400:
        bad("to", f"at most {MAX_OCCUPANCY_DAYS} days after from", request.args.get("to", ""))
    db = get_db()
    rows = {z: minute_rollups(db, cam.id, z, t0, t1) for z in ([zone] if zone else zone_ids)}
    return jsonify(camera=cam.id, **{"from": t0, "to": t1}, zones=rows)


@bp.route("/occupancy/now")
@role_required("supervisor")
def occupancy_current() -> Any:
    cam = _camera_arg()
    return jsonify(camera=cam.id, zones=occupancy_now(get_db(), cam.id))


@bp.route("/reports")
@role_required("viewer")
def reports() -> Any:
    days = []
    for name in ("from", "to"):
        raw = request.args.get(name, "")
        try:
            if not _ISO_DAY.fullmatch(raw):
                raise ValueError(raw)
            days.append(date.fromisoformat(raw))
        except ValueError:
            bad(name, "a date like 2026-11-24", raw)
    by = request.args.get("by", "camera")
    if by not in ("camera", "office"):
        bad("by", "camera or office", by)
    if by == "office":  # per named counter, field and queue, tickets beside the cameras (docs/office.md)
        try:
            office = build_office_report(site_config(), get_db(), days[0], days[1])
        except ValueError as err:
            abort(400, description=str(err))
        audit.record("export", "api.reports", f"{days[0].isoformat()}..{days[1].isoformat()} by=office")
        return jsonify(json.loads(render_office_report(office, "json", language())))
    cam = _camera_arg(required=False)
    try:
        report = build_report(site_config(), get_db(), days[0], days[1], cam.id if cam else None)
    except ValueError as err:  # reversed or too long a range
        abort(400, description=str(err))
    store_report_cache(current_app.config["DATABASE"], report.cache_entries)  # the next request is fast
    audit.record("export", "api.reports", f"{days[0].isoformat()}..{days[1].isoformat()} camera={cam.id if cam else 'all'}")
    return jsonify(json.loads(render_report(report, "json", language())))


@bp.route("/openapi.json")
@role_required("viewer")
def openapi() -> Any:
    return jsonify(openapi_document())


# ---------------------------------------------------------------- the OpenAPI document


def _param(name: str, description: str, schema: dict[str, Any], required: bool = False,
           where: str = "query") -> dict[str, Any]:
    return {"name": name, "in": where, "required": required or where == "path",
            "description": description, "schema": schema}


_STR, _NUM, _INT, _BOOL = {"type": "string"}, {"type": "number"}, {"type": "integer"}, {"type": "boolean"}
_NULL_STR, _NULL_NUM = {"type": "string", "nullable": True}, {"type": "number", "nullable": True}
_ERRORS = {
    "400": {"$ref": "#/components/responses/BadRequest"},
    "401": {"$ref": "#/components/responses/Unauthorized"},
    "403": {"$ref": "#/components/responses/Forbidden"},
}
_FILTER_PARAMS = [
    _param("camera", "Camera id.", _STR),
    _param("zone", "Zone id where the event's motion was (of the camera, if given).", _STR),
    _param("date_from", "First local day, 2026-11-24 or 24/11/2026.", _STR),
    _param("date_to", "Last local day (inclusive), same formats.", _STR),
    _param("time_from", "Start time of day, HH:MM (local time).", _STR),
    _param("time_to", "End time of day, HH:MM, exclusive; before time_from wraps past midnight.", _STR),
    _param("min_length", "Minimum event length in seconds (0-86400).", {"type": "number", "minimum": 0}),
    _param("reviewed", "yes: reviewed only; no: not reviewed only.", {"type": "string", "enum": ["yes", "no"]}),
]


def _obj(properties: dict[str, Any], extra: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "required": sorted(properties), "properties": properties}
    if extra:
        schema["additionalProperties"] = True
    return schema


def _ok(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"200": {"description": description, "content": {"application/json": {"schema": schema}}}}


def _op(summary: str, role: str, params: list[dict[str, Any]], ok: dict[str, Any],
        extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"get": {"summary": summary, "description": f"Lowest role: {role}.", "parameters": params,
                    "responses": {**ok, **_ERRORS, **(extra or {})}}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _schemas() -> dict[str, Any]:
    ref = _ref("Minute")
    return {
        "Error": _obj({"error": _STR}),
        "Event": _obj({
            "id": _STR, "camera": _STR, "start": _NUM, "end": _NULL_NUM, "length": _NULL_NUM,
            "peak": _NULL_NUM, "zones": {"type": "array", "items": _STR},
            "clip_state": {"type": "string", "enum": ["recording", "complete", "failed", "none", "missing", "pruned"]},
            "clip_duration": _NULL_NUM, "reviewed": _BOOL, "reviewed_by": _NULL_STR, "reviewed_at": _NULL_NUM,
            "note": _NULL_STR, "url": _STR, "clip_url": _NULL_STR, "thumbnail_url": _NULL_STR,
        }),
        "EventPage": _obj({
            "events": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}},
            "limit": _INT, "has_next": _BOOL,
            "older": _NULL_STR | {"description": "Cursor of the next older page (pass as before); null at the oldest."},
            "newer": _NULL_STR | {"description": "Cursor of the next newer page (pass as after); null at the newest."},
            "page": {"type": "integer", "nullable": True, "description": "The page number asked for with page, else null."},
            "filters": {"type": "object", "additionalProperties": _STR},
        }),
        "Camera": _obj({"id": _STR, "name": _STR, "state": _NULL_STR, "state_since": _NULL_NUM,
                        "last_seen": _NULL_NUM, "reconnects": {"type": "integer", "nullable": True},
                        "info": {"type": "object"}}, extra=True),
        "Minute": _obj({"minute": _INT, "samples": _INT, "occupied_s": _INT, "count_sum": _NUM,
                        "count_max": _NUM, "count_mean": _NUM}),
        "Occupancy": _obj({"camera": _STR, "from": _NUM, "to": _NUM,
                           "zones": {"type": "object", "additionalProperties": {"type": "array", "items": ref}}}),
        "OccupancyNow": _obj({"camera": _STR, "zones": {"type": "object", "additionalProperties": _obj(
            {"t": _INT, "occupied": _BOOL, "count": _NUM})}}),
        "Report": _obj({"site": _STR, "date_from": _STR, "date_to": _STR, "camera": _NULL_STR,
                        "generated_at": _STR, "rows": {"type": "array", "items": {"type": "object"}}}),
    }


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.0 description of every /api/v1 route."""
    ref = _ref
    cursor = "a cursor from the older/newer field of a page (start and id of an event)"
    page = [_param("before", f"Events older than {cursor}.", _STR),
            _param("after", f"The events just newer than {cursor}.", _STR),
            _param("page", "1-based page number (old links; before/after cost the same at any depth).",
                   {"type": "integer", "minimum": 1}),
            _param("limit", f"Events per page (1-{MAX_LIMIT}).", {"type": "integer", "minimum": 1,
                                                                   "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT})]
    camera = _param("camera", "Camera id.", _STR, required=True)
    not_found = {"404": {"$ref": "#/components/responses/NotFound"}}
    moment = "ISO date or date-time; without an offset, the site's local time."
    paths = {
        "/events": _op("Events, newest first, filtered and paged.", "supervisor", _FILTER_PARAMS + page,
                       _ok(ref("EventPage"))),
        "/events/{event_id}": _op("One event.", "supervisor", [_param("event_id", "Event id.", _STR, where="path")],
                                  _ok(ref("Event")), not_found),
        "/cameras": _op("Cameras and their last reported state.", "supervisor", [],
                        _ok({"type": "array", "items": ref("Camera")})),
        "/occupancy": _op("Per-minute occupancy roll-ups of a camera's zones.", "supervisor", [
            camera, _param("zone", "One zone of the camera (default: all).", _STR),
            _param("from", f"{moment} Default: an hour before to.", _STR),
            _param("to", f"{moment} A date means the end of that day. Default: now. "
                         f"At most {MAX_OCCUPANCY_DAYS} days after from.", _STR)], _ok(ref("Occupancy"))),
        "/occupancy/now": _op("The latest sample of each zone of a camera.", "supervisor", [camera],
                              _ok(ref("OccupancyNow"))),
        "/reports": _op("Counter report per day and hour (the JSON of the report downloads).", "viewer", [
            _param("from", "First day, 2026-11-24.", _STR, required=True),
            _param("to", "Last day (inclusive), at most 366 days.", _STR, required=True),
            _param("camera", "Camera id (default: all).", _STR),
            _param("by", "camera (default): per camera's counters; office: per named counter, field and queue, "
                         "with ticket figures and agreement rows (docs/office.md).",
                   {"type": "string", "enum": ["camera", "office"]})], _ok(ref("Report"))),
        "/openapi.json": _op("This document.", "viewer", [], _ok({"type": "object"})),
        "/tickets": tickets_api.openapi_path(),
    }

    def error(description: str) -> dict[str, Any]:
        return {"description": description, "content": {"application/json": {"schema": ref("Error")}}}

    return {
        "openapi": "3.0.3",
        "info": {"title": "onestop-monitor API", "version": "1",
                 "description": "Log in through /login first: the API uses the web session cookie."},
        "servers": [{"url": "/api/v1"}],
        "paths": paths,
        "components": {
            "schemas": _schemas(),
            "responses": {
                "BadRequest": error("A parameter is not valid; the error names it and what is valid."),
                "Unauthorized": error("Not logged in."),
                "Forbidden": error("The account's role may not use this route."),
                "NotFound": error("No such item."),
            },
            "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": "session"},
                                "feedToken": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"session": []}],
    }
