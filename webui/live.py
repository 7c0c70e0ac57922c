"""Live page: each camera's latest frame, as a refreshed JPEG or an MJPEG stream.

Supervisors and admins see the picture as recorded; viewers see it with the camera's privacy masks
blurred (cameras.yaml `privacy_masks`, monitor/camera/privacy.py).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from flask import Blueprint, Response, abort, current_app, render_template
from flask_login import current_user

from monitor.camera.privacy import PrivacyMask, mask_jpeg
from monitor.db.store import camera_states
from monitor.db.users import role_at_least
from monitor.layout import live_snapshot_path, mark_watched
from webui.db import get_db
from webui.auth import role_required
from webui.site import site_config

log = logging.getLogger(__name__)

bp = Blueprint("live", __name__)

BOUNDARY = "frame"
MJPEG_MAX_STREAMS = 2  # a stream holds one of waitress's 8 threads (monitor/supervisor.py): six stay for the pages
MJPEG_MAX_S = 600.0  # a stream ends after 10 minutes so a forgotten tab does not hold a thread for ever
MJPEG_POLL_S = 0.2  # the worker replaces live.jpg once a second; look five times as often
SNAPSHOT_REFRESH_MS = 1000


def _snapshot(camera: str) -> Path:
    """The camera's live.jpg path; 404 for a camera not in the configuration (no path comes from the URL)."""
    cameras = {c.id for c in site_config().cameras}
    if camera not in cameras:
        abort(404)
    recordings = Path(current_app.config["RECORDINGS"])
    mark_watched(recordings, camera)  # the worker writes a snapshot a second only while someone watches
    return live_snapshot_path(recordings, camera)


def _read(path: Path, mask: PrivacyMask | None = None) -> bytes | None:
    """The JPEG (masked when a mask is given), or None when there is none (or it cannot be masked)."""
    try:
        data = path.read_bytes()  # the worker replaces the file atomically: a read sees one whole JPEG
    except (FileNotFoundError, NotADirectoryError):
        return None
    return data if mask is None else mask_jpeg(data, mask)  # never the unmasked picture to a viewer


_masks_lock = threading.Lock()


def _viewer_mask(camera: str) -> PrivacyMask | None:
    """The camera's privacy mask when the user is a viewer and the camera has one; else None."""
    if role_at_least(current_user.role, "supervisor"):
        return None
    polygons = site_config().camera(camera).privacy_masks
    if not polygons:
        return None
    key = (camera, tuple(tuple(p) for p in polygons))  # a reloaded cameras.yaml with new polygons: a new mask
    with _masks_lock:
        masks = current_app.extensions.setdefault("onestop_privacy_masks", {})
        if key not in masks:
            masks[key] = PrivacyMask(polygons)
        return masks[key]


@bp.route("/live")
@role_required("viewer")
def index() -> str:
    states = {c["id"]: c for c in camera_states(get_db())}
    cameras = [{"id": c.id, "name": c.name, "state": (states.get(c.id) or {}).get("state")
                or ("disabled" if not c.enabled else "unknown")}
               for c in site_config().cameras]
    return render_template("live/index.html", cameras=cameras, refresh_ms=SNAPSHOT_REFRESH_MS)


@bp.route("/live/<camera>.jpg")
@role_required("viewer")
def snapshot(camera: str) -> Response:
    path = _snapshot(camera)
    data = _read(path, _viewer_mask(camera))
    if data is None:
        abort(404)
    return Response(data, mimetype="image/jpeg", headers={"Cache-Control": "no-store"})


def _slots() -> threading.BoundedSemaphore:
    with _slots_lock:
        slots = current_app.extensions.get("onestop_mjpeg")
        if slots is None:
            slots = threading.BoundedSemaphore(current_app.config.get("MJPEG_MAX_STREAMS", MJPEG_MAX_STREAMS))
            current_app.extensions["onestop_mjpeg"] = slots
        return slots


_slots_lock = threading.Lock()


@bp.route("/live/<camera>.mjpeg")
@role_required("viewer")
def mjpeg(camera: str) -> Response:
    path = _snapshot(camera)
    mask = _viewer_mask(camera)
    slots = _slots()
    if not slots.acquire(blocking=False):
        log.info("%s: MJPEG stream refused, every stream slot is busy", camera)
        return Response("too many live streams open; close one or use the snapshot view\n", status=503,
                        mimetype="text/plain", headers={"Retry-After": "30"})
    max_s = float(current_app.config.get("MJPEG_MAX_S", MJPEG_MAX_S))
    response = Response(_frames(path, max_s, mask), mimetype=f"multipart/x-mixed-replace; boundary={BOUNDARY}",
                        headers={"Cache-Control": "no-store"})
    # Runs when the server closes the response: at the end, or when the viewer goes away.
    response.call_on_close(slots.release)
    return response


def _frames(path: Path, max_s: float, mask: PrivacyMask | None = None) -> Iterator[bytes]:
    """One multipart part per new version of live.jpg, until max_s seconds have passed."""
    deadline = time.monotonic() + max_s
    seen: tuple[int, int] | None = None
    marked = time.monotonic()
    while time.monotonic() < deadline:
        if time.monotonic() - marked >= 2.0:  # keep the worker's watch mark fresh while streaming
            mark_watched(path.parent.parent, path.parent.name)
            marked = time.monotonic()
        try:
            st = path.stat()
            version = (st.st_mtime_ns, st.st_size)
        except OSError:
            version = None
        if version is not None and version != seen:
            data = _read(path, mask)
            if data:
                seen = version
                yield (f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(data)}\r\n\r\n"
                       .encode("ascii") + data + b"\r\n")
                continue
        time.sleep(MJPEG_POLL_S)
    yield f"--{BOUNDARY}--\r\n".encode("ascii")

