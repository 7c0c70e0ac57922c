"""Counter reports per day and per hour from the stored occupancy samples (rendered by monitor.counters.render)."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time as _time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import sqlite_utils

from monitor.counters.analytics import CounterStats, counter_day, session_starts
from monitor.detect.walkers import WALKING_ZONE
from monitor.records import Interval, ZoneSamples
from monitor.counters.render import render_report
from monitor.counters.rows import Report, ReportRow
from monitor.site.config import Camera, Config
from monitor.db.store import CachedDay, connect, report_cache_rows, samples_per_zone, store_report_cache, zone_samples

log = logging.getLogger(__name__)

MAX_DAYS = 366  # one year (leap year included) per report; longer ranges take minutes to compute
PAD_S = 3600  # samples read past each side of a day so a session crossing midnight is measured whole
# Bump when a change to analytics or to ReportRow changes what a day's rows are: cached rows of
# another version are ignored (and replaced when recomputed).
# 2: waits from fitted arrivals dated back over the walk in; 3: waits matched over the starts of every counter
# the waiting area serves, less the citizens who left unserved; 4: a service broken only by up to 30 s of
# unobserved time (a camera reconnecting, a worker restarting) is one session; 5: a staff seat never seen
# occupied while citizens stayed at its spot is hidden (its sessions are the spot's stays, no absences);
# 6: the wait of a citizen already waiting at the first sample is a lower bound, left out of the means
REPORT_CACHE_VERSION = 6
BACKFILL_DAYS = 31  # the supervisor keeps the cache filled for a month-long report


@dataclass(frozen=True)
class _Counter:
    camera: str
    spot: str
    seat: str
    queue: str | None


# ---------------------------------------------------------------- building


def build_report(
    config: Config,
    db: sqlite_utils.Database,
    day_from: date,
    day_to: date,
    camera: str | None = None,
    *,
    now: datetime | None = None,
) -> Report:
    """Per counter, per local day and per hour, statistics from the stored per-second samples.

    A counter is a camera's i-th service_spot paired with its i-th staff_seat, with the camera's
    first waiting_area as its queue; that queue's waits are matched over the service starts of all
    the camera's counters (its citizens are called to any of them). Days (and hours) without any
    sample of the counter are left out: no data is not the same as nobody served.

    Complete days (see `_complete`) come from report_cache when a row of this version was computed
    from the same inputs (zones, opening periods, number of samples); the complete days computed
    here are returned in `report.cache_entries` for a caller with write access to store.
    """
    _validate(config, day_from, day_to, camera)
    site = config.site
    tz = site.tz
    generated = now if now is not None else datetime.now(tz)
    cameras = [c for c in config.cameras if camera is None or c.id == camera]
    cached = report_cache_rows(db, day_from.isoformat(), day_to.isoformat(), REPORT_CACHE_VERSION, camera)
    rows: list[ReportRow] = []
    fresh: list[CachedDay] = []
    day = day_from
    while day <= day_to:
        periods = site.opening_hours.spans(day, tz)
        window = day_window(day, tz)
        complete = _complete(window, generated)
        for cam in cameras:
            cam_rows, cam_fresh = _camera_day(db, cam, _DayContext(day, window, periods, tz, complete), cached)
            rows += cam_rows
            fresh += cam_fresh
        day += timedelta(days=1)
    return Report(site.name, day_from, day_to, camera, rows, generated, fresh)


def _complete(window: Interval, now: datetime) -> bool:
    """Whether all the samples a day's rows are computed from (the day +- PAD_S) are in the past."""
    return window.end + PAD_S <= now.timestamp()


def _validate(config: Config, day_from: date, day_to: date, camera: str | None) -> None:
    if day_from > day_to:
        raise ValueError(f"first day {day_from.isoformat()} is after last day {day_to.isoformat()}; swap them")
    days = (day_to - day_from).days + 1
    if days > MAX_DAYS:
        raise ValueError(
            f"range {day_from.isoformat()}..{day_to.isoformat()} is {days} days; at most {MAX_DAYS} days per report"
        )
    known = [c.id for c in config.cameras]
    if camera is not None and camera not in known:
        raise ValueError(f"unknown camera {camera!r} (known: {', '.join(known) or 'none configured'})")


def counters(cam: Camera) -> list[_Counter]:
    """The counters of a camera: i-th service_spot with i-th staff_seat, the first waiting_area as queue."""
    spots = [z.id for z in cam.zones if z.kind == "service_spot"]
    seats = [z.id for z in cam.zones if z.kind == "staff_seat"]
    queue = next((z.id for z in cam.zones if z.kind == "waiting_area"), None)
    if len(spots) != len(seats):
        log.warning("%s: %d service_spot and %d staff_seat zones; unpaired ones are left out of reports",
                    cam.id, len(spots), len(seats))
    return [_Counter(cam.id, spot, seat, queue) for spot, seat in zip(spots, seats)]


