"""Counter reports per day and per hour from the stored occupancy samples: CSV (Excel), JSON and HTML."""

from __future__ import annotations

import csv
import html
import io
import json
import logging
import os
import tempfile
import time as _time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import numpy as np
import sqlite_utils

from monitor.counters.analytics import CounterStats, counter_stats, split_by_hour
from monitor.records import Interval, ZoneSamples
from monitor.counters.rows import ReportRow
from monitor.counters.charts import absence_per_counter, bars, hbars, lines, queue_per_hour, served_per_hour, wait_histogram
from monitor.site.config import Camera, Config
from monitor.db.store import CachedDay, connect, report_cache_rows, samples_per_zone, store_report_cache, zone_samples

log = logging.getLogger(__name__)

MAX_DAYS = 366  # one year (leap year included) per report; longer ranges take minutes to compute
PAD_S = 3600  # samples read past each side of a day so a session crossing midnight is measured whole
# Bump when a change to analytics or to ReportRow changes what a day's rows are: cached rows of
# another version are ignored (and replaced when recomputed).
REPORT_CACHE_VERSION = 1
BACKFILL_DAYS = 31  # the supervisor keeps the cache filled for a month-long report
UTF8_BOM = b"\xef\xbb\xbf"  # without it Excel reads the CSV as ANSI and mangles the Vietnamese diacritics

Format = Literal["csv", "json", "html"]
Language = Literal["vi", "en"]


@dataclass
class Report:
    """Rows of one site over a range of local days."""

    site: str
    date_from: date
    date_to: date
    camera: str | None
    rows: list[ReportRow]
    generated_at: datetime
    # Complete counter-days computed by this build (not read from the cache): store them with
    # monitor.db.store.store_report_cache so the next report over these days is fast.
    cache_entries: list[CachedDay] = field(default_factory=list, repr=False)


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
    first waiting_area as its queue. Days (and hours) without any sample of the counter are left
    out: no data is not the same as nobody served.

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
) -> tuple[ZoneSamples, ZoneSamples, ZoneSamples | None]:
    """A counter's seat, spot and queue samples for a window, read PAD_S past each side."""
    t0, t1 = window.start - PAD_S, window.end + PAD_S
    spot = zone_samples(db, c.camera, c.spot, t0, t1)
    staff = zone_samples(db, c.camera, c.seat, t0, t1)
    queue = zone_samples(db, c.camera, c.queue, t0, t1) if c.queue else None
    return spot, staff, queue


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
        zones = sorted({z for c in pairs for z in (c.spot, c.seat, c.queue) if z})
        counts = samples_per_zone(db, cam.id, zones, t0, t1)
    day_key = ctx.day.isoformat()
    rows: list[ReportRow] = []
    fresh: list[CachedDay] = []
    queue: ZoneSamples | None = None
    queue_read = False
    for c in pairs:
        inputs = _inputs(c, ctx, counts) if ctx.complete else None
        payload = cached.get((cam.id, c.spot, day_key))
        if inputs is not None and payload is not None:
            doc = json.loads(payload)
            if doc.get("inputs") == inputs:
                rows += [ReportRow(day=ctx.day, camera=c.camera, counter=c.spot, **d) for d in doc["rows"]]
                continue
        if not queue_read:  # shared by the camera's counters: read once, and only if one is computed
            queue = zone_samples(db, cam.id, c.queue, t0, t1) if c.queue else None
            queue_read = True
        counter_rows = list(_counter_day(db, c, queue, ctx))
        rows += counter_rows
        if inputs is not None:
            fresh.append(CachedDay(cam.id, c.spot, day_key, _payload(inputs, counter_rows), REPORT_CACHE_VERSION))
    return rows, fresh


def _counter_day(db: sqlite_utils.Database, c: _Counter, queue: ZoneSamples | None, ctx: _DayContext) -> Iterator[ReportRow]:
    window, periods = ctx.window, ctx.periods
    t0, t1 = window.start - PAD_S, window.end + PAD_S
    spot = zone_samples(db, c.camera, c.spot, t0, t1)
    staff = zone_samples(db, c.camera, c.seat, t0, t1)
    if not _seen(spot, staff, window):
        return
    day_stats = counter_stats(spot, staff, queue, periods, window=window)
    yield _row(ctx.day, None, c, day_stats)
    for h in split_by_hour(spot, staff, queue, periods, window, ctx.tz):
        hour_iv = Interval(max(h.start, window.start), min(h.start + 3600, window.end))
        if h.stats.served or (h.stats.open_s > 0 and _seen(spot, staff, hour_iv)):
            yield _row(ctx.day, h.hour, c, h.stats)


