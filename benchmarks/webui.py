"""Web UI response times on a large site: the events list and API, and a 30-day report.

Usage: python benchmarks/webui.py [--dir DIR] [--second-days N] [--events N] [--requests N] [--lists-only]

Builds (once per DIR; reused when DIR already holds a build) a site of 10 cameras with 4 zones each
(staff seat, service spot, waiting area, door), open every day 07:30-11:30 and 13:30-17:30 (8 h), and
a SQLite database with the real schema (monitor.db.store migrations) holding:
  - 1,000,000 events over the last 30 days (one every ~9 s per camera during opening hours),
  - per-minute occupancy roll-ups for all 30 days x 10 cameras x 4 zones (576,000 rows),
  - per-second occupancy samples for the last N of those days (default 30: 34.56M rows).
Rows go in with executemany, one transaction per camera.

Then, in one process with Flask's test client logged in as an admin through the login form:
  - GET /events and GET /api/v1/events, 300 requests each (--requests) made as people browse: a first
    page with varied filters, then the "older" link followed 0-200 times (the page's own link, so
    keyset cursors): p50 / p95,
  - monitor.counters.reports.build_report for the 30 days and 10 cameras, and /reports/download?...&format=csv,
    each cold (report_cache emptied first) and warm (again, with the complete days cached),
  - GET /reports (the page with its charts) for today and for the last day's month, for information.
and prints a table of figures against the targets.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sqlite3
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import repeat
from pathlib import Path
from html import unescape
from urllib.parse import urlencode

import numpy as np

# `python benchmarks/webui.py` puts benchmarks/ first on sys.path, where this file would shadow the
# webui package it measures.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

CAMERAS = [f"quay-{i:02d}" for i in range(1, 11)]
ZONES = {"ghe": "staff_seat", "quay": "service_spot", "cho": "waiting_area", "cua": "motion"}
PERIODS = (("07:30", 240), ("13:30", 240))  # (start, minutes): 8 h, the ~8 h/day of the brief
DAYS = 30
EVENTS = 1_000_000
TZ_NAME = "Asia/Ho_Chi_Minh"
PASSWORD = "bench-password-1"

LIST_P95_TARGET_MS = 50.0
REPORT_TARGET_S = 1.0


# ------------------------------------------------------------------ the site


def write_config(folder: Path) -> Path:
    def zone(i: int, zid: str, kind: str) -> str:
        x = 0.05 + 0.22 * i
        return f"      - {{id: {zid}, kind: {kind}, points: [[{x:.2f}, 0.2], [{x + 0.2:.2f}, 0.2], [{x + 0.2:.2f}, 0.8]]}}\n"

    cams = "".join(
        f"  - id: {cam}\n    name: \"Quầy {n + 1}\"\n    streams: {{main: {cam}.mp4}}\n    zones:\n"
        + "".join(zone(i, zid, kind) for i, (zid, kind) in enumerate(ZONES.items()))
        for n, cam in enumerate(CAMERAS)
    )
    path = folder / "cameras.yaml"
    path.write_text(textwrap.dedent(f"""\
        site:
          name: "Bộ phận một cửa - benchmark"
          timezone: {TZ_NAME}
          language: vi
          opening_hours: {{days: [mon, tue, wed, thu, fri, sat, sun], periods: ["07:30-11:30", "13:30-17:30"]}}
        storage: {{recordings: recordings, database: onestop.db}}
        cameras:
        """) + cams, encoding="utf-8")
    return path


def day_list(last: date) -> list[date]:
    return [last - timedelta(days=DAYS - 1 - i) for i in range(DAYS)]


def opening_seconds(day: date, tz) -> np.ndarray:  # noqa: ANN001 - ZoneInfo
    """Unix seconds of every second the site is open on `day`."""
    parts = []
    for start, minutes in PERIODS:
        h, m = map(int, start.split(":"))
        t0 = int(datetime(day.year, day.month, day.day, h, m, tzinfo=tz).timestamp())
        parts.append(np.arange(t0, t0 + minutes * 60, dtype=np.int64))
    return np.concatenate(parts)


def _sessions(rng: np.random.Generator, n: int, mean_on: float, mean_off: float) -> np.ndarray:
    """A boolean series alternating random on and off spells (exponential lengths)."""
    out = np.zeros(n, bool)
    i, on = 0, bool(rng.integers(2))
    while i < n:
        length = int(rng.exponential(mean_on if on else mean_off)) + 1
        out[i:i + length] = on
        i += length
        on = not on
    return out


def counter_day(rng: np.random.Generator, n: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(occupied, count) per zone for one camera-day of n seconds: a plausible counter."""
    seat = _sessions(rng, n, 1500, 240)  # officer seated ~25 min, away ~4 min
    spot = _sessions(rng, n, 300, 90) & seat  # citizens served ~5 min, ~1.5 min between
    queue_n = np.clip(np.cumsum(rng.choice([-1, 0, 0, 0, 1], n)) % 8 - 2, 0, None).astype(np.float32)
    door = rng.random(n) < 0.05
    return {
        "ghe": (seat, seat.astype(np.float32)),
        "quay": (spot, spot.astype(np.float32)),
        "cho": (queue_n > 0, queue_n),
        "cua": (door, door.astype(np.float32)),
    }


