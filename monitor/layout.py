"""The on-disk layout of recordings/: event ids, clip paths, and the live snapshot and watch files.

Shared by the camera worker (which writes these files), the web app (which reads the snapshot and
marks a camera watched) and recovery (which matches files to events); none of them needs the others.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

log = logging.getLogger(__name__)

EVENT_STAMP = "%Y%m%d-%H%M%S"  # the time part of an event id: <camera>-<stamp>-<hex>


def event_id(camera: str, start: float, tz: ZoneInfo) -> str:
    """Sortable, unique, URL-safe event id: <camera>-<YYYYmmdd-HHMMSS>-<random>."""
    stamp = datetime.fromtimestamp(start, tz).strftime(EVENT_STAMP)
    return f"{camera}-{stamp}-{secrets.token_hex(3)}"


def clip_path(recordings: Path, camera: str, eid: str, start: float, tz: ZoneInfo) -> Path:
    """recordings/<camera>/<YYYY-MM-DD>/<event-id>.mp4 (date in the site time zone)."""
    day = datetime.fromtimestamp(start, tz).strftime("%Y-%m-%d")
    return recordings / camera / day / f"{eid}.mp4"


def live_snapshot_path(recordings: Path, camera: str) -> Path:
    """Where the worker keeps the camera's latest frame for the live page."""
    return recordings / camera / "live.jpg"


def live_watch_path(recordings: Path, camera: str) -> Path:
    """A file the web app touches while someone watches the camera live (a JPEG a second costs ~3 ms)."""
    return recordings / camera / "live.watch"


def mark_watched(recordings: Path, camera: str) -> None:
    """Ask the camera's worker for a snapshot every second for a while (worker.LIVE_WATCH_S seconds)."""
    path = live_watch_path(recordings, camera)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    except OSError as err:
        log.warning("%s: cannot mark the camera as watched: %s", camera, err)


SEGMENT_DIR = "segments"  # recordings/<camera>/<day>/segments/: apart from the event clips recovery adopts
SEGMENT_STAMP = "%H%M%S"  # a segment's name: <HHMMSS>-<milliseconds>.mp4, its start in site-local time


def segment_path(recordings: Path, camera: str, start: float, tz: ZoneInfo) -> Path:
    """recordings/<camera>/<YYYY-MM-DD>/segments/<HHMMSS>-<mmm>.mp4 (start in the site time zone)."""
    local = datetime.fromtimestamp(start, tz)
    name = f"{local.strftime(SEGMENT_STAMP)}-{local.microsecond // 1000:03d}.mp4"
    return recordings / camera / local.strftime("%Y-%m-%d") / SEGMENT_DIR / name


def segment_start(path: Path, tz: ZoneInfo) -> float | None:
    """The start time a segment's path names (inverse of segment_path), or None if it names none."""
    try:
        day = datetime.strptime(path.parent.parent.name, "%Y-%m-%d")
        stamp, ms = path.name.removesuffix(".part").removesuffix(".mp4").split("-")
        clock = datetime.strptime(stamp, SEGMENT_STAMP)
        local = day.replace(hour=clock.hour, minute=clock.minute, second=clock.second, microsecond=int(ms) * 1000)
    except ValueError:
        return None
    return local.replace(tzinfo=tz).timestamp()


def segment_camera(path: Path) -> str:
    """The camera a segment file belongs to (recordings/<camera>/<day>/segments/<name>)."""
    return path.parent.parent.parent.name


def segment_files(recordings: Path, pattern: str = "*.mp4") -> list[Path]:
    """Every file of the given pattern in the segment folders, in path order."""
    return sorted(recordings.glob(f"*/*/{SEGMENT_DIR}/{pattern}"))
