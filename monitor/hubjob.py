"""The supervisor's side of the district hub link: a periodic job that fills the outbox, and the publisher."""

from __future__ import annotations

import logging
from collections.abc import Callable

from monitor.db.store import connect
from monitor.jobs import PeriodicJob, Spawn, start_thread
from monitor.ops.alerts import Alert
from monitor.ops.publish import Collector, Publisher
from monitor.site.config import Config

log = logging.getLogger(__name__)

COLLECT_EVERY_S = 60.0  # minute roll-ups and the health snapshot are per minute
COLLECT_FIRST_S = 10.0  # after start-up, once the writer has registered the cameras


class HubJob(PeriodicJob):
    """Every minute: queue new roll-ups, report rows, health and site info; the publisher sends them."""

    name = "hub-publish"

    def __init__(self, config: Callable[[], Config], spawn: Spawn = start_thread):
        super().__init__(COLLECT_EVERY_S, COLLECT_FIRST_S, spawn)
        self.config = config
        self.collector = Collector(config)
        link = config().hub
        assert link is not None, "HubJob needs a hub: section"
        self.publisher = Publisher(link, config().storage.database).start()

    def run(self, now: float) -> None:
        db = connect(self.config().storage.database)
        try:
            self.collector.collect(db)
        finally:
            db.conn.close()
        self.publisher.notify()

    def alerts(self, alerts: list[Alert]) -> None:
        """Queue alerts the alert monitor raised (called from the supervisor loop)."""
        if not alerts:
            return
        db = connect(self.config().storage.database)
        try:
            self.collector.alerts(db, alerts)
        finally:
            db.conn.close()
        self.publisher.notify()

    def close(self) -> None:
        self.publisher.stop()


def hub_job(config: Callable[[], Config]) -> HubJob | None:
    """The hub job when cameras.yaml has a hub: section (adding or changing the section needs a restart)."""
    link = config().hub
    if link is None:
        return None
    log.info("hub: publishing as %s to %s", link.site_id, link.broker)
    return HubJob(config)