@dataclass
class Built:
    folder: Path
    config: Path
    database: Path
    days: list[date]
    second_days: int
    events: int
    occupancy_rows: int
    minute_rows: int
    build_s: dict[str, float]


def build(folder: Path, second_days: int, n_events: int) -> Built:
    """Write cameras.yaml and fill the database (see the module docstring); reuses an earlier build."""
    from zoneinfo import ZoneInfo

    from monitor.site.config import load_config
    from monitor.db.store import open_db
    from monitor.db import users

    marker = folder / "build.json"
    config_path = folder / "cameras.yaml"
    if marker.exists():
        info = json.loads(marker.read_text())
        print(f"reusing the build in {folder}")
        return Built(folder, config_path, folder / "onestop.db", [date.fromisoformat(d) for d in info["days"]],
                     info["second_days"], info["events"], info["occupancy_rows"], info["minute_rows"],
                     info["build_s"])
    folder.mkdir(parents=True, exist_ok=True)
    config_path = write_config(folder)
    config = load_config(config_path)
    tz = ZoneInfo(TZ_NAME)
    days = day_list(datetime.now(tz).date() - timedelta(days=1))
    db = open_db(config.storage.database)  # the real schema, all migrations
    users.add_user(db, "admin", PASSWORD, "admin", now=time.time())
    db.conn.close()

    conn = sqlite3.connect(config.storage.database)
    conn.execute("PRAGMA journal_mode=DELETE")  # one writer, nothing to protect while building
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-1000000")  # 1 GB
    timings: dict[str, float] = {}

    t = time.perf_counter()
    n_ev = insert_events(conn, days, tz, n_events)
    timings["events"] = time.perf_counter() - t
    t = time.perf_counter()
    n_sec, n_min = insert_occupancy(conn, days, tz, second_days)
    timings["occupancy"] = time.perf_counter() - t
    conn.execute("PRAGMA journal_mode=WAL")  # as the supervisor leaves it
    conn.close()

    built = Built(folder, config_path, Path(config.storage.database), days, second_days, n_ev, n_sec, n_min, timings)
    marker.write_text(json.dumps({"days": [d.isoformat() for d in days], "second_days": second_days,
                                  "events": n_ev, "occupancy_rows": n_sec, "minute_rows": n_min,
                                  "build_s": timings}))
    return built