def day_window(day: date, tz: ZoneInfo) -> Interval:
    """The local day as unix seconds, midnight to midnight."""
    start = datetime.combine(day, time(0), tzinfo=tz).timestamp()
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).timestamp()
    return Interval(start, end)  # 23 or 25 h on a daylight-saving change day


def counter_samples(
    db: sqlite_utils.Database, c: _Counter, window: Interval
) -> tuple[ZoneSamples, ZoneSamples, ZoneSamples | None, ZoneSamples | None]:
    """A counter's seat, spot, queue and (with a queue) the camera's walking samples, read PAD_S past each side."""
    t0, t1 = window.start - PAD_S, window.end + PAD_S
    spot, staff = seat_samples(db, c, t0, t1)
    queue, walking = _queue_samples(db, c.camera, c.queue, t0, t1)
    return spot, staff, queue, walking


def seat_samples(db: sqlite_utils.Database, c: _Counter, t0: float, t1: float) -> tuple[ZoneSamples, ZoneSamples]:
    """A counter's spot and staff seat samples from t0 to t1."""
    return zone_samples(db, c.camera, c.spot, t0, t1), zone_samples(db, c.camera, c.seat, t0, t1)


def _zones_read(c: _Counter, pairs: list[_Counter] | None = None) -> list[str]:
    """The zones a counter's rows are computed from: seat, spot, and with a queue its area, WALKING_ZONE
    and the seats and spots of the other counters in pairs that the queue serves (their service starts)."""
    if not c.queue:
        return [c.spot, c.seat]
    others = [z for o in _sharing(c, pairs or []) for z in (o.spot, o.seat)]
    return [c.spot, c.seat, c.queue, WALKING_ZONE] + others


def _sharing(c: _Counter, pairs: list[_Counter]) -> list[_Counter]:
    """The other counters of pairs that c's waiting area serves."""
    return [o for o in pairs if o.queue and o.queue == c.queue and (o.camera, o.spot) != (c.camera, c.spot)]


def other_starts(c: _Counter, pairs: list[_Counter], starts_of: Callable[[_Counter], list[float]]) -> list[float]:
    """The service starts (starts_of each counter) of the other counters c's waiting area serves (analytics.shared_waits)."""
    return sorted(t for o in _sharing(c, pairs) for t in starts_of(o))


def _queue_samples(db: sqlite_utils.Database, camera: str, queue: str | None, t0: float, t1: float
                   ) -> tuple[ZoneSamples | None, ZoneSamples | None]:
    """A waiting area's samples and the camera's WALKING_ZONE ones (arrivals walk in from there); None without it."""
    if not queue:
        return None, None
    return zone_samples(db, camera, queue, t0, t1), zone_samples(db, camera, WALKING_ZONE, t0, t1)


@dataclass(frozen=True)
class _DayContext:
    day: date
    window: Interval
    periods: list[Interval]
    tz: ZoneInfo
    complete: bool  # cacheable: see _complete


def _camera_day(
    db: sqlite_utils.Database, cam: Camera, ctx: _DayContext, cached: dict[tuple[str, str, str], str]
) -> tuple[list[ReportRow], list[CachedDay]]:
    """The rows of a camera's counters for one day, from the cache where valid; plus the new cache entries."""
    pairs = counters(cam)
    if not pairs:
        return [], []
    t0, t1 = ctx.window.start - PAD_S, ctx.window.end + PAD_S
    counts: dict[str, int] = {}
    if ctx.complete:
        zones = sorted({z for c in pairs for z in _zones_read(c, pairs)})
        counts = samples_per_zone(db, cam.id, zones, t0, t1)
    day_key = ctx.day.isoformat()
    rows: list[ReportRow] = []
    fresh: list[CachedDay] = []
    queue: ZoneSamples | None = None
    walking: ZoneSamples | None = None
    queue_read = False
    read: dict[str, tuple[ZoneSamples, ZoneSamples]] = {}  # by spot: a counter's spot and staff samples, read once
    started: dict[str, list[float]] = {}  # by spot: the session starts of counters sharing a queue

    def samples_of(o: _Counter) -> tuple[ZoneSamples, ZoneSamples]:
        if o.spot not in read:
            read[o.spot] = seat_samples(db, o, t0, t1)
        return read[o.spot]

    def starts_of(o: _Counter) -> list[float]:
        if o.spot not in started:
            started[o.spot] = session_starts(*samples_of(o))
        return started[o.spot]

    for c in pairs:
        inputs = _inputs(c, ctx, counts, pairs) if ctx.complete else None
        payload = cached.get((cam.id, c.spot, day_key))
        if inputs is not None and payload is not None:
            doc = json.loads(payload)
            if doc.get("inputs") == inputs:
                rows += [ReportRow(day=ctx.day, camera=c.camera, counter=c.spot, **d) for d in doc["rows"]]
                continue
        if not queue_read:  # shared by the camera's counters: read once, and only if one is computed
            queue, walking = _queue_samples(db, cam.id, c.queue, t0, t1)
            queue_read = True
        others = other_starts(c, pairs, starts_of) if queue is not None else []
        counter_rows = list(_counter_day(c, samples_of(c), queue, walking, ctx, others))
        rows += counter_rows
        if inputs is not None:
            fresh.append(CachedDay(cam.id, c.spot, day_key, _payload(inputs, counter_rows), REPORT_CACHE_VERSION))
    return rows, fresh


