"""Legal holds in retention: which event clips (and segment files) the spans of open cases keep, and their size.

The spans come from monitor.db.cases.held_spans(); retention (monitor/upkeep/retention.py) takes the
event ids from held_event_ids() and neither expires nor prunes them for the disk budget.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from monitor.db.cases import Span, held_spans, recordings
from monitor.db.store import connect

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HeldUsage:
    """What the holds keep on disk: files (clips, thumbnails, segments) and their bytes."""

    files: int
    bytes: int
    cases: int


def held_event_ids(db: sqlite_utils.Database, spans: Iterable[Span]) -> frozenset[str]:
    """Ids of the events whose time overlaps a held span of their camera."""
    return frozenset(r.id for r in recordings(db, spans) if r.kind == "event")


def _size(recordings_dir: Path, rel: str | None) -> int:
    path = recordings_dir / rel if rel else None
    return path.stat().st_size if path is not None and path.is_file() else 0


def held_usage(db: sqlite_utils.Database, recordings_dir: Path, spans: Iterable[Span]) -> HeldUsage:
    """Files and bytes the spans keep: event clips and thumbnails, and continuous segments."""
    spans = list(spans)
    files = nbytes = 0
    found = recordings(db, spans)
    thumbs = {}
    if any(r.kind == "event" for r in found):
        ids = [r.id for r in found if r.kind == "event"]
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            thumbs.update(db.execute(f"select id, thumb_path from events where id in ({', '.join('?' * len(chunk))})",
                                     chunk).fetchall())
    for rec in found:
        for rel in (rec.path, thumbs.get(rec.id) if rec.kind == "event" else None):
            size = _size(recordings_dir, rel)
            if size:
                files += 1
                nbytes += size
    return HeldUsage(files, nbytes, len({(s.t0, s.t1) for s in spans}))


def read_held_spans(database: Path) -> list[Span]:
    """The held spans of the site database (a read-only connection); empty when there is no database yet."""
    if not database.exists():
        return []
    db = connect(database, readonly=True)
    try:
        return held_spans(db)
    finally:
        db.conn.close()


def read_held_usage(database: Path, recordings_dir: Path) -> HeldUsage:
    """held_usage() of the site database (read-only) and recordings folder; zeros when there is no database yet."""
    if not database.exists():
        return HeldUsage(0, 0, 0)
    db = connect(database, readonly=True)
    try:
        return held_usage(db, recordings_dir, held_spans(db))
    finally:
        db.conn.close()
