"""Retention: what to delete (a pure planner) and deleting it with rows and files kept consistent.

Order of the executor, chosen so that a crash between two steps is repaired at the next start
(monitor/upkeep/recovery.py):
- expired events: the clip and thumbnail files go first, then the rows. A crash in between leaves
  rows whose files are gone: the start-up check marks them 'missing', the next run deletes them.
- clips over the disk budget: the file goes first, then the row is marked 'pruned' (the event
  stays listed). A crash in between leaves a 'complete' row without a file: marked 'missing'.
Rows are deleted in short transactions so the writer and the web app are never blocked for long.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlite_utils

from monitor.site.config import Config, Retention
from monitor.camera.diskguard import disk_free

log = logging.getLogger(__name__)

DAY_S = 86_400
GB = 1024**3
MB = 1024**2
EVENT_CHUNK = 200  # rows per delete transaction: a few ms each, the writer barely notices
SAMPLE_CHUNK_S = 6 * 3600  # one camera-zone's samples per transaction: at most 21,600 rows
ROLLUP_CHUNK_S = 30 * DAY_S  # one camera-zone's minute roll-ups per transaction: at most 43,200 rows
# the daily report, its staffing-compliance files and the week's summary (dated by its Monday)
REPORT_FILE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:-compliance(?:-week)?)?\.(csv|html)$")
KEPT_STATES = ("recording",)  # a clip being written is never deleted: its worker owns it


@dataclass(frozen=True)
class ClipFile:
    """One event row and the sizes of its files on disk (0 when missing)."""

    event_id: str
    start: float
    state: str
    clip_path: str | None  # relative to recordings/
    thumb_path: str | None
    clip_bytes: int = 0
    thumb_bytes: int = 0


@dataclass(frozen=True)
class Policy:
    """Retention in seconds and bytes, from the config section."""

    clips_s: float
    samples_s: float
    rollups_s: float
    reports_s: float
    max_bytes: int | None
    min_free_bytes: int

    @classmethod
    def from_config(cls, r: Retention) -> Policy:
        """Days and GB of cameras.yaml as seconds and bytes."""
        return cls(r.clips_days * DAY_S, r.samples_days * DAY_S, r.rollups_days * DAY_S, r.reports_days * DAY_S,
                   None if r.max_recordings_gb is None else int(r.max_recordings_gb * GB), int(r.min_free_gb * GB))


@dataclass(frozen=True)
class Plan:
    """What one retention run deletes."""

    expired: tuple[ClipFile, ...]  # rows and files deleted (older than clips_days)
    over_budget: tuple[ClipFile, ...]  # clip files deleted, rows kept as 'pruned' (oldest first)
    samples_before: float
    rollups_before: float
    reports_before: float
    used_bytes: int  # clips and thumbnails before the run
    free_bytes: int  # disk free space before the run

    @property
    def freed_bytes(self) -> int:
        """Bytes of clip and thumbnail files this plan deletes."""
        return sum(c.clip_bytes + c.thumb_bytes for c in self.expired) + sum(c.clip_bytes for c in self.over_budget)


def plan_retention(clips: Iterable[ClipFile], free_bytes: int, now: float, policy: Policy,
                   held_ids: frozenset[str] = frozenset()) -> Plan:
    """Expired events, then the oldest complete clips until within max_bytes and min_free_bytes.

    Events in held_ids (legal holds, monitor/upkeep/holds.py) are never deleted, but their bytes count:
    the budget is met by deleting other clips.
    """
    clips = sorted(clips, key=lambda c: (c.start, c.event_id))
    cutoff = now - policy.clips_s
    expired = [c for c in clips if c.start < cutoff and c.state not in KEPT_STATES and c.event_id not in held_ids]
    gone = {c.event_id for c in expired}
    kept = [c for c in clips if c.event_id not in gone]
    used = sum(c.clip_bytes + c.thumb_bytes for c in clips)
    after_used = used - sum(c.clip_bytes + c.thumb_bytes for c in expired)
    after_free = free_bytes + (used - after_used)
    over: list[ClipFile] = []
    for clip in kept:
        within_cap = policy.max_bytes is None or after_used <= policy.max_bytes
        if within_cap and after_free >= policy.min_free_bytes:
            break
        if clip.state != "complete" or clip.clip_bytes <= 0 or clip.event_id in held_ids:
            continue
        over.append(clip)
        after_used -= clip.clip_bytes
        after_free += clip.clip_bytes
    return Plan(tuple(expired), tuple(over), now - policy.samples_s, now - policy.rollups_s,
                now - policy.reports_s, used, free_bytes)


# -- reading the current state ---------------------------------------------------------
def _size(recordings: Path, rel: str | None) -> int:
    if not rel:
        return 0
    try:
        return (recordings / rel).stat().st_size
    except OSError:
        return 0


def gather_clips(db: sqlite_utils.Database, recordings: Path) -> list[ClipFile]:
    """Every event row with the sizes of its clip and thumbnail files."""
    rows = db.execute("select id, start, clip_state, clip_path, thumb_path from events").fetchall()
    return [ClipFile(eid, start or 0.0, state or "none", clip, thumb, _size(recordings, clip), _size(recordings, thumb))
            for eid, start, state, clip, thumb in rows]


def current_plan(config: Config, db: sqlite_utils.Database, now: float, held_ids: frozenset[str] = frozenset()) -> Plan:
    """The plan for the site's database and recordings folder as they are now."""
    recordings = Path(config.storage.recordings)
    return plan_retention(gather_clips(db, recordings), disk_free(recordings), now,
                          Policy.from_config(config.retention), held_ids)


# -- summaries -------------------------------------------------------------------------
@dataclass
class KindSummary:
    """What was (or would be) removed of one kind."""

    kind: str
    count: int = 0
    bytes: int = 0
    first: float | None = None
    last: float | None = None

    def add(self, count: int, nbytes: int, first: float | None, last: float | None) -> None:
        """Fold in a part: counts and bytes add up, the time range widens."""
        self.count += count
        self.bytes += nbytes
        if first is not None:
            self.first = first if self.first is None else min(self.first, first)
        if last is not None:
            self.last = last if self.last is None else max(self.last, last)


def clip_summary(kind: str, clips: Iterable[ClipFile], with_thumbs: bool) -> KindSummary:
    s = KindSummary(kind)
    for c in clips:
        s.add(1, c.clip_bytes + (c.thumb_bytes if with_thumbs else 0), c.start, c.start)
    return s


def format_summaries(summaries: list[KindSummary], tz: ZoneInfo, dry_run: bool) -> str:
    """One line per kind: count, MB and the date range."""
    verb = "would remove" if dry_run else "removed"

    def day(t: float | None) -> str:
        return "-" if t is None else datetime.fromtimestamp(t, tz).strftime("%Y-%m-%d")

    lines = []
    for s in summaries:
        span = f"  {day(s.first)} .. {day(s.last)}" if s.count else ""
        size = f"  {s.bytes / MB:.1f} MB" if s.bytes else ""
        lines.append(f"{s.kind:<22} {verb} {s.count}{size}{span}")
    return "\n".join(lines)


@dataclass
class RetentionResult:
    """A run's plan and per-kind summaries."""

    plan: Plan
    summaries: list[KindSummary] = field(default_factory=list)