def insert_events(conn: sqlite3.Connection, days: list[date], tz, n: int) -> int:  # noqa: ANN001
    """n events in start order, cameras interleaved, during opening hours; the columns the schema has."""
    rng = np.random.default_rng(1)
    open_s = np.concatenate([opening_seconds(d, tz) for d in days])
    starts = np.sort(rng.choice(open_s, n) + rng.random(n)).tolist()
    cams = rng.integers(0, len(CAMERAS), n).tolist()
    lengths = np.minimum(rng.lognormal(2.5, 0.9, n), 300).tolist()  # median ~12 s, some minutes long
    peaks = rng.uniform(0.003, 0.4, n).tolist()
    zone_ids = list(ZONES)
    zone_sets = [",".join(zone_ids[j] for j in range(4) if m >> j & 1) or None for m in range(16)]
    zmask = rng.integers(0, 16, n).tolist()
    reviewed = (rng.random(n) < 0.05).tolist()  # supervisors reviewed 5% of them
    columns = {r[1] for r in conn.execute("PRAGMA table_info(events)")}

    def rows():
        for i in range(n):
            cam, start = CAMERAS[cams[i]], starts[i]
            day = datetime.fromtimestamp(start, tz)
            eid = f"{cam}-{day:%Y%m%d-%H%M%S}-{i:06x}"
            rel = f"{cam}/{day:%Y-%m-%d}/{eid}"
            row = {"id": eid, "camera": cam, "start": start, "end": start + lengths[i], "peak": peaks[i],
                   "clip_path": rel + ".mp4", "thumb_path": rel + ".jpg", "clip_state": "complete",
                   "clip_duration": lengths[i] + 15, "created": start, "zones": zone_sets[zmask[i]],
                   "reviewed_by": "admin" if reviewed[i] else None,
                   "reviewed_at": start + 3600 if reviewed[i] else None,
                   "note": "đã kiểm tra" if reviewed[i] else None}
            yield tuple(row[c] for c in names)

    names = [c for c in ("id", "camera", "start", "end", "peak", "clip_path", "thumb_path", "clip_state",
                         "clip_duration", "created", "zones", "reviewed_by", "reviewed_at", "note") if c in columns]
    quoted = ", ".join(f'"{c}"' for c in names)  # "end" is an SQL keyword
    sql = f"insert into events ({quoted}) values ({', '.join('?' * len(names))})"
    with conn:
        conn.executemany(sql, rows())
    return n


def insert_occupancy(conn: sqlite3.Connection, days: list[date], tz, second_days: int) -> tuple[int, int]:  # noqa: ANN001
    """Per-minute roll-ups for every day; per-second samples for the last `second_days` days."""
    n_sec = n_min = 0
    seconds = [opening_seconds(d, tz) for d in days]
    for c, cam in enumerate(CAMERAS):
        rng = np.random.default_rng(100 + c)
        per_day = [counter_day(rng, len(s)) for s in seconds]
        t0 = time.perf_counter()
        with conn:  # one transaction per camera (~3.5M rows with 30 days of seconds)
            for zone in ZONES:  # primary-key order (camera, zone, t): appends to the b-tree
                for d, ts in enumerate(seconds):
                    occ, count = per_day[d][zone]
                    minutes = ts[::60]
                    occ_m, cnt_m = occ.reshape(-1, 60), count.reshape(-1, 60)
                    conn.executemany(
                        "insert into occupancy_minute (camera, zone, minute, samples, occupied_s, count_sum, count_max)"
                        " values (?, ?, ?, 60, ?, ?, ?)",
                        zip(repeat(cam), repeat(zone), minutes.tolist(), occ_m.sum(1).tolist(),
                            cnt_m.sum(1).astype(float).tolist(), cnt_m.max(1).astype(float).tolist()))
                    n_min += len(minutes)
                    if d >= len(days) - second_days:
                        conn.executemany(
                            "insert into occupancy (camera, zone, t, occupied, count) values (?, ?, ?, ?, ?)",
                            zip(repeat(cam), repeat(zone), ts.tolist(), occ.astype(int).tolist(),
                                count.astype(float).tolist()))
                        n_sec += len(ts)
        print(f"  {cam}: occupancy written in {time.perf_counter() - t0:.1f} s", flush=True)
    return n_sec, n_min


# ------------------------------------------------------------------ measuring


def login(client) -> None:  # noqa: ANN001 - FlaskClient
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = client.post("/login", data={"csrf_token": token, "username": "admin", "password": PASSWORD})
    assert r.status_code == 302, r.status_code


