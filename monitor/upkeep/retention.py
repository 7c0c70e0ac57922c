"""Retention: what to delete (a pure planner) and deleting it with rows and files kept consistent.

Order of the executor, chosen so that a crash between two steps is repaired at the next start
(monitor/upkeep/recovery.py):
- expired events: the clip and thumbnail files go first, then the rows. A crash in between leaves
  rows whose files are gone: the start-up check marks them 'missing', the next run deletes them.
- clips over the disk budget: the file goes first, then the row is marked 'pruned' (the event
  stays listed). A crash in between leaves a 'complete' row without a file: marked 'missing'.
- continuous segments (expired or over the budget): the file goes first, then the row; a crash in
  between leaves a row without a file, which the start-up check deletes.

Tiers: continuous segments are kept `continuous_days`, event clips `clips_days`. Over the disk budget
(`max_recordings_gb`, `min_free_gb`) the oldest continuous segments go first, then the oldest event
clips. Footage overlapping a held span (camera, t0, t1), e.g. a complaint case under legal hold, is
never deleted, whatever its age or the budget.
Rows are deleted in short transactions so the writer and the web app are never blocked for long.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlite_utils

from monitor.site.config import Config, Retention
from monitor.camera.diskguard import disk_free
from monitor.db.segments import Segment, all_segments

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
    camera: str = ""
    end: float | None = None


HeldSpan = tuple[str, float, float]  # (camera, t0, t1): footage of that camera in [t0, t1] is never deleted


def is_held(held: Sequence[HeldSpan], camera: str, start: float, end: float) -> bool:
    """Whether [start, end] of the camera overlaps any held span (touching counts: evidence errs on keeping)."""
    return any(cam == camera and start <= t1 and end >= t0 for cam, t0, t1 in held)


@dataclass(frozen=True)
class Policy:
    """Retention in seconds and bytes, from the config section."""

    clips_s: float
    samples_s: float
    rollups_s: float
    reports_s: float
    max_bytes: int | None
    min_free_bytes: int
    continuous_s: float = 7 * DAY_S

    @classmethod
    def from_config(cls, r: Retention) -> Policy:
        """Days and GB of cameras.yaml as seconds and bytes."""
        return cls(r.clips_days * DAY_S, r.samples_days * DAY_S, r.rollups_days * DAY_S, r.reports_days * DAY_S,
                   None if r.max_recordings_gb is None else int(r.max_recordings_gb * GB), int(r.min_free_gb * GB),
                   r.continuous_days * DAY_S)


@dataclass(frozen=True)
class Plan:
    """What one retention run deletes."""

    expired: tuple[ClipFile, ...]  # rows and files deleted (older than clips_days)
    over_budget: tuple[ClipFile, ...]  # clip files deleted, rows kept as 'pruned' (oldest first)
    samples_before: float
    rollups_before: float
    reports_before: float
    used_bytes: int  # segments, clips and thumbnails before the run
    free_bytes: int  # disk free space before the run
    expired_segments: tuple[Segment, ...] = ()  # continuous segments older than continuous_days
    over_budget_segments: tuple[Segment, ...] = ()  # continuous segments deleted for the disk budget
    held_bytes: int = 0  # segments and clips kept because a held span covers them

    @property
    def freed_bytes(self) -> int:
        """Bytes of segment, clip and thumbnail files this plan deletes."""
        return (sum(c.clip_bytes + c.thumb_bytes for c in self.expired) + sum(c.clip_bytes for c in self.over_budget)
                + sum(s.bytes for s in (*self.expired_segments, *self.over_budget_segments)))


@dataclass
class _Budget:
    """Bytes in use and free as the planner deletes, against the policy's cap and floor."""

    used: int
    free: int
    policy: Policy

    def ok(self) -> bool:
        within_cap = self.policy.max_bytes is None or self.used <= self.policy.max_bytes
        return within_cap and self.free >= self.policy.min_free_bytes

    def release(self, nbytes: int) -> None:
        self.used -= nbytes
        self.free += nbytes


def plan_retention(clips: Iterable[ClipFile], free_bytes: int, now: float, policy: Policy,
                   segments: Iterable[Segment] = (), held: Sequence[HeldSpan] = ()) -> Plan:
    """Expired segments and events, then the oldest segments and then the oldest clips until within budget.

    Nothing overlapping a held span is planned for deletion, nor a clip still being recorded.
    """
    clips = sorted(clips, key=lambda c: (c.start, c.event_id))
    segments = sorted(segments, key=lambda s: (s.start, s.id))
    clip_held = [is_held(held, c.camera, c.start, c.end if c.end is not None else c.start) for c in clips]
    seg_held = [is_held(held, s.camera, s.start, s.end) for s in segments]
    cutoff, seg_cutoff = now - policy.clips_s, now - policy.continuous_s
    expired = [c for c, h in zip(clips, clip_held) if c.start < cutoff and c.state not in KEPT_STATES and not h]
    expired_segs = [s for s, h in zip(segments, seg_held) if s.end < seg_cutoff and not h]
    used = sum(c.clip_bytes + c.thumb_bytes for c in clips) + sum(s.bytes for s in segments)
    budget = _Budget(used, free_bytes, policy)
    budget.release(sum(c.clip_bytes + c.thumb_bytes for c in expired) + sum(s.bytes for s in expired_segs))
    gone = {id(x) for x in (*expired, *expired_segs)}
    over_segs: list[Segment] = []
    for seg, h in zip(segments, seg_held):
        if budget.ok():
            break
        if not h and id(seg) not in gone:
            over_segs.append(seg)
            budget.release(seg.bytes)
    over: list[ClipFile] = []
    for clip, h in zip(clips, clip_held):
        if budget.ok():
            break
        if h or id(clip) in gone or clip.state != "complete" or clip.clip_bytes <= 0:
            continue
        over.append(clip)
        budget.release(clip.clip_bytes)
    held_bytes = (sum(c.clip_bytes + c.thumb_bytes for c, h in zip(clips, clip_held) if h)
                  + sum(s.bytes for s, h in zip(segments, seg_held) if h))
    return Plan(tuple(expired), tuple(over), now - policy.samples_s, now - policy.rollups_s,
                now - policy.reports_s, used, free_bytes, tuple(expired_segs), tuple(over_segs), held_bytes)


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
    rows = db.execute('select id, start, clip_state, clip_path, thumb_path, camera, "end" from events').fetchall()
    return [ClipFile(eid, start or 0.0, state or "none", clip, thumb, _size(recordings, clip), _size(recordings, thumb),
                     camera or "", end)
            for eid, start, state, clip, thumb, camera, end in rows]


def current_plan(config: Config, db: sqlite_utils.Database, now: float, held: Sequence[HeldSpan] = ()) -> Plan:
    """The plan for the site's database and recordings folder as they are now."""
    recordings = Path(config.storage.recordings)
    return plan_retention(gather_clips(db, recordings), disk_free(recordings), now,
                          Policy.from_config(config.retention), all_segments(db), held)


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


def segment_summary(kind: str, segments: Iterable[Segment]) -> KindSummary:
    s = KindSummary(kind)
    for seg in segments:
        s.add(1, seg.bytes, seg.start, seg.start)
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
