"""Carrying out a retention plan (or measuring it for --dry-run), and the `onestop prune` command."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from datetime import date, datetime, time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

import click
import sqlite_utils

from monitor.site.config import Config
from monitor.site.load import load_or_exit
from monitor.upkeep.retention import (
    EVENT_CHUNK,
    REPORT_FILE,
    ROLLUP_CHUNK_S,
    SAMPLE_CHUNK_S,
    ClipFile,
    HeldSpan,
    KindSummary,
    Plan,
    RetentionResult,
    clip_summary,
    current_plan,
    format_summaries,
    segment_summary,
)
from monitor.db.segments import Segment, delete_segments
from monitor.db.store import connect, open_db
from monitor.upkeep.holds import read_held_spans, read_held_usage

log = logging.getLogger(__name__)

# (kind, table, time column, chunk seconds, plan attribute with the cut-off)
RANGED = (
    ("occupancy samples", "occupancy", "t", SAMPLE_CHUNK_S, "samples_before"),
    ("occupancy roll-ups", "occupancy_minute", "minute", ROLLUP_CHUNK_S, "rollups_before"),
)


def _chunks(items: Sequence[ClipFile], n: int) -> Iterator[Sequence[ClipFile]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


def _unlink(recordings: Path, rel: str | None) -> None:
    if not rel:
        return
    path = recordings / rel
    try:
        path.unlink(missing_ok=True)
    except OSError as err:  # the row is still handled: the start-up check adopts or removes a leftover
        log.warning("retention: cannot delete %s: %s", path, err)
        return
    try:
        path.parent.rmdir()  # the day folder, once its last clip is gone
    except OSError:
        pass


def _delete_events(db: sqlite_utils.Database, recordings: Path, clips: Sequence[ClipFile]) -> None:
    """Files first, then the rows (see the module docstring of monitor.upkeep.retention)."""
    for chunk in _chunks(clips, EVENT_CHUNK):
        for c in chunk:
            _unlink(recordings, c.clip_path)
            _unlink(recordings, c.thumb_path)
        ids = [c.event_id for c in chunk]
        with db.atomic():
            db.execute(f"delete from events where id in ({', '.join('?' * len(ids))})", ids)


def _prune_clips(db: sqlite_utils.Database, recordings: Path, clips: Sequence[ClipFile]) -> None:
    """Clip files first, then the rows marked 'pruned' (the events and thumbnails stay)."""
    for chunk in _chunks(clips, EVENT_CHUNK):
        for c in chunk:
            _unlink(recordings, c.clip_path)
        ids = [c.event_id for c in chunk]
        with db.atomic():
            db.execute(f"update events set clip_state = 'pruned', clip_path = null where id in ({', '.join('?' * len(ids))})",
                       ids)


def _delete_segments(db: sqlite_utils.Database, recordings: Path, segments: Sequence[Segment]) -> None:
    """Segment files first, then their rows (a row left without a file is dropped by the start-up check)."""
    for i in range(0, len(segments), EVENT_CHUNK):
        chunk = segments[i : i + EVENT_CHUNK]
        for seg in chunk:
            _unlink(recordings, seg.path)  # and the segments/ folder once empty
            try:
                (recordings / seg.path).parent.parent.rmdir()  # the day folder, once nothing else is in it
            except OSError:
                pass
        delete_segments(db, [seg.id for seg in chunk])


def _pairs(db: sqlite_utils.Database) -> list[tuple[str, str]]:
    """(camera, zone) pairs with data; roll-ups outlive samples, so their table names every pair."""
    return [tuple(r) for r in db.execute("select distinct camera, zone from occupancy_minute").fetchall()]


def _ranged(db: sqlite_utils.Database, kind: str, table: str, col: str, chunk_s: float, before: float,
            delete: bool) -> KindSummary:
    """Count (and delete, in chunks of chunk_s per camera-zone) rows of table with col < before."""
    summary = KindSummary(kind)
    for cam, zone in _pairs(db):
        n, lo, hi = db.execute(f"select count(*), min({col}), max({col}) from {table}"
                               f" where camera = ? and zone = ? and {col} < ?", [cam, zone, before]).fetchone()
        summary.add(n, 0, lo, hi)
        t = lo
        while delete and n and t <= hi:
            with db.atomic():
                db.execute(f"delete from {table} where camera = ? and zone = ? and {col} >= ? and {col} < ?",
                           [cam, zone, t, min(t + chunk_s, before)])
            t += chunk_s
    return summary


def _day_start(day: str, tz: ZoneInfo) -> float:
    return datetime.combine(date.fromisoformat(day), dtime(), tz).timestamp()


def _reports(db: sqlite_utils.Database, reports_dir: Path, before: float, tz: ZoneInfo,
             delete: bool) -> list[KindSummary]:
    """Cached report rows and report files of local days that ended before `before`."""
    cut = datetime.fromtimestamp(before, tz).date().isoformat()
    cache = KindSummary("report cache rows")
    n, lo, hi = db.execute("select count(*), min(day), max(day) from report_cache where day < ?", [cut]).fetchone()
    cache.add(n, 0, lo and _day_start(lo, tz), hi and _day_start(hi, tz))
    if delete and n:
        with db.atomic():
            db.execute("delete from report_cache where day < ?", [cut])
    files = KindSummary("report files")
    for path in sorted(reports_dir.glob("*")) if reports_dir.is_dir() else []:
        m = REPORT_FILE.match(path.name)
        if m and m.group(1) < cut:
            when = _day_start(m.group(1), tz)
            files.add(1, path.stat().st_size, when, when)
            if delete:
                path.unlink(missing_ok=True)
    return [cache, files]


def apply_plan(config: Config, db: sqlite_utils.Database, plan: Plan, *, dry_run: bool) -> list[KindSummary]:
    """Measure every kind the plan removes and, unless dry_run, remove it; returns one summary per kind."""
    recordings = Path(config.storage.recordings)
    tz = ZoneInfo(config.site.timezone)
    summaries = [segment_summary("continuous segments", plan.expired_segments),
                 segment_summary("segments over disk budget", plan.over_budget_segments),
                 clip_summary("events with clips", plan.expired, True),
                 clip_summary("clips over disk budget", plan.over_budget, False)]
    if not dry_run:
        _delete_segments(db, recordings, [*plan.expired_segments, *plan.over_budget_segments])
        _delete_events(db, recordings, plan.expired)
        _prune_clips(db, recordings, plan.over_budget)
    for kind, table, col, chunk_s, attr in RANGED:
        summaries.append(_ranged(db, kind, table, col, chunk_s, getattr(plan, attr), not dry_run))
    summaries += _reports(db, config.base_dir / "reports", plan.reports_before, tz, not dry_run)
    return summaries


def run_retention(config: Config, *, now: float | None = None, dry_run: bool = False,
                  held: Sequence[HeldSpan] = ()) -> RetentionResult:
    """Plan and carry out (or only measure) retention on the site's database and folders.

    held: (camera, t0, t1) spans whose footage is never deleted (legal hold of complaint cases).
    """
    now = time.time() if now is None else now
    path = Path(config.storage.database)
    # no database yet: nothing to delete, and a dry run must not create one
    db = connect(path) if path.exists() else open_db(":memory:" if dry_run else path)
    try:
        plan = current_plan(config, db, now, held)
        return RetentionResult(plan, apply_plan(config, db, plan, dry_run=dry_run))
    finally:
        db.conn.close()


@click.command("prune")
@click.option("-c", "--config", "config_path", default="cameras.yaml", show_default=True, help="Path to cameras.yaml.")
@click.option("--dry-run", is_flag=True, help="Only show what would be removed.")
def prune_command(config_path: str, dry_run: bool) -> None:
    """Delete what the retention settings say is too old or over the disk budget.

    Example: onestop prune --dry-run -c cameras.yaml
    """
    config = load_or_exit(config_path)
    result = run_retention(config, dry_run=dry_run, held=read_held_spans(Path(config.storage.database)))
    held = read_held_usage(Path(config.storage.database), Path(config.storage.recordings))
    plan = result.plan
    click.echo(f"recordings: {plan.used_bytes / 1024**2:.1f} MB in segments, clips and thumbnails, "
               f"{plan.free_bytes / 1024**3:.2f} GB free on the disk")
    click.echo(format_summaries(result.summaries, ZoneInfo(config.site.timezone), dry_run))
    if held.files:
        click.echo(f"held for complaint cases (kept) {held.files} files  {held.bytes / 1024**2:.1f} MB  {held.cases} cases")