def _counter_day(c: _Counter, seat: tuple[ZoneSamples, ZoneSamples], queue: ZoneSamples | None,
                 walking: ZoneSamples | None, ctx: _DayContext, others: list[float]) -> Iterator[ReportRow]:
    """A counter's rows of one day from its spot and staff samples (seat), read PAD_S past each side."""
    window, periods = ctx.window, ctx.periods
    spot, staff = seat
    if not _seen(spot, staff, window):
        return
    day_stats, hours = counter_day(spot, staff, queue, periods, window, ctx.tz, walking=walking, other_starts=others)
    yield _row(ctx.day, None, c, day_stats)
    for h in hours:
        hour_iv = Interval(max(h.start, window.start), min(h.start + 3600, window.end))
        if h.stats.served or (h.stats.open_s > 0 and _seen(spot, staff, hour_iv)):
            yield _row(ctx.day, h.hour, c, h.stats)


def _inputs(c: _Counter, ctx: _DayContext, counts: dict[str, int], pairs: list[_Counter]) -> dict[str, Any]:
    """What a counter-day's rows are computed from, as JSON values: a cached row is valid while these match.

    Samples are only ever added (a resent second is ignored), so the number of samples per zone
    tells whether late ones (a camera's buffered data) arrived since the rows were computed.
    """
    return {
        "seat": c.seat,
        "queue": c.queue,
        "window": [ctx.window.start, ctx.window.end],
        "periods": [[p.start, p.end] for p in ctx.periods],
        "samples": {z: counts[z] for z in _zones_read(c, pairs)},
    }


def _payload(inputs: dict[str, Any], rows: list[ReportRow]) -> str:
    out = []
    for r in rows:
        d = asdict(r)
        for key in ("day", "camera", "counter"):
            del d[key]
        out.append(d)
    return json.dumps({"inputs": inputs, "rows": out}, default=_plain, separators=(",", ":"))


def _plain(v: Any) -> Any:
    """NumPy scalars as Python numbers (exact: float32 and float64 values fit a Python float)."""
    if isinstance(v, np.generic):
        return v.item()
    raise TypeError(f"not JSON serialisable: {type(v).__name__}")


def fill_report_cache(config: Config, db_path: Path | str, *, now: datetime | None = None,
                      days: int = BACKFILL_DAYS) -> int:
    """Compute and store the report cache rows missing (or stale) for the last `days` complete days.

    Reads through a read-only connection and writes through a short write connection; returns
    the rows stored. Days already cached cost one roll-up count per camera.
    """
    tz = config.site.tz
    now = now if now is not None else datetime.now(tz)
    last = now.astimezone(tz).date() - timedelta(days=1)
    first = last - timedelta(days=days - 1)
    started = _time.monotonic()
    db = connect(db_path, readonly=True)
    try:
        report = build_report(config, db, first, last, now=now)
    finally:
        db.conn.close()
    stored = store_report_cache(db_path, report.cache_entries)
    log.info("report cache: %d counter-days stored (%d days of %s..%s) in %.1f s", stored,
             len({e.day for e in report.cache_entries}) if stored else 0, first, last, _time.monotonic() - started)
    return stored


def _seen(spot: ZoneSamples, staff: ZoneSamples, window: Interval) -> bool:
    """Whether either seat zone has a sample inside the window."""
    return any(
        int(np.searchsorted(s.t, window.end)) > int(np.searchsorted(s.t, window.start)) for s in (spot, staff)
    )


def _row(day: date, hour: int | None, c: _Counter, s: CounterStats) -> ReportRow:
    return ReportRow(
        day=day, hour=hour, camera=c.camera, counter=c.spot, served=s.served,
        mean_service_s=s.mean_service_s, median_service_s=s.median_service_s, p90_service_s=s.p90_service_s,
        mean_wait_s=s.mean_wait_s, max_wait_s=s.max_wait_s, mean_queue=s.mean_queue, max_queue=s.max_queue,
        absence_min=s.absence_s / 60, utilisation=s.utilisation, waits=list(s.waits),
    )


# ---------------------------------------------------------------- daily files


def write_daily_report(config: Config, db: sqlite_utils.Database, day: date, out_dir: Path) -> list[Path]:
    """Write out_dir/YYYY-MM-DD.html and .csv for one local day (each via a temp file and rename).

    The CSV is written last, so its presence means the day's report is complete (the supervisor
    checks for it). Returns [csv, html].
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = build_report(config, db, day, day)
    language = config.site.language
    paths = {fmt: out_dir / f"{day.isoformat()}.{fmt}" for fmt in ("csv", "html")}
    for fmt in ("html", "csv"):
        _write_atomic(paths[fmt], render_report(report, fmt, language))
    return [paths["csv"], paths["html"]]


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
