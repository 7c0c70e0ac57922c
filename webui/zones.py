"""Zone and mask editor (admin): polygons drawn on a current picture of the camera, saved to cameras.yaml."""

from __future__ import annotations

import logging
import time
from typing import Annotated, Any

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator

from monitor.site import write as config_write
from monitor.site.config import ConfigError, Polygon, Zone, ZoneKind
from monitor.site.office import seats_in_waiting_areas
from monitor.site.errors import raise_duplicates
from monitor.camera.streamcheck import StreamCheckError, check_stream, is_jpeg
from monitor.detect.tiles import HEAD_HEIGHT_SLOPE, body_drawn_zones
from monitor.layout import live_snapshot_path, mark_watched
from webui.auth import role_required
from webui.cameras import Problem, camera_or_404, save
from webui.site import site_config

log = logging.getLogger(__name__)

bp = Blueprint("zones", __name__)

SNAPSHOT_FRESH_S = 120.0  # a live picture this recent shows the scene as it is now
ZONE_KINDS: tuple[str, ...] = ZoneKind.__args__  # type: ignore[attr-defined]
KIND_LABELS = {
    "staff_seat": _l("Staff seat"),
    "service_spot": _l("Service spot"),
    "waiting_area": _l("Waiting area"),
    "motion": _l("Motion only"),
}


class ZonesInput(BaseModel):
    """What the editor posts: the camera's zones, detection masks and privacy masks (None: leave those as they are)."""

    model_config = ConfigDict(extra="forbid")
    zones: list[Zone]
    masks: Annotated[list[Polygon], BeforeValidator(lambda v: [] if v is None else v)] = []
    privacy_masks: list[Polygon] | None = None

    @model_validator(mode="after")
    def _unique_ids(self) -> ZonesInput:
        raise_duplicates([z.id for z in self.zones], "zones", "zone")
        return self


def validation_line(err: ValidationError) -> str:
    """The first pydantic error as `zones[0].points: message`."""
    first = err.errors(include_url=False)[0]
    path = ""
    for part in first["loc"]:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    message = str((first.get("ctx") or {}).get("error", first["msg"]))
    return f"{path}: {message}" if path else message


@bp.route("/cameras/<camera_id>/zones")
@role_required("admin")
def editor(camera_id: str) -> str:
    cam = camera_or_404(camera_id)
    data = {"zones": [z.model_dump(mode="json") for z in cam.zones], "masks": _points(cam.masks),
            "privacy_masks": _points(cam.privacy_masks), "head_height_slope": HEAD_HEIGHT_SLOPE,
            **_drawing_checks(cam.zones)}
    kinds = {k: str(KIND_LABELS.get(k, k)) for k in ZONE_KINDS}
    return render_template("zones/editor.html", cam=cam, data=data, kinds=kinds, text=_page_text(kinds))


def _points(polygons: list[list[tuple[float, float]]]) -> list[list[list[float]]]:
    """Polygons as JSON lists of [x, y]."""
    return [[list(p) for p in poly] for poly in polygons]


def _page_text(kinds: dict[str, str]) -> dict[str, Any]:
    """The strings zones.js shows, translated here (the script has no catalogue of its own)."""
    return {
        "kinds": kinds, "mask": _("detection mask"), "privacy": _("privacy mask"), "near": _("near"), "far": _("far"),
        "corners": _("Corners:"), "saving": _("Saving…"), "saved": _("Saved."), "failed": _("Could not save:"),
        "drawn_as_body": _("Drawn around a person, not the floor:"),
        "covers_seats": _("Waiting area drawn over the counters:"),
        "no_picture": _("No picture from this camera: zones can still be edited, but check them on a live view."),
    }


@bp.route("/cameras/<camera_id>/zones", methods=["POST"])
@role_required("admin")
def save_zones(camera_id: str) -> Any:
    cam = camera_or_404(camera_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify(error=_("Expected a JSON object with zones, masks and privacy_masks.")), 400
    try:
        parsed = ZonesInput.model_validate(body)
    except ValidationError as err:
        return jsonify(error=validation_line(err)), 400
    zones = [z.model_dump(mode="json", exclude_none=True) for z in parsed.zones]
    masks = _points(parsed.masks)
    privacy = _points(cam.privacy_masks if parsed.privacy_masks is None else parsed.privacy_masks)
    change = _privacy_change(cam.privacy_masks, privacy)
    try:
        save(f"zones saved: zones {len(zones)}, detection masks {len(masks)}, {change}", cam.id,
             config_write.set_zones, cam.id, zones, masks, privacy)
    except Problem as err:
        return jsonify(error=str(err)), err.status
    return jsonify(ok=True, zones=len(zones), masks=len(masks), privacy_masks=len(privacy), **_drawing_checks(parsed.zones))


def _drawing_checks(zones: list[Zone]) -> dict[str, list]:
    """Zones drawn around the people rather than the floor: seats and spots as tall as a person (drawn_as_body), and
    the waiting areas over a seat or spot with the seats they cover (covers_seats: [[area, seat], ...])."""
    return {"drawn_as_body": body_drawn_zones(zones), "covers_seats": [list(p) for p in seats_in_waiting_areas(zones)]}


def _privacy_change(old: list[list[tuple[float, float]]], new: list[list[list[float]]]) -> str:
    """The audit words for the privacy masks: `privacy masks 1 -> 2`, with ` (changed)` when what is stored changes."""
    def stored(polygons: Any) -> list[list[tuple[float, float]]]:
        digits = config_write.COORD_DIGITS
        return [[(round(x, digits), round(y, digits)) for x, y in poly] for poly in polygons]

    words = f"privacy masks {len(old)} -> {len(new)}"
    return words + " (changed)" if stored(old) != stored(new) else words


@bp.route("/cameras/<camera_id>/snapshot.jpg")
@role_required("admin")
def snapshot(camera_id: str) -> Response:
    """A current picture: the worker's live snapshot, else one frame from the stream, else an older snapshot."""
    cam = camera_or_404(camera_id)
    recordings = site_config().storage.recordings
    mark_watched(recordings, cam.id)
    live = live_snapshot_path(recordings, cam.id)
    if is_jpeg(live) and time.time() - live.stat().st_mtime < SNAPSHOT_FRESH_S:
        return _jpeg(live.read_bytes())
    try:
        url = cam.stream_url("sub") or cam.stream_url("main")
        return _jpeg(check_stream(url).jpeg)
    except (StreamCheckError, ConfigError) as err:
        log.info("%s: no picture for the zone editor: %s", cam.id, err)
    if is_jpeg(live):
        return _jpeg(live.read_bytes())
    abort(404)


def _jpeg(data: bytes) -> Response:
    return Response(data, mimetype="image/jpeg", headers={"Cache-Control": "no-store"})
