"""Start-up check after a crash, run by the supervisor before any worker starts.

- '<clip>.mp4.part' files (fragmented MP4, see recorder.PART_OPTIONS) are remuxed into clips when
  any video in them is readable, else removed; leftover '.tmp' files are removed.
- Event rows still 'recording' become 'complete' when their clip is on disk and playable, else 'failed'.
- 'complete' rows whose clip file is gone (or empty) are marked 'missing'.
- Clip files without a row are adopted (a row is made from the file: footage is never thrown away)
  when playable, else removed; thumbnails without a clip or row are removed.
- Continuous-recording segments: see monitor/upkeep/segment_recovery.py.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import av
import sqlite_utils

from monitor.site.config import Config
from monitor.camera.recorder import finalize_part
from monitor.layout import EVENT_STAMP, SEGMENT_DIR, clip_path
from monitor.upkeep.segment_recovery import SegmentRepairs, finalise_segment_parts, reconcile_segments

log = logging.getLogger(__name__)

PROBE_PACKETS = 200  # a clip is playable when a frame decodes within its first packets (8 s at 25 fps)


@dataclass
class RecoverySummary:
    """What the start-up check did (one count per kind of repair)."""

    parts_finalised: int = 0
    parts_removed: int = 0
    recording_completed: int = 0
    recording_failed: int = 0
    marked_missing: int = 0
    adopted: int = 0
    orphans_removed: int = 0
    temp_removed: int = 0
    segments_finalised: int = 0
    segments_discarded: int = 0
    segments_adopted: int = 0
    segment_rows_deleted: int = 0

    def add_segments(self, r: SegmentRepairs) -> None:
        """Fold in the segment repairs."""
        self.segments_finalised += r.finalised
        self.segments_discarded += r.discarded
        self.segments_adopted += r.adopted
        self.segment_rows_deleted += r.rows_deleted

    def line(self) -> str:
        """The one-line log summary."""
        return ", ".join(f"{f.name.replace('_', ' ')} {getattr(self, f.name)}" for f in fields(self))


def probe_clip(path: Path) -> float | None:
    """The clip's duration in seconds if a video frame decodes from it, else None."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                return None
            stream = container.streams.video[0]
            for i, packet in enumerate(container.demux(stream)):
                if i >= PROBE_PACKETS:
                    return None
                if packet.size and stream.codec_context.decode(packet):
                    break
            else:
                return None
            if container.duration:
                return container.duration / av.time_base
            return float(stream.duration * stream.time_base) if stream.duration else 0.0
    except (av.FFmpegError, OSError, ValueError):
        return None


def _finalise_parts(recordings: Path, s: RecoverySummary) -> None:
    for part in sorted(recordings.rglob("*.mp4.part")):
        if part.parent.name == SEGMENT_DIR:
            continue  # segments get rows of their own (segment_recovery)
        final = part.with_name(part.name.removesuffix(".part"))
        try:
            packets = finalize_part(part, final)
        except (av.FFmpegError, OSError, ValueError) as err:
            log.warning("recovery: %s not playable (%s): removed", part.name, err)
            part.unlink(missing_ok=True)
            s.parts_removed += 1
            continue
        log.info("recovery: %s finalised from its .part (%d packets)", final.name, packets)
        s.parts_finalised += 1
    for tmp in [*recordings.rglob("*.mp4.tmp"), *recordings.rglob("*.jpg.tmp")]:
        tmp.unlink(missing_ok=True)
        s.temp_removed += 1


def _resolve_recording(db: sqlite_utils.Database, recordings: Path, tz: ZoneInfo, s: RecoverySummary) -> None:
    rows = db.execute("select id, camera, start from events where clip_state = 'recording'").fetchall()
    for eid, camera, start in rows:
        path = clip_path(recordings, camera, eid, start, tz)
        duration = probe_clip(path) if path.is_file() else None
        if duration is None:
            db.execute("update events set clip_state = 'failed', clip_path = null where id = ?", [eid])
            s.recording_failed += 1
            continue
        db.execute("update events set clip_state = 'complete', clip_path = ?, clip_duration = ?,"
                   " end = coalesce(end, start + ?) where id = ?",
                   [str(path.relative_to(recordings)), duration, duration, eid])
        s.recording_completed += 1


def _mark_missing(db: sqlite_utils.Database, recordings: Path, s: RecoverySummary) -> None:
    rows = db.execute("select id, clip_path from events where clip_state = 'complete'").fetchall()
    gone = [eid for eid, rel in rows if not rel or not _nonempty(recordings / rel)]
    for eid in gone:
        db.execute("update events set clip_state = 'missing' where id = ?", [eid])
    s.marked_missing += len(gone)


def _nonempty(path: Path) -> bool:
    try:
        return path.stat().st_size > 0
    except OSError:
        return False


def _start_from_id(eid: str, camera: str, tz: ZoneInfo) -> float | None:
    stamp = eid.removeprefix(f"{camera}-")[:15]
    try:
        return datetime.strptime(stamp, EVENT_STAMP).replace(tzinfo=tz).timestamp()
    except ValueError:
        return None


def _adopt_orphans(db: sqlite_utils.Database, recordings: Path, tz: ZoneInfo, s: RecoverySummary) -> None:
    known = {eid for (eid,) in db.execute("select id from events")}
    for clip in sorted(recordings.glob("*/*/*.mp4")):
        eid, camera = clip.stem, clip.parent.parent.name
        if eid in known:
            continue
        duration = probe_clip(clip)
        if duration is None:
            log.warning("recovery: %s has no row and is not playable: removed", clip.name)
            clip.unlink(missing_ok=True)
            clip.with_suffix(".jpg").unlink(missing_ok=True)
            s.orphans_removed += 1
            continue
        start = _start_from_id(eid, camera, tz) or clip.stat().st_mtime - duration
        thumb = clip.with_suffix(".jpg")
        db["events"].insert({
            "id": eid, "camera": camera, "start": start, "end": start + duration, "peak": 0.0,
            "clip_path": str(clip.relative_to(recordings)), "clip_state": "complete", "clip_duration": duration,
            "thumb_path": str(thumb.relative_to(recordings)) if thumb.is_file() else None, "created": time.time(),
        })
        s.adopted += 1
    for thumb in sorted(recordings.glob("*/*/*.jpg")):
        if thumb.stem not in known and not thumb.with_suffix(".mp4").exists():
            thumb.unlink(missing_ok=True)
            s.orphans_removed += 1


def recover(config: Config, db: sqlite_utils.Database) -> RecoverySummary:
    """Repair clips and rows after a crash (see the module docstring); logs and returns a summary."""
    recordings = Path(config.storage.recordings)
    tz = ZoneInfo(config.site.timezone)
    s = RecoverySummary()
    segments = SegmentRepairs()
    if recordings.is_dir():
        _finalise_parts(recordings, s)
        finalise_segment_parts(recordings, segments)
    with db.atomic():
        _resolve_recording(db, recordings, tz, s)
        _mark_missing(db, recordings, s)
        if recordings.is_dir():
            _adopt_orphans(db, recordings, tz, s)
        reconcile_segments(db, recordings, tz, segments, probe_clip, time.time())
    s.add_segments(segments)
    log.info("recovery: %s", s.line())
    return s
