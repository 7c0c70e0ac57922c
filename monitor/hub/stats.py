"""What the hub dashboard shows, read from the hub database: site states, period figures, weekly ranking."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlite_utils

from monitor.ops.hubmessages import p90

ONLINE_S = 180  # a site publishes health every minute: three missed minutes and it counts as offline
WAIT_TARGET_S = 900  # 15 minutes: the default wait target for the "waited over target" share
MAX_PERIOD_DAYS = 366
UTF8_BOM = "\ufeff"  # Excel reads the CSV as UTF-8 (Vietnamese diacritics) only with it


@dataclass(frozen=True)
class SiteState:
    """One site on the dashboard's first table."""

    site: str
    name: str
    site_url: str | None
    timezone: str
    online: bool
    last_data: float | None  # the site time of its newest message
    last_health: float | None
    cameras: int
    cameras_down: int
    open_alerts: int


def site_states(db: sqlite_utils.Database, now: float) -> list[SiteState]:
    """Every site the hub has heard of, by id."""
    rows = db.execute(
        "select s.site, s.name, s.site_url, s.timezone, s.last_at, h.at, h.down, h.cameras,"
        " (select count(*) from alerts a where a.site = s.site and a.state != 'closed')"
        " from sites s left join health h on h.site = s.site order by s.site").fetchall()
    out = []
    for site, name, url, tz, last_at, health_at, down, cameras, open_alerts in rows:
        out.append(SiteState(site, name or site, url, tz or "Asia/Ho_Chi_Minh",
                             health_at is not None and now - health_at <= ONLINE_S, last_at, health_at,
                             len(json.loads(cameras)) if cameras else 0, down or 0, open_alerts))
    return out


@dataclass(frozen=True)
class Figures:
    """Served, waits, service time and absence of a site (or a counter) over a period."""

    site: str
    counter: str | None  # "camera/counter", None for the whole site
    days: int  # days with data
    served: int
    mean_wait_s: float | None
    p90_wait_s: float | None
    over_target: float | None  # share of citizens who waited longer than the target, 0..1
    mean_service_s: float | None
    absence_min: float


def _figures(site: str, counter: str | None, rows: list[tuple[Any, ...]], target_s: float) -> Figures:
    waits: list[float] = []
    served = service_weight = 0
    service_sum = absence = 0.0
    for _day, n, mean_service, absence_min, waits_json in rows:
        served += n or 0
        waits += json.loads(waits_json or "[]")
        if mean_service is not None and n:
            service_sum += mean_service * n
            service_weight += n
        absence += absence_min or 0.0
    return Figures(
        site, counter, len({r[0] for r in rows}), served,
        sum(waits) / len(waits) if waits else None, p90(waits),
        sum(w > target_s for w in waits) / len(waits) if waits else None,
        service_sum / service_weight if service_weight else None, round(absence, 1))


def check_period(day_from: date, day_to: date) -> None:
    """ValueError naming the problem when the period is reversed or too long."""
    if day_from > day_to:
        raise ValueError(f"first day {day_from.isoformat()} is after last day {day_to.isoformat()}")
    if (day_to - day_from).days + 1 > MAX_PERIOD_DAYS:
        raise ValueError(f"a period is at most {MAX_PERIOD_DAYS} days")


def period_figures(db: sqlite_utils.Database, site: str | None, day_from: date, day_to: date,
                   target_s: float = WAIT_TARGET_S, per_counter: bool = False) -> list[Figures]:
    """Figures per site (every site when site is None), or per counter of one site, over local days."""
    check_period(day_from, day_to)
    sql = ("select site, camera || '/' || counter, day, served, mean_service_s, absence_min, waits from report_rows"
           " where day >= ? and day <= ?" + (" and site = ?" if site else "") + " order by site, camera, counter, day")
    groups: dict[tuple[str, str | None], list[tuple[Any, ...]]] = {}
    for row in db.execute(sql, [day_from.isoformat(), day_to.isoformat(), *([site] if site else [])]):
        key = (row[0], row[1] if per_counter else None)
        groups.setdefault(key, []).append(row[2:])
    return [_figures(s, c, rows, target_s) for (s, c), rows in groups.items()]


def week_of(day: date) -> tuple[date, date]:
    """Monday to Sunday of the week holding day."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def ranking(db: sqlite_utils.Database, day_in_week: date, target_s: float = WAIT_TARGET_S) -> list[Figures]:
    """Every site's figures for one week, shortest mean wait first (sites without waits last)."""
    monday, sunday = week_of(day_in_week)
    rows = period_figures(db, None, monday, sunday, target_s)
    return sorted(rows, key=lambda f: (f.mean_wait_s is None, f.mean_wait_s or 0.0, -f.served, f.site))


def today(tz: str, now: float) -> date:
    """The local day at a site."""
    return datetime.fromtimestamp(now, ZoneInfo(tz)).date()


CSV_FIELDS = ["site", "counter", "days", "served", "mean_wait_s", "p90_wait_s", "over_target", "mean_service_s",
              "absence_min"]


def figures_csv(rows: list[Figures]) -> bytes:
    """The figures as CSV (UTF-8 with BOM for Excel), one line per site or counter."""
    out = io.StringIO()
    out.write(UTF8_BOM)
    writer = csv.DictWriter(out, CSV_FIELDS, lineterminator="\r\n")
    writer.writeheader()
    for f in rows:
        writer.writerow({k: ("" if v is None else round(v, 3) if isinstance(v, float) else v)
                         for k, v in asdict(f).items()})
    return out.getvalue().encode("utf-8")
