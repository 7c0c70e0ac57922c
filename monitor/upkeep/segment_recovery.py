"""Start-up check of continuous-recording segments (part of monitor/upkeep/recovery.py's run).

- '<segment>.mp4.part' files left by a crash are remuxed into segments when any video in them is
  readable (a row is made for them), else removed: a half-written file is never counted as a segment.
- Segment files without a row (the worker renamed the file, but its message never reached the
  writer) are adopted when playable, else removed.
- Rows whose file is gone are deleted (the timeline then shows the gap that is really there).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import av
import sqlite_utils

from monitor.camera.recorder import finalize_part
from monitor.db.segments import all_segments, insert_segment
from monitor.layout import segment_camera, segment_files, segment_start
from monitor.messages import SegmentReady

log = logging.getLogger(__name__)


@dataclass
class SegmentRepairs:
    """What the check did to segments."""

    finalised: int = 0
    discarded: int = 0
    adopted: int = 0
    rows_deleted: int = 0


def finalise_segment_parts(recordings: Path, r: SegmentRepairs) -> None:
    """Remux each left-over segment '.part' into its '.mp4', or remove it when nothing in it plays."""
    for part in segment_files(recordings, "*.mp4.part"):
        final = part.with_name(part.name.removesuffix(".part"))
        try:
            packets = finalize_part(part, final)
        except (av.FFmpegError, OSError, ValueError) as err:
            log.warning("recovery: segment %s not playable (%s): removed", part, err)
            part.unlink(missing_ok=True)
            r.discarded += 1
            continue
        log.info("recovery: segment %s finalised from its .part (%d packets)", final, packets)
        r.finalised += 1


def reconcile_segments(db: sqlite_utils.Database, recordings: Path, tz: ZoneInfo, r: SegmentRepairs,
                       probe: Callable[[Path], float | None], now: float) -> None:
    """Adopt segment files without a row, drop rows without a file (inside the caller's transaction)."""
    rows = all_segments(db)
    known = {s.path for s in rows}
    gone = [s.id for s in rows if not (recordings / s.path).is_file()]
    if gone:
        db.execute(f"delete from segments where id in ({', '.join('?' * len(gone))})", gone)
        r.rows_deleted += len(gone)
    for path in segment_files(recordings):
        rel = str(path.relative_to(recordings))
        if rel in known:
            continue
        duration = probe(path)
        start = segment_start(path, tz)
        if duration is None or start is None:
            log.warning("recovery: segment %s has no row and is not playable: removed", rel)
            path.unlink(missing_ok=True)
            r.discarded += 1
            continue
        insert_segment(db, SegmentReady(camera=segment_camera(path), t=now, path=rel, start=start,
                                        duration=duration, bytes=path.stat().st_size))
        r.adopted += 1



