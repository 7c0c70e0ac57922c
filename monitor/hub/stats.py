"""What the hub dashboard shows, read from the hub database: site states, period figures, weekly ranking."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal
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
    open_alerts: int  # opened or acknowledged, not closed
    acknowledged_alerts: int  # of the open ones, those someone at the site has acknowledged


def site_states(db: sqlite_utils.Database, now: float) -> list[SiteState]:
    """Every site the hub has heard of, by id."""
    rows = db.execute(
        "select s.site, s.name, s.site_url, s.timezone, s.last_at, h.at, h.down, h.cameras,"
        " (select count(*) from alerts a where a.site = s.site and a.state != 'closed'),"
        " (select count(*) from alerts a where a.site = s.site and a.state = 'acknowledged')"
        " from sites s left join health h on h.site = s.site order by s.site").fetchall()
    out = []
    for site, name, url, tz, last_at, health_at, down, cameras, open_alerts, acked in rows:
        out.append(SiteState(site, name or site, url, tz or "Asia/Ho_Chi_Minh",
                             health_at is not None and now - health_at <= ONLINE_S, last_at, health_at,
                             len(json.loads(cameras)) if cameras else 0, down or 0, open_alerts, acked))
    return out


@dataclass(frozen=True)
class Figures:
    """Served, waits, service time and absence of a site, a field or a counter over a period."""

    site: str  # "" for a field across every site
    counter: str | None  # the counter's name (camera/zone for schema-1 rows), None for a site or a field
    field: str | None  # the counters' field (lĩnh vực); None for a site, or counters without one
    days: int  # days with data
    served: int
    mean_wait_s: float | None
    p90_wait_s: float | None
    over_target: float | None  # share of citizens who waited longer than the target, 0..1
    mean_service_s: float | None
    absence_min: float


By = Literal["site", "counter", "field", "district_field"]


def _figures(key: tuple[str, str | None, str | None], rows: list[tuple[Any, ...]], target_s: float) -> Figures:
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
        *key, len({r[0] for r in rows}), served,
        sum(waits) / len(waits) if waits else None, p90(waits),
        sum(w > target_s for w in waits) / len(waits) if waits else None,
        service_sum / service_weight if service_weight else None, round(absence, 1))


def check_period(day_from: date, day_to: date) -> None:
    """ValueError naming the problem when the period is reversed or too long."""
    if day_from > day_to:
        raise ValueError(f"first day {day_from.isoformat()} is after last day {day_to.isoformat()}")
    if (day_to - day_from).days + 1 > MAX_PERIOD_DAYS:
        raise ValueError(f"a period is at most {MAX_PERIOD_DAYS} days")


_KEYS: dict[str, Any] = {  # row (site, counter label, field) -> the group it adds to
    "site": lambda s, c, f: (s, None, None),
    "counter": lambda s, c, f: (s, c, f),
    "field": lambda s, c, f: (s, None, f),
    "district_field": lambda s, c, f: ("", None, f),
}


def period_figures(db: sqlite_utils.Database, site: str | None, day_from: date, day_to: date,
                   target_s: float = WAIT_TARGET_S, by: By = "site") -> list[Figures]:
    """Figures over local days per site, per counter or per field of each site (of one site when given),
    or per field across every site; the citizens' waits are pooled, so a field's P90 is its citizens'."""
    check_period(day_from, day_to)
    sql = ("select site, coalesce(name, case when camera = '' then counter else camera || '/' || counter end),"
           " field, day, served, mean_service_s, absence_min, waits from report_rows where day >= ? and day <= ?"
           + (" and site = ?" if site else "") + " order by site, counter, camera, day")  # fields in counter order
    groups: dict[tuple[str, str | None, str | None], list[tuple[Any, ...]]] = {}
    for row in db.execute(sql, [day_from.isoformat(), day_to.isoformat(), *([site] if site else [])]):
        groups.setdefault(_KEYS[by](*row[:3]), []).append(row[3:])
    return [_figures(key, rows, target_s) for key, rows in groups.items()]


@dataclass(frozen=True)
class HubAlert:
    """An alert of a site as the hub last heard of it."""

    alert_id: str
    rule: str | None
    name: str | None
    state: str  # opened, acknowledged or closed
    since: float | None
    opened_at: float | None
    acknowledged_at: float | None
    ack_by: str | None
    ack_comment: str | None
    closed_at: float | None


ALERTS_SHOWN = 50


def site_alerts(db: sqlite_utils.Database, site: str, since: float) -> list[HubAlert]:
    """A site's open alerts, then those closed after `since`, newest first (at most ALERTS_SHOWN)."""
    rows = db.execute(
        "select alert_id, rule, name, state, since, opened_at, acknowledged_at, ack_by, ack_comment, closed_at"
        " from alerts where site = ? and (state != 'closed' or closed_at >= ?)"
        " order by state = 'closed', coalesce(since, opened_at, closed_at) desc limit ?",
        [site, since, ALERTS_SHOWN]).fetchall()
    return [HubAlert(*r) for r in rows]


def site_office(db: sqlite_utils.Database, site: str) -> dict[str, Any]:
    """The site's counters and queues as its latest info message listed them ({} before any info)."""
    row = db.execute("select info from sites where site = ?", [site]).fetchone()
    info = json.loads(row[0]) if row and row[0] else {}
    return {"counters": info.get("counters") or [], "queues": info.get("queues") or []}


def week_of(day: date) -> tuple[date, date]:
    """Monday to Sunday of the week holding day."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def rank_order(rows: list[Figures]) -> list[Figures]:
    """Shortest mean wait first, then most served, then by site id; rows without waits last."""
    return sorted(rows, key=lambda f: (f.mean_wait_s is None, f.mean_wait_s or 0.0, -f.served, f.site))


def ranking(db: sqlite_utils.Database, day_in_week: date, target_s: float = WAIT_TARGET_S) -> list[Figures]:
    """Every site's figures for one week, ranked (rank_order)."""
    monday, sunday = week_of(day_in_week)
    return rank_order(period_figures(db, None, monday, sunday, target_s))


def today(tz: str, now: float) -> date:
    """The local day at a site."""
    return datetime.fromtimestamp(now, ZoneInfo(tz)).date()


CSV_FIELDS = ["site", "counter", "field", "field_name", "days", "served", "mean_wait_s", "p90_wait_s", "over_target",
              "mean_service_s", "absence_min"]


def figures_csv(rows: list[Figures], field_label: Callable[[Figures], str] = lambda f: f.field or "",
                ranks: list[int] | None = None) -> bytes:
    """The figures as CSV (UTF-8 with BOM for Excel), one line per site, counter or field, with the field's
    display name beside its id, and a first column of ranks when given."""
    out = io.StringIO()
    out.write(UTF8_BOM)
    writer = csv.DictWriter(out, (["rank"] if ranks is not None else []) + CSV_FIELDS, lineterminator="\r\n")
    writer.writeheader()
    for i, f in enumerate(rows):
        line = {k: ("" if v is None else round(v, 3) if isinstance(v, float) else v) for k, v in asdict(f).items()}
        line["field_name"] = field_label(f)
        if ranks is not None:
            line["rank"] = ranks[i]
        writer.writerow(line)
    return out.getvalue().encode("utf-8")