def _inputs(c: _Counter, ctx: _DayContext, counts: dict[str, int]) -> dict[str, Any]:
    """What a counter-day's rows are computed from, as JSON values: a cached row is valid while these match.

    Samples are only ever added (a resent second is ignored), so the number of samples per zone
    tells whether late ones (a camera's buffered data) arrived since the rows were computed.
    """
    return {
        "seat": c.seat,
        "queue": c.queue,
        "window": [ctx.window.start, ctx.window.end],
        "periods": [[p.start, p.end] for p in ctx.periods],
        "samples": {z: counts[z] for z in (c.spot, c.seat, c.queue) if z},
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


# ---------------------------------------------------------------- text

_TEXT: dict[str, dict[str, str]] = {
    "vi": {
        "title": "Báo cáo quầy một cửa", "period": "Thời gian", "generated": "Lập lúc", "camera": "Camera",
        "all_cameras": "tất cả camera", "days": "Theo ngày", "hours": "Theo giờ", "no_data": "Không có dữ liệu.",
        "chart_served": "Số lượt phục vụ theo giờ", "chart_queue": "Hàng chờ TB theo giờ (người)",
        "chart_waits": "Phân bố thời gian chờ (phút, số công dân)", "chart_absence": "Vắng mặt theo quầy (phút)",
    },
    "en": {
        "title": "One-stop counter report", "period": "Period", "generated": "Generated", "camera": "Camera",
        "all_cameras": "all cameras", "days": "By day", "hours": "By hour", "no_data": "No data.",
        "chart_served": "Citizens served per hour", "chart_queue": "Mean queue per hour (people)",
        "chart_waits": "Waiting-time distribution (minutes, citizens)", "chart_absence": "Staff absence per counter (min)",
    },
}

# (key, vi header, en header): the column order of the CSV and the HTML tables.
_COLUMNS: list[tuple[str, str, str]] = [
    ("day", "Ngày", "Date"),
    ("hour", "Giờ", "Hour"),
    ("camera", "Camera", "Camera"),
    ("counter", "Quầy", "Counter"),
    ("served", "Số lượt phục vụ", "Served"),
    ("mean_service_s", "Thời gian phục vụ TB (giây)", "Mean service time (s)"),
    ("median_service_s", "Thời gian phục vụ trung vị (giây)", "Median service time (s)"),
    ("p90_service_s", "Thời gian phục vụ P90 (giây)", "P90 service time (s)"),
    ("mean_wait_s", "Thời gian chờ TB (giây)", "Mean wait (s)"),
    ("max_wait_s", "Thời gian chờ tối đa (giây)", "Max wait (s)"),
    ("mean_queue", "Hàng chờ TB (người)", "Mean queue (people)"),
    ("max_queue", "Hàng chờ tối đa (người)", "Max queue (people)"),
    ("absence_min", "Vắng mặt (phút)", "Absence (min)"),
    ("utilisation", "Tỷ lệ sử dụng (%)", "Utilisation (%)"),
]


def headers(language: Language) -> list[str]:
    """The column headers of the CSV and HTML tables in a language."""
    return [vi if language == "vi" else en for _, vi, en in _COLUMNS]


def _fmt_day(d: date, language: Language) -> str:
    return d.strftime("%d/%m/%Y") if language == "vi" else d.isoformat()


def _cells(row: ReportRow, language: Language) -> list[str]:
    """Display values: whole seconds and minutes, one decimal for queues, percent for utilisation.

    Only the queue has a decimal point: a Vietnamese-locale Excel reads '.' as a thousands
    separator, so every other figure is a whole number.
    """

    def whole(v: float | None) -> str:
        return "" if v is None else str(int(round(v)))

    return [
        _fmt_day(row.day, language),
        "" if row.hour is None else f"{row.hour:02d}:00",
        row.camera,
        row.counter,
        str(row.served),
        whole(row.mean_service_s),
        whole(row.median_service_s),
        whole(row.p90_service_s),
        whole(row.mean_wait_s),
        whole(row.max_wait_s),
        f"{row.mean_queue:.1f}",
        whole(row.max_queue),
        whole(row.absence_min),
        whole(row.utilisation * 100),
    ]


# ---------------------------------------------------------------- rendering


def render_report(report: Report, fmt: Format, language: Language) -> bytes:
    """The report as CSV (UTF-8 with BOM, for Excel), JSON (English keys) or a standalone HTML page."""
    if language not in _TEXT:
        raise ValueError(f"unknown language {language!r} (known: {', '.join(_TEXT)})")
    if fmt == "csv":
        return _csv(report, language)
    if fmt == "json":
        return _json(report)
    if fmt == "html":
        return _html(report, language).encode("utf-8")
    raise ValueError(f"unknown report format {fmt!r} (known: csv, json, html)")


def _csv(report: Report, language: Language) -> bytes:
    buf = io.StringIO(newline="")
    out = csv.writer(buf)  # comma separator, CRLF line endings, quoting only where needed
    out.writerow(headers(language))
    out.writerows(_cells(r, language) for r in report.rows)
    return UTF8_BOM + buf.getvalue().encode("utf-8")


def _json(report: Report) -> bytes:
    rows = []
    for r in report.rows:
        d = asdict(r)
        del d["waits"]
        d["day"] = r.day.isoformat()
        rows.append(d)
    doc = {
        "site": report.site,
        "date_from": report.date_from.isoformat(),
        "date_to": report.date_to.isoformat(),
        "camera": report.camera,
        "generated_at": report.generated_at.isoformat(),
        "rows": rows,
    }
    return json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:1.5rem;color:#222}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}
.meta{color:#555}.charts{display:flex;flex-wrap:wrap;gap:1.5rem}
figure{margin:0}figcaption{font-weight:600;margin-bottom:.3rem}
table{border-collapse:collapse;font-size:.85rem;margin-top:.5rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:right}
th{background:#f0f3f7}td.t{text-align:left}
svg text{font-size:10px;fill:#333}
@media print{.charts{display:block}}
"""


def _html(report: Report, language: Language) -> str:
    tx = _TEXT[language]
    esc = html.escape
    title = f"{tx['title']} — {report.site}"
    period = _fmt_day(report.date_from, language)
    if report.date_to != report.date_from:
        period += " – " + _fmt_day(report.date_to, language)
    days = [r for r in report.rows if r.hour is None]
    hours = [r for r in report.rows if r.hour is not None]
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{language}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
        f'<p class="meta">{tx["period"]}: {esc(period)} · {tx["camera"]}: {esc(report.camera or tx["all_cameras"])}'
        f' · {tx["generated"]}: {esc(report.generated_at.strftime("%d/%m/%Y %H:%M" if language == "vi" else "%Y-%m-%d %H:%M"))}</p>',
    ]
    if not report.rows:
        parts.append(f"<p>{tx['no_data']}</p></body></html>")
        return "\n".join(parts)
    parts += [
        '<div class="charts">',
        _figure(tx["chart_served"], bars(served_per_hour(hours))),
        _figure(tx["chart_queue"], lines(queue_per_hour(hours))),
        _figure(tx["chart_waits"], bars(wait_histogram([w for r in days for w in r.waits]))),
        _figure(tx["chart_absence"], hbars(absence_per_counter(days))),
        "</div>",
        f"<h2>{tx['days']}</h2>", _table(days, language),
        f"<h2>{tx['hours']}</h2>", _table(hours, language),
        "</body></html>",
    ]
    return "\n".join(parts)


def _table(rows: list[ReportRow], language: Language) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers(language))
    body = []
    for r in rows:
        cells = _cells(r, language)
        body.append("<tr>" + "".join(
            f'<td class="t">{html.escape(v)}</td>' if k < 4 else f"<td>{html.escape(v)}</td>"
            for k, v in enumerate(cells)
        ) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _figure(caption: str, svg: str) -> str:
    return f"<figure><figcaption>{html.escape(caption)}</figcaption>{svg}</figure>"


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