def event_filters(days: list[date], n: int, seed: int = 7) -> list[dict[str, str]]:
    """n varied filter combinations, like people use the list (no page: pages come from the links)."""
    rng = random.Random(seed)
    zones = list(ZONES)

    def one() -> dict[str, str]:
        q: dict[str, str] = {}
        if rng.random() < 0.5:
            q["camera"] = rng.choice(CAMERAS)
        if rng.random() < 0.25:
            q["zone"] = rng.choice(zones)
        if rng.random() < 0.35:
            first = rng.choice(days)
            q["date_from"] = first.isoformat()
            q["date_to"] = min(first + timedelta(days=rng.choice([0, 0, 6])), days[-1]).isoformat()
        if rng.random() < 0.2:
            h = rng.randint(7, 16)
            q["time_from"], q["time_to"] = f"{h:02d}:00", f"{h + 1:02d}:00"
        if rng.random() < 0.2:
            q["min_length"] = rng.choice(["30", "60", "120"])
        if rng.random() < 0.2:
            q["reviewed"] = rng.choice(["yes", "no"])
        return q

    return [one() for _ in range(n)]


# How many times a visit clicks "older" after the first page: mostly a few, sometimes deep (at 50
# events a page, 200 clicks reach the 10,000th event of the filter).
OLDER_CLICKS = (0, 0, 1, 1, 2, 3, 5, 10, 30, 200)


def _older_in_html(html: str) -> str | None:
    link = re.search(r'<a rel="next" href="([^"]+)"', html)
    return unescape(link.group(1)) if link else None


def _older_in_json(path: str, body: dict) -> str | None:
    if "older" not in body and body.get("has_next"):  # the API before cursors: page numbers
        return f"{path}?{urlencode({**body['filters'], 'limit': body['limit'], 'page': body['page'] + 1})}"
    return f"{path}?{urlencode({**body['filters'], 'limit': body['limit'], 'before': body['older']})}" \
        if body.get("older") else None


def time_visits(client, path: str, filters: list[dict[str, str]], n: int, seed: int = 11) -> Timing:  # noqa: ANN001
    """n requests made as people browse: a filtered first page, then "older" links followed, per visit."""
    rng = random.Random(seed)
    for q in filters[:3]:  # warm-up: templates compiled, page cache primed like a running server
        client.get(path, query_string=q)
    samples, worst, worst_ms = [], "", -1.0
    visits = iter(filters * (n // max(1, len(filters)) + 1))
    while len(samples) < n:
        q = next(visits)
        url: str | None = f"{path}?{urlencode({**q, 'limit': '50'} if path.startswith('/api/') else q)}"
        for _ in range(1 + rng.choice(OLDER_CLICKS)):
            if url is None or len(samples) >= n:
                break
            t = time.perf_counter()
            r = client.get(url)
            ms = (time.perf_counter() - t) * 1000
            if r.status_code != 200:
                raise SystemExit(f"{url} -> HTTP {r.status_code}: {r.get_data(as_text=True)[:300]}")
            samples.append(ms)
            if ms > worst_ms:
                worst, worst_ms = url, ms
            url = _older_in_json(path, r.get_json()) if path.startswith("/api/") else _older_in_html(r.get_data(as_text=True))
    return Timing(f"GET {path}", samples, worst)


@dataclass
class Timing:
    what: str
    samples_ms: list[float]
    worst: str = ""

    def pct(self, p: float) -> float:
        s = sorted(self.samples_ms)
        return s[min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))]


def clear_report_cache(database: Path) -> None:
    conn = sqlite3.connect(database)
    with conn:
        conn.execute("delete from report_cache")
    conn.close()


