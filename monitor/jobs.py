"""The supervisor's background duties as periodic jobs: the daily report, the report cache, retention and alerts.

Each job is ticked by the supervisor loop with the current time; when it is due (and its last run has
finished) it runs in a thread of its own, so a slow report or a long retention pass never holds up the
loop that watches the workers. A failed run is logged whole and tried again at the next interval.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from monitor.ops.alerts import CHECK_EVERY_S as ALERT_CHECK_S, AlertMonitor
from monitor.site.config import Config, OpeningHours
from monitor.upkeep.holds import read_held_spans

log = logging.getLogger(__name__)

REPORT_DELAY_S = 15 * 60  # the daily report waits for late samples and the last clips after closing time
REPORT_CHECK_S = 60.0  # how often the supervisor looks whether a daily report is due
# A fill with nothing missing reads one roll-up count per camera-day; this catches the days that became
# complete when no daily report ran (closed days, a supervisor started after closing time).
REPORT_CACHE_S = 6 * 3600.0
RETENTION_FIRST_S = 60.0  # the first retention run waits until start-up (recovery, workers) has settled

Spawn = Callable[[Callable[[], None], str], None]


def start_thread(target: Callable[[], None], name: str) -> None:
    """Run target in a daemon thread of its own (how a job runs unless a test passes another spawn)."""
    threading.Thread(target=target, name=name, daemon=True).start()


def report_due(now: datetime, hours: OpeningHours, written: set[date]) -> date | None:
    """The local day whose report is due at `now` (aware, site time), or None: after closing time, once per day."""
    today = now.date()
    spans = hours.spans(today, now.tzinfo)  # naive `now`: both sides are read as local time
    if today in written or not spans:
        return None
    return today if now.timestamp() - spans[-1].end >= REPORT_DELAY_S else None


class PeriodicJob:
    """A duty run every interval_s, the first time first_s after the first tick; one run at a time."""

    name = "job"

    def __init__(self, interval_s: float, first_s: float = 0.0, spawn: Spawn = start_thread):
        self.interval_s = interval_s
        self.first_s = first_s
        self.spawn = spawn  # tests pass one that runs the job at once, in their own thread
        self.next_due: float | None = None
        self.running = threading.Event()

    def interval(self) -> float:
        """Seconds from one run to the next (a job may read it from the live configuration)."""
        return self.interval_s

    def run_soon(self) -> None:
        """Run at the next tick, whatever the interval says."""
        self.next_due = float("-inf")

    def tick(self, now: float) -> bool:
        """Start a run if one is due and the last one has finished; True when it started one."""
        if self.next_due is None:
            self.next_due = now + self.first_s
        if now < self.next_due or self.running.is_set():
            return False
        self.next_due = now + self.interval()
        self.running.set()
        self.spawn(lambda: self._run_logged(now), self.name)
        return True

    def _run_logged(self, now: float) -> None:
        try:
            self.run(now)
        except Exception:  # noqa: BLE001 - a failed run must not stop the supervisor; it is logged whole
            log.exception("%s: run failed", self.name)
        finally:
            self.running.clear()

    def run(self, now: float) -> None:
        """The job's work; `now` is the time of the tick that started it."""
        raise NotImplementedError


class ReportCacheJob(PeriodicJob):
    """Stores the report rows of the last complete days not cached yet (monitor/counters/reports.py)."""

    name = "report-cache"

    def __init__(self, config: Callable[[], Config], spawn: Spawn = start_thread):
        super().__init__(REPORT_CACHE_S, 0.0, spawn)  # at start-up: reports over the last month read the cache
        self.config = config

    def run(self, now: float) -> None:
        from monitor.counters.reports import fill_report_cache

        config = self.config()
        fill_report_cache(config, config.storage.database)  # logs what it filled


class DailyReportJob(PeriodicJob):
    """After closing time, writes the day's CSV and HTML report into reports/ beside cameras.yaml."""

    name = "daily-report"

    def __init__(self, config: Callable[[], Config], after: Callable[[], None] = lambda: None,
                 spawn: Spawn = start_thread):
        super().__init__(REPORT_CHECK_S, 0.0, spawn)
        self.config = config
        self.after = after  # called once a report is written (the supervisor caches the days before it)
        self.written: set[date] = set()

    def run(self, now: float) -> None:
        config = self.config()
        local = datetime.fromtimestamp(now, config.site.tz)
        out_dir = Path(config.path).parent / "reports"
        today = local.date()
        written = self.written | ({today} if (out_dir / f"{today.isoformat()}.csv").exists() else set())
        day = report_due(local, config.site.opening_hours, written)
        if day is None:
            return
        self.written.add(day)
        try:
            self.write(config, day, out_dir)
        finally:
            # The day just reported is not complete yet (samples keep coming until midnight + 1 h), so
            # it is not cached now; this caches yesterday and any day still missing.
            self.after()

    def write(self, config: Config, day: date, out_dir: Path) -> None:
        from monitor.counters.compliance import write_compliance_files
        from monitor.counters.reports import write_daily_report
        from monitor.counters.weekly import write_week_files
        from monitor.db.store import connect

        db = connect(config.storage.database, readonly=True)
        try:
            # the staffing-compliance files first: the report's CSV, written last, marks the day done
            # (and after the week's last open day, the week's summary)
            paths = (write_compliance_files(config, db, day, out_dir) + write_week_files(config, db, day, out_dir)
                     + write_daily_report(config, db, day, out_dir))
        finally:
            db.conn.close()
        log.info("daily report for %s written: %s", day, ", ".join(str(p) for p in paths))


class RetentionJob(PeriodicJob):
    """Every retention.interval_min, deletes old data and the clips over the disk budget."""

    name = "retention"

    def __init__(self, config: Callable[[], Config], spawn: Spawn = start_thread):
        super().__init__(config().retention.interval_min * 60, RETENTION_FIRST_S, spawn)
        self.config = config

    def interval(self) -> float:
        return self.config().retention.interval_min * 60  # follows a reloaded cameras.yaml

    def run(self, now: float) -> None:
        from monitor.upkeep.prune import run_retention

        config = self.config()
        result = run_retention(config, now=now, held=read_held_spans(Path(config.storage.database)))
        removed = [f"{s.kind} {s.count}" for s in result.summaries if s.count]
        log.info("retention: %s", ", ".join(removed) if removed else "nothing to remove")


class AlertJob(PeriodicJob):
    """Every few seconds, the alert rules over the counters' live state (monitor/ops/alerts.py)."""

    name = "alerts"

    def __init__(self, monitor: AlertMonitor, spawn: Spawn = start_thread):
        super().__init__(ALERT_CHECK_S, 0.0, spawn)
        self.monitor = monitor

    def run(self, now: float) -> None:
        self.monitor.run(now)
