"""The site's figures for the hub, read from the site database: counter-days of the office report and
counter minutes (the seat, the spot and the queue summed over its waiting areas)."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlite_utils

from monitor.counters.office_report import analyse_day, office_day_rows
from monitor.counters.site import counter_window
from monitor.db.store import minute_rollups
from monitor.ops.hubmessages import CounterDay, CounterRef, p90, queue_minutes
from monitor.site.config import Config
from monitor.site.office import office_of


def counter_days(config: Config, db: sqlite_utils.Database, day: date) -> list[CounterDay]:
    """Every counter with data on a local day: the office report's day row (tickets first where present)
    and the per-citizen waits and service times it was computed from."""
    office = office_of(config)
    analysis, window, tickets = analyse_day(config, office, db, day)
    rows = {r.id: r for r in office_day_rows(analysis, day, window, tickets, config.site.tz, hours=False)
            if r.level == "counter" and r.hour is None}
    out = []
    for c in office.counters:
        row = rows.get(c.id)
        if row is None:
            continue
        if row.source == "tickets":
            mine = [v for v in tickets if v.counter == c.id and v.served_at is not None
                    and window.start <= v.served_at < window.end]
            waits = [v.wait_s for v in mine if v.wait_s is not None]
            service = [v.service_s for v in mine if v.service_s is not None]
        else:
            stats = counter_window(analysis, c.id, window)
            waits, service = list(stats.waits), list(stats.service_times)
        out.append(CounterDay(day, c.id, c.name, c.field, c.queue, row.source, row.served, row.mean_service_s,
                              p90(service), row.mean_wait_s, row.max_wait_s, row.absence_min, row.utilisation,
                              row.mean_queue, row.max_queue, waits))
    return out


def counter_minutes(db: sqlite_utils.Database, ref: CounterRef, t0: float, t1: float) -> dict[str, list[dict[str, Any]]]:
    """The minute roll-ups of a counter's spot, seat and queue (summed over its areas) in [t0, t1)."""
    return {"spot": minute_rollups(db, *ref.spot, t0, t1), "seat": minute_rollups(db, *ref.seat, t0, t1),
            "queue": queue_minutes([minute_rollups(db, cam, zone, t0, t1) for cam, zone in ref.areas])}