def wall(fn: Callable[[], object]) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def print_lists(lists: list[Timing]) -> None:
    print()
    print(f"{'measure':<52} {'p50':>9} {'p95':>9} {'max':>9} {'target':>10} {'p95/target':>11}")
    for t in lists:
        p95 = t.pct(95)
        print(f"{t.what + f' ({len(t.samples_ms)} requests)':<52} {t.pct(50):>7.1f}ms {p95:>7.1f}ms "
              f"{max(t.samples_ms):>7.1f}ms {'p95<=' + str(int(LIST_P95_TARGET_MS)) + 'ms':>10} "
              f"{p95 / LIST_P95_TARGET_MS:>10.2f}x")
    for t in lists:
        print(f"slowest {t.what}: {t.worst}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", type=Path, help="build folder (reused when it already holds a build); default: a temp dir")
    ap.add_argument("--second-days", type=int, default=DAYS, help=f"days of per-second samples (1..{DAYS})")
    ap.add_argument("--events", type=int, default=EVENTS)
    ap.add_argument("--requests", type=int, default=300, help="timed requests per list endpoint")
    ap.add_argument("--lists-only", action="store_true", help="measure the events list and API only (no reports)")
    args = ap.parse_args()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="onestop-bench-webui-"))

    from monitor.site.config import load_config
    from monitor.counters.reports import build_report
    from monitor.db.store import connect, open_db, store_report_cache
    from webui import create_app

    print(f"building in {folder} ...", flush=True)
    built = build(folder, max(0, min(args.second_days, DAYS)), args.events)
    size_gb = built.database.stat().st_size / 1e9
    print(f"database {built.database} ({size_gb:.2f} GB): {built.events:,} events, "
          f"{built.minute_rows:,} minute roll-ups ({DAYS} days), {built.occupancy_rows:,} per-second samples "
          f"(last {built.second_days} days) for {len(CAMERAS)} cameras x {len(ZONES)} zones; "
          f"built in {sum(built.build_s.values()):.0f} s "
          f"(events {built.build_s['events']:.0f} s, occupancy {built.build_s['occupancy']:.0f} s)")

    config = load_config(built.config)
    app = create_app(config)
    client = app.test_client()
    login(client)
    filters = event_filters(built.days, args.requests)
    lists = [time_visits(client, "/events", filters, args.requests),
             time_visits(client, "/api/v1/events", filters, args.requests)]
    if args.lists_only:
        print_lists(lists)
        return

    first, last = built.days[0].isoformat(), built.days[-1].isoformat()
    open_db(built.database).conn.close()  # a build made before migration 006 gets the report_cache table
    clear_report_cache(built.database)  # cold: as after an upgrade, before anything was cached
    db = connect(built.database, readonly=True)
    report_s, report = wall(lambda: build_report(config, db, built.days[0], built.days[-1]))
    store_s, stored = wall(lambda: store_report_cache(built.database, report.cache_entries))
    warm_s, warm = wall(lambda: build_report(config, db, built.days[0], built.days[-1]))
    db.conn.close()
    assert warm.rows == report.rows and not warm.cache_entries, "the warm report differs from the cold one"
    clear_report_cache(built.database)
    download = f"/reports/download?from={first}&to={last}&format=csv"
    download_s, resp = wall(lambda: client.get(download))  # cold; stores the cache as it goes
    assert resp.status_code == 200, resp.status_code
    download_warm_s, resp_warm = wall(lambda: client.get(download))
    assert resp_warm.status_code == 200 and resp_warm.data == resp.data, "the warm download differs"
    page_s, page = wall(lambda: client.get("/reports"))
    month_page = f"/reports?period=month&date={last}"
    month_s, month = wall(lambda: client.get(month_page))

    print_lists(lists)
    print(f"\n{'measure':<52} {'wall':>9} {'target':>10} {'wall/target':>11}")
    rows = [(f"build_report 30 days x {len(CAMERAS)} cameras, cold ({len(report.rows)} rows)", report_s),
            ("build_report, warm (report_cache filled)", warm_s),
            (f"GET /reports/download 30 days csv, cold ({len(resp.data) // 1024} KB)", download_s),
            ("GET /reports/download, warm", download_warm_s)]
    for what, s in rows:
        print(f"{what:<52} {s:>8.2f}s {'<=' + str(REPORT_TARGET_S) + 's':>10} {s / REPORT_TARGET_S:>10.2f}x")
    print(f"{'store_report_cache (' + str(stored) + ' counter-days)':<52} {store_s:>8.2f}s   (for information)")
    print(f"{'GET /reports (page, today; HTTP ' + str(page.status_code) + ')':<52} {page_s:>8.2f}s   (for information)")
    print(f"{'GET ' + month_page + ' (HTTP ' + str(month.status_code) + ')':<52} {month_s:>8.2f}s   (for information)")
    print()
    print(f"report days with rows: {len({r.day for r in report.rows})} of {DAYS} "
          f"(days without per-second samples are left out of reports)")


if __name__ == "__main__":
    main()
