"""Hub retention: minute roll-ups and message ids are kept for days, daily rows and alerts for years.

Run by the hub service as a periodic job. Deletes go in short batches so the MQTT writer, which
shares the file, never waits long for the lock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlite_utils

from monitor.hub.store import open_hub_db
from monitor.jobs import PeriodicJob, Spawn, start_thread

log = logging.getLogger(__name__)

DAY_S = 86400
YEAR_DAYS = 365.25
RETENTION_EVERY_S = 3600.0  # a day's expiry is a few hundred thousand rows at 200 sites; hourly keeps each pass small
RETENTION_FIRST_S = 60.0  # after start-up, once the broker's backlog has begun to flow
BATCH_ROWS = 5000  # rows per delete transaction: a few milliseconds of lock each
DISTRICT_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@dataclass(frozen=True)
class HubRetention:
    """How long the hub keeps what it stores."""

    rollup_days: int = 35  # minute roll-ups and message ids: longer than any outage a site's outbox rides out
    daily_years: int = 5  # daily report rows and closed alerts: the year-on-year comparisons

    def __post_init__(self) -> None:
        if not 1 <= self.rollup_days <= 3650:
            raise ValueError(f"rollup_days {self.rollup_days} is not between 1 and 3650")
        if not 1 <= self.daily_years <= 100:
            raise ValueError(f"daily_years {self.daily_years} is not between 1 and 100")


def _delete(db: sqlite_utils.Database, table: str, where: str, params: list[object]) -> int:
    total = 0
    while True:
        with db.conn:
            cur = db.conn.execute(
                f"delete from {table} where rowid in (select rowid from {table} where {where} limit {BATCH_ROWS})",
                params)
        total += cur.rowcount
        if cur.rowcount < BATCH_ROWS:
            return total


def prune_hub(db: sqlite_utils.Database, now: float, retention: HubRetention) -> dict[str, int]:
    """Delete what is older than the retention at `now`; returns the rows deleted per table."""
    minute_cut = now - retention.rollup_days * DAY_S
    today = datetime.fromtimestamp(now, DISTRICT_TZ).date()
    first_kept = today - timedelta(days=round(YEAR_DAYS * retention.daily_years))
    alert_cut = datetime.combine(first_kept, datetime.min.time(), DISTRICT_TZ).timestamp()
    return {
        "rollups": _delete(db, "rollups", "minute < ?", [minute_cut]),
        "messages": _delete(db, "messages", "received < ?", [minute_cut]),
        "report_rows": _delete(db, "report_rows", "day < ?", [first_kept.isoformat()]),
        "alerts": _delete(db, "alerts", "state = 'closed' and closed_at < ?", [alert_cut]),
    }


class HubRetentionJob(PeriodicJob):
    """Every hour: prune the hub database."""

    name = "hub-retention"

    def __init__(self, database: Path, retention: HubRetention, spawn: Spawn = start_thread):
        super().__init__(RETENTION_EVERY_S, RETENTION_FIRST_S, spawn)
        self.database, self.retention = database, retention
        self.last: dict[str, int] = {}

    def run(self, now: float) -> None:
        db = open_hub_db(self.database)
        try:
            self.last = prune_hub(db, now, self.retention)
        finally:
            db.conn.close()
        if any(self.last.values()):
            log.info("hub retention: deleted %s", ", ".join(f"{n} {t}" for t, n in self.last.items() if n))
