"""Continuous recordings (supervisor and admin): one camera's day of segments on a bar, and a player that
plays any moment of it across segment boundaries (webui/static/recordings.js), with the segment files
served by Range requests, audited like event clips, and an H.264 rendition for H.265 cameras."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, render_template, request, send_file, url_for
from werkzeug.exceptions import NotFound

from monitor.camera.rendition import needs_rendition
from monitor.counters.reports import day_window
from monitor.db.segments import Segment, get_segment, segments_between
from monitor.records import Interval, merge_intervals
from monitor.site.config import Config
from webui import audit
from webui.auth import role_required
from webui.db import get_db
from webui.masking import masked_download
from webui.media import first_range, recording_file, rendition_or_abort
from webui.params import bad, parse_day
from webui.site import site_config

bp = Blueprint("recordings", __name__)

BAR_W = 1000  # SVG user units across the bar
JOIN_GAP_S = 1.5  # segments closer than this are one span on the bar (a keyframe cut leaves no real gap)
DEFAULT_HOURS = (7, 18)  # the bar's hours on a day with neither footage nor opening hours


@dataclass(frozen=True)
class Bar:
    """The day's bar: its time range, the recorded spans and the hour ticks, in SVG units."""

    t0: float
    t1: float
    spans: list[tuple[float, float, float, float]]  # (x, w, start, end)
    hours: list[tuple[float, str]]
    opening: list[tuple[float, float]]  # (x, w) of the opening periods

    def x(self, t: float) -> float:
        return (min(max(t, self.t0), self.t1) - self.t0) / (self.t1 - self.t0) * BAR_W


def _whole_hours(day: date, tz: Any, times: list[float], window: Interval) -> tuple[float, float]:
    if not times:
        return tuple(datetime.combine(day, time(h), tzinfo=tz).timestamp() for h in DEFAULT_HOURS)  # type: ignore[return-value]
    t0 = math.floor(min(times) / 3600) * 3600  # the zones used here are whole hours from UTC
    t1 = math.ceil(max(times) / 3600) * 3600
    return max(t0, window.start), min(max(t1, t0 + 3600), window.end)


def build_bar(config: Config, day: date, segments: list[Segment]) -> Bar:
    """The bar for one day: whole hours covering the footage and the opening periods."""
    tz = config.site.tz
    window = day_window(day, tz)
    periods = config.site.opening_hours.spans(day, tz)
    times = [p.start for p in periods] + [p.end for p in periods] + [s.start for s in segments] + [s.end for s in segments]
    t0, t1 = _whole_hours(day, tz, times, window)
    bar = Bar(t0, t1, [], [], [])
    for span in merge_intervals([Interval(s.start, s.end) for s in segments], JOIN_GAP_S):
        bar.spans.append((bar.x(span.start), max(bar.x(span.end) - bar.x(span.start), 1.0), span.start, span.end))
    for p in periods:
        bar.opening.append((bar.x(p.start), bar.x(p.end) - bar.x(p.start)))
    hour = t0
    while hour <= t1:
        bar.hours.append((bar.x(hour), datetime.fromtimestamp(hour, tz).strftime("%H:%M")))
        hour += 3600
    return bar


def _camera(config: Config) -> Any:
    raw = request.args.get("camera") or ""
    if not raw:
        recording = [c for c in config.cameras if c.recording != "events"]
        return (recording or config.cameras or [None])[0]
    for cam in config.cameras:
        if cam.id == raw:
            return cam
    bad("camera", f"one of {', '.join(c.id for c in config.cameras)}", raw)


def _at(day: date, tz: Any) -> float | None:
    """The ?at=HH:MM[:SS] moment of the day to start at, if given."""
    raw = request.args.get("at") or ""
    if not raw:
        return None
    try:
        moment = time.fromisoformat(raw)
    except ValueError:
        bad("at", "a time of day like 09:30 or 09:30:15", raw)
    return datetime.combine(day, moment, tzinfo=tz).timestamp()


def _payload(segments: list[Segment]) -> list[dict[str, Any]]:
    return [{"id": s.id, "start": round(s.start, 3), "end": round(s.end, 3),
             "src": url_for("recordings.segment", segment_id=s.id),
             "alt": url_for("recordings.segment_rendition", segment_id=s.id)} for s in segments]


@bp.route("/recordings")
@role_required("supervisor")
def index() -> str:
    config: Config = site_config()
    tz = config.site.tz
    today = datetime.fromtimestamp(current_app.config["CLOCK"](), tz).date()
    day, cam = parse_day("date", request.args.get("date") or "") or today, _camera(config)
    at = _at(day, tz)
    segments: list[Segment] = []
    if cam is not None:
        window = day_window(day, tz)
        segments = segments_between(get_db(), cam.id, window.start, window.end)
        audit.record("recordings_view", cam.id, day.isoformat())
    hevc = bool(segments) and _is_hevc(segments[0])
    return render_template("recordings/index.html", cameras=config.cameras, cam=cam, day=day, today=today,
                           timedelta=timedelta, bar=build_bar(config, day, segments), segments=_payload(segments),
                           hevc=hevc, at=at, day_start=day_window(day, tz).start, bar_w=BAR_W)


def _is_hevc(segment: Segment) -> bool:
    """Whether the camera's footage needs an H.264 rendition in browsers without HEVC (one file tells)."""
    try:
        return needs_rendition(recording_file(segment.path))
    except NotFound:  # the player reports the missing file
        return False


def _segment_or_404(segment_id: int) -> tuple[Segment, Path]:
    segment = get_segment(get_db(), segment_id)
    if segment is None:
        abort(404)
    return segment, recording_file(segment.path)


@bp.route("/recordings/segments/<int:segment_id>.mp4")
@role_required("supervisor")
def segment(segment_id: int) -> Any:
    seg, path = _segment_or_404(segment_id)
    download = request.args.get("download") == "1"
    name = f"{seg.camera}-{Path(seg.path).parent.parent.name}-{path.name}"
    if first_range():
        audit.record("segment_download" if download else "segment_view", seg.path, seg.camera)
    if download and (masked := masked_download(path, seg.camera, name)) is not None:
        return masked  # footage leaving the system carries the camera's privacy masks
    return send_file(path, mimetype="video/mp4", conditional=True, as_attachment=download, download_name=name)


@bp.route("/recordings/segments/<int:segment_id>.h264.mp4")
@role_required("supervisor")
def segment_rendition(segment_id: int) -> Any:
    """The H.264 rendition of an H.265 segment (made on first request, cached with the clip renditions)."""
    seg, path = _segment_or_404(segment_id)
    rendition = rendition_or_abort(f"segment-{seg.id}", path)
    if first_range():
        audit.record("segment_view", seg.path, seg.camera)
    return send_file(rendition, mimetype="video/mp4", conditional=True, download_name=f"segment-{seg.id}.h264.mp4")
