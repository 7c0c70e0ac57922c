"""Serving recorded files (event clips, continuous segments): safe path resolution and the audit rule."""

from __future__ import annotations

from pathlib import Path

from flask import abort, current_app, request

from monitor.camera.rendition import RenditionError, get_rendition, needs_rendition


def recording_file(rel: str | None) -> Path:
    """Resolve a stored relative path inside the recordings folder (never outside it); 404 if not a file."""
    if not rel:
        abort(404)
    root = Path(current_app.config["RECORDINGS"]).resolve()
    path = (root / rel).resolve()
    if root not in path.parents or not path.is_file():
        abort(404)
    return path


def first_range() -> bool:
    """Whether this request starts reading the file (no Range, or from byte 0).

    A player fetches a video in many Range requests while it plays and seeks; the audit log wants
    one row per viewing, not one per chunk.
    """
    ranges = request.headers.get("Range", "").replace(" ", "")
    return ranges == "" or ranges.startswith("bytes=0-")


def rendition_or_abort(key: str, path: Path) -> Path:
    """The cached H.264 rendition of an H.265 file, made now if missing; 404 when the file plays everywhere,
    503 when it cannot be made."""
    if not needs_rendition(path):
        abort(404)
    try:
        return get_rendition(Path(current_app.config["RECORDINGS"]), key, path)
    except RenditionError as err:
        current_app.logger.error("%s: %s", key, err)
        abort(503)
