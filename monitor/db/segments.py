"""Continuous-recording segments (migration 013): one row per complete segment file, and its queries.

Rows are written by the single writer from SegmentReady messages (and by the start-up check for
files whose message never arrived); retention deletes the file first, then the row. A segment's
[start, "end") is wall-clock time: start of its first frame, end = start + its timestamp duration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlite_utils

from monitor.messages import SegmentReady

TIER_CONTINUOUS = "continuous"  # the only tier stored here; event clips live in the events table
STATE_COMPLETE = "complete"


def m013_segments(db: sqlite_utils.Database) -> None:
    """Migration 013: the segments table, read by (camera, start) for the timeline and by start for retention."""
    db.execute(
        'create table segments (id integer primary key, camera text not null, start real not null,'
        ' "end" real not null, path text not null unique, bytes integer not null,'
        " tier text not null default 'continuous', state text not null default 'complete')"
    )
    db.execute('create index idx_segments_camera_start on segments (camera, start, "end")')
    db.execute("create index idx_segments_start on segments (start)")


@dataclass(frozen=True)
class Segment:
    """One stored segment."""

    id: int
    camera: str
    start: float
    end: float
    path: str  # relative to recordings/
    bytes: int

    @property
    def duration(self) -> float:
        """Seconds of video in the file."""
        return self.end - self.start


def insert_segment(db: sqlite_utils.Database, m: SegmentReady) -> None:
    """Store a segment (a resent message for the same path replaces the row: nothing counted twice)."""
    db.execute(
        'insert into segments (camera, start, "end", path, bytes, tier, state) values (?, ?, ?, ?, ?, ?, ?)'
        ' on conflict (path) do update set camera = excluded.camera, start = excluded.start,'
        ' "end" = excluded."end", bytes = excluded.bytes',
        [m.camera, m.start, m.start + m.duration, m.path, m.bytes, TIER_CONTINUOUS, STATE_COMPLETE],
    )


def _rows(cur: Any) -> list[Segment]:
    return [Segment(*row) for row in cur.fetchall()]


_COLUMNS = 'id, camera, start, "end", path, bytes'


def segments_between(db: sqlite_utils.Database, camera: str, t0: float, t1: float) -> list[Segment]:
    """The camera's segments overlapping [t0, t1), in time order."""
    return _rows(db.execute(
        f'select {_COLUMNS} from segments where camera = ? and start < ? and "end" > ? order by start',
        [camera, t1, t0]))


def all_segments(db: sqlite_utils.Database) -> list[Segment]:
    """Every stored segment, oldest first (for retention and recovery)."""
    return _rows(db.execute(f"select {_COLUMNS} from segments order by start, id"))


def get_segment(db: sqlite_utils.Database, segment_id: int) -> Segment | None:
    """One segment by id, or None."""
    rows = _rows(db.execute(f"select {_COLUMNS} from segments where id = ?", [segment_id]))
    return rows[0] if rows else None


def delete_segments(db: sqlite_utils.Database, ids: list[int]) -> None:
    """Delete rows by id in one short transaction."""
    if ids:
        with db.atomic():
            db.execute(f"delete from segments where id in ({', '.join('?' * len(ids))})", ids)
