"""Prometheus text exposition (format 0.0.4) of camera health, events, zone occupancy and disk usage."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from monitor.ops.health import HEALTH_STATES, CameraHealth, DiskUsage

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Labels = dict[str, str]


@dataclass(frozen=True)
class ZoneReading:
    """A zone's latest fresh sample."""

    camera: str
    zone: str
    kind: str
    occupied: bool
    people: float


@dataclass
class Family:
    """One metric: name, type, help and its samples."""

    name: str
    kind: str  # gauge | counter
    help: str
    samples: list[tuple[Labels, float]] = field(default_factory=list)

    def add(self, labels: Labels, value: float | int | bool | None) -> None:
        """Add a sample; None (unknown) is left out, as Prometheus expects of missing data."""
        if value is not None:
            self.samples.append((labels, float(value)))


def escape_label(value: str) -> str:
    """A label value as the text format wants it: backslash, double quote and newline escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def escape_help(text: str) -> str:
    """HELP text: backslash and newline escaped."""
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def format_value(value: float) -> str:
    """Integers without a fraction, others in Python's shortest round-trip form; NaN/Inf as Prometheus spells them."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)


def render(families: Iterable[Family]) -> str:
    """The exposition text: HELP and TYPE lines, then one line per sample."""
    lines: list[str] = []
    for fam in families:
        lines.append(f"# HELP {fam.name} {escape_help(fam.help)}")
        lines.append(f"# TYPE {fam.name} {fam.kind}")
        for labels, value in fam.samples:
            body = ",".join(f'{k}="{escape_label(v)}"' for k, v in labels.items())
            lines.append(f"{fam.name}{{{body}}} {format_value(value)}" if body else f"{fam.name} {format_value(value)}")
    return "\n".join(lines) + "\n"


# (stats key, metric name, type, help): the worker's heartbeat figures (monitor/camera/stats.py) per camera
_STATS = [
    ("input_fps", "onestop_camera_input_fps", "gauge", "Main-stream video packets received per second."),
    ("sub_fps", "onestop_camera_sub_input_fps", "gauge", "Detect sub-stream frames decoded per second."),
    ("detect_fps", "onestop_camera_detect_fps", "gauge", "Frames analysed by detection per second."),
    ("dropped", "onestop_camera_dropped_frames_total", "counter",
     "Detect frames skipped because the worker was behind real time (since the worker started)."),
    ("lag_s", "onestop_camera_lag_seconds", "gauge", "How far detection trails the live stream."),
    ("last_frame_age_s", "onestop_camera_last_frame_age_seconds", "gauge", "Seconds since the last detect frame."),
    ("bitrate_bps", "onestop_camera_bitrate_bits_per_second", "gauge", "Main-stream bitrate."),
    ("cpu_pct", "onestop_worker_cpu_percent", "gauge", "CPU of the camera's worker process (100 = one core)."),
    ("rss_bytes", "onestop_worker_resident_memory_bytes", "gauge", "Resident memory of the camera's worker process."),
]


def camera_families(cameras: list[CameraHealth], events: dict[str, int], now: float) -> list[Family]:
    """Per-camera state, worker figures, reconnects and events."""
    up = Family("onestop_camera_up", "gauge", "1 when the camera's streams are online, else 0.")
    state = Family("onestop_camera_state", "gauge", "1 for the camera's current state: " + ", ".join(HEALTH_STATES) + ".")
    down = Family("onestop_camera_down_seconds", "gauge", "Seconds since an enabled camera stopped being online.")
    reconnects = Family("onestop_camera_reconnects_total", "counter", "Stream reconnections since the worker started.")
    ev = Family("onestop_events_total", "counter", "Motion events stored per camera.")
    stats = {key: Family(name, kind, text) for key, name, kind, text in _STATS}
    for cam in cameras:
        labels = {"camera": cam.id}
        up.add(labels, cam.state == "online")
        for s in HEALTH_STATES:
            state.add({**labels, "state": s}, s == cam.state)
        if cam.state != "disabled":
            down.add(labels, 0.0 if cam.state == "online" else cam.down_for(now))
            reconnects.add(labels, cam.reconnects)
        ev.add(labels, events.get(cam.id, 0))
        for key, fam in stats.items():
            fam.add(labels, cam.stats.get(key))
    return [up, state, down, reconnects, *stats.values(), ev]


def site_families(zones: list[ZoneReading], disk: DiskUsage | None) -> list[Family]:
    """Zone occupancy, waiting-area queue lengths and recordings disk usage."""
    occupied = Family("onestop_zone_occupied", "gauge", "1 when the zone is occupied now (latest fresh sample).")
    people = Family("onestop_zone_people", "gauge", "Estimated people in the zone now.")
    queue = Family("onestop_queue_length", "gauge", "Estimated people waiting in a waiting-area zone now.")
    for z in zones:
        labels = {"camera": z.camera, "zone": z.zone, "kind": z.kind}
        occupied.add(labels, z.occupied)
        people.add(labels, round(z.people, 2))
        if z.kind == "waiting_area":
            queue.add({"camera": z.camera, "zone": z.zone}, round(z.people, 2))
    used = Family("onestop_recordings_disk_used_bytes", "gauge", "Bytes of files in the recordings folder.")
    free = Family("onestop_recordings_disk_free_bytes", "gauge", "Free bytes on the recordings filesystem.")
    if disk is not None:
        used.add({}, disk.used_bytes)
        free.add({}, disk.free_bytes)
    return [occupied, people, queue, used, free]
