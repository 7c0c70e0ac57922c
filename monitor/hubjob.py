"""The supervisor's side of the district hub link: a periodic job that fills the outbox, and the publisher."""

from __future__ import annotations

import logging
from collections.abc import Callable

from monitor.db.store import connect
from monitor.jobs import PeriodicJob, Spawn, _thread
from monitor.ops.delivery import AlertEvent
from monitor.ops.publish import Collector, Publisher
from monitor.site.config import Config

log = logging.getLogger(__name__)

COLLECT_EVERY_S = 60.0  # minute roll-ups and the health snapshot are per minute
COLLECT_FIRST_S = 10.0  # after start-up, once the writer has registered the cameras


class HubJob(PeriodicJob):
    """Every minute: queue new roll-ups, report rows, health and site info; the publisher sends them."""

    name = "hub-publish"

    def __init__(self, config: Callable[[], Config], spawn: Spawn = _thread):
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

    def alerts(self, events: list[AlertEvent]) -> None:
        """Queue alerts the alert monitor raised or closed."""
        if not events:
            return
        db = connect(self.config().storage.database)
        try:
            self.collector.alerts(db, events)
        finally:
            db.conn.close()
        self.publisher.notify()

    def alert_sink(self) -> HubAlertSink:
        """The sink the alert monitor hands its events to (beside the webhook, MQTT and e-mail)."""
        return HubAlertSink(self)

    def close(self) -> None:
        self.publisher.stop()


class HubAlertSink:
    """An alert sink that queues each alert event in the hub outbox (the alert monitor calls send and states)."""

    def __init__(self, job: HubJob):
        self.job = job

    def send(self, event: AlertEvent) -> None:
        """Queue one alert event for the hub."""
        self.job.alerts([event])

    def states(self, states: object) -> None:
        """Counter states are not sent to the hub: its roll-ups carry them each minute."""

    def close(self, wait_s: float = 0.0) -> None:
        """Nothing to flush: the outbox is in the database."""


def hub_job(config: Callable[[], Config]) -> HubJob | None:
    """The hub job when cameras.yaml has a hub: section (adding or changing the section needs a restart)."""
    link = config().hub
    if link is None:
        return None
    log.info("hub: publishing as %s to %s", link.site_id, link.broker)
    return HubJob(config)
