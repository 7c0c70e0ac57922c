"""The site side of the hub link: fills the outbox (collect) and pumps it to the MQTT broker (Publisher).

The outbox in the site database is the source of truth: a message leaves it only when the broker has
acknowledged it (QoS 1 PUBACK). paho keeps the messages in flight across reconnects (persistent
session, clean_session False); after a restart everything unacknowledged is sent again, and the hub
drops what it already has by id.
"""

from __future__ import annotations

import logging
import queue
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import sqlite_utils

from monitor.counters.reports import PAD_S, day_window
from monitor.db.alerts import acknowledged_since
from monitor.db.outbox import OutMessage, acknowledge, enqueue, get_cursor, pending, pending_count, prune_acked
from monitor.db.store import camera_states, connect
from monitor.ops.alerts import subject_name
from monitor.ops.delivery import AlertEvent
from monitor.ops.health import camera_health
from monitor.ops.hubmessages import (alert_message, health_message, info_digest, info_message, report_messages,
                                     rollup_messages, site_counters)
from monitor.ops.hubrows import counter_days, counter_minutes
from monitor.site.config import Config, expand_env
from monitor.site.hublink import HubLink

log = logging.getLogger(__name__)

QOS = 1  # at least once: the broker acknowledges each message; ids make the repeats harmless
MAX_INFLIGHT = 200  # unacknowledged messages on the wire; enough to fill a slow link, small in memory
PUMP_IDLE_S = 0.5  # how often the pump looks at the outbox when nothing wakes it
RECONNECT_MIN_S, RECONNECT_MAX_S = 1, 60  # a commune link that drops for hours is retried every minute
ROLLUP_LAG_S = 120  # a minute is published when the writer has surely stored its last sample
RUNNING_REPORT_S = 15 * 60  # today's running report rows are republished this often
BACKLOG_DAYS = 7  # on first start, roll-ups and final report rows of the last week are published


def make_client(link: HubLink, client_id: str) -> mqtt.Client:
    """A paho client for the link: MQTT 3.1.1, persistent session, TLS and account as configured."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False,
                         protocol=mqtt.MQTTv311)
    user, password = link.credentials(expand_env)
    if user is not None:
        client.username_pw_set(user, password)
    if link.tls:
        client.tls_set(ca_certs=str(link.ca_file) if link.ca_file else None,
                       certfile=str(link.cert_file) if link.cert_file else None,
                       keyfile=str(link.key_file) if link.key_file else None, tls_version=ssl.PROTOCOL_TLS_CLIENT)
    client.reconnect_delay_set(RECONNECT_MIN_S, RECONNECT_MAX_S)
    client.max_inflight_messages_set(MAX_INFLIGHT)
    return client


class Publisher:
    """One thread that sends the outbox's pending messages and marks them as the broker acknowledges them."""

    def __init__(self, link: HubLink, database: Path, client_id: str | None = None):
        self.link, self.database = link, database
        self.client = make_client(link, client_id or f"onestop-site-{link.site_id}")
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish
        self.acked: queue.SimpleQueue[int] = queue.SimpleQueue()
        self.inflight: dict[int, str] = {}  # paho mid -> outbox id
        self.connected = threading.Event()
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.sent = 0  # PUBLISH calls, repeats after a restart included
        self.delivered = 0  # acknowledged by the broker
        self.thread = threading.Thread(target=self._run, name=f"hub-publish-{link.site_id}", daemon=True)

    def start(self) -> Publisher:
        """Connect in the background (retrying for ever) and start the pump."""
        self.client.connect_async(self.link.host, self.link.port, self.link.keepalive_s)
        self.client.loop_start()
        self.thread.start()
        return self

    def stop(self, wait_s: float = 5.0) -> None:
        """Stop the pump and disconnect; what is unacknowledged stays in the outbox for next time."""
        self.stopping.set()
        self.wake.set()
        self.thread.join(wait_s)
        self.client.disconnect()
        self.client.loop_stop()

    def notify(self) -> None:
        """New messages are in the outbox: pump now rather than at the next idle tick."""
        self.wake.set()

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: mqtt.ConnectFlags,
                    reason: mqtt.ReasonCode, properties: object) -> None:
        if reason.is_failure:
            log.warning("hub %s: broker refused the connection: %s", self.link.broker, reason)
            return
        log.info("hub %s: connected (session present: %s)", self.link.broker, flags.session_present)
        self.connected.set()
        self.wake.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags: mqtt.DisconnectFlags,
                       reason: mqtt.ReasonCode, properties: object) -> None:
        if self.connected.is_set() and not self.stopping.is_set():
            log.warning("hub %s: disconnected (%s); %d messages in flight are kept for the reconnect",
                        self.link.broker, reason, len(self.inflight))
        self.connected.clear()

    def _on_publish(self, client: mqtt.Client, userdata: object, mid: int, reason: mqtt.ReasonCode,
                    properties: object) -> None:
        self.acked.put(mid)  # the pump thread owns the database connection and the inflight map
        self.wake.set()

    def _run(self) -> None:
        db = connect(self.database)
        try:
            while not self.stopping.is_set():
                self.wake.wait(PUMP_IDLE_S)
                self.wake.clear()
                self._settle(db)
                if self.connected.is_set():
                    self._send(db)
            self._settle(db)
        finally:
            db.conn.close()

    def _settle(self, db: sqlite_utils.Database) -> None:
        """Mark the acknowledged messages in the outbox."""
        ids = []
        while not self.acked.empty():
            msg_id = self.inflight.pop(self.acked.get(), None)
            if msg_id is not None:
                ids.append(msg_id)
        if ids:
            acknowledge(db, ids)
            self.delivered += len(ids)

    def _send(self, db: sqlite_utils.Database) -> None:
        room = MAX_INFLIGHT - len(self.inflight)
        if room <= 0:
            return
        for msg in pending(db, room, skip=self.inflight.values()):
            info = self.client.publish(msg.topic, msg.payload, qos=QOS)
            if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
                log.warning("hub %s: cannot publish %s: %s", self.link.broker, msg.id, mqtt.error_string(info.rc))
                return
            self.inflight[info.mid] = msg.id
            self.sent += 1


@dataclass
class Collector:
    """Fills the outbox from the site database: info, health, minute roll-ups, report rows, acknowledgements."""

    config: Callable[[], Config]
    now: Callable[[], float] = time.time

    @property
    def site(self) -> str:
        link = self.config().hub
        assert link is not None, "the collector runs only with a hub: section"
        return link.site_id

    def collect(self, db: sqlite_utils.Database) -> int:
        """Queue everything new since the last run; returns how many messages were new."""
        config, now = self.config(), self.now()
        cursors: dict[str, str] = {}
        msgs = [health_message(self.site, camera_health(config, camera_states(db), now), now)]
        info = info_message(config, self.site, config.hub.site_url if config.hub else None, now)
        if get_cursor(db, "info") != info_digest(info):  # only a changed info is news
            msgs.append(info)
            cursors["info"] = info_digest(info)
        msgs += self._rollups(config, db, now, cursors)
        msgs += self._reports(config, db, now, cursors)
        msgs += self._acknowledgements(config, db, now, cursors)
        count = enqueue(db, msgs, now, cursors)  # messages and cursors in one transaction: a crash loses neither
        prune_acked(db, now)
        if count:
            log.debug("hub: %d messages queued, %d waiting for the broker", count, pending_count(db))
        return count

    def alerts(self, db: sqlite_utils.Database, events: list[AlertEvent]) -> int:
        """Queue alerts the alert monitor raised or closed."""
        return enqueue(db, [alert_message(self.site, e) for e in events], self.now())

    def _rollups(self, config: Config, db: sqlite_utils.Database, now: float, cursors: dict[str, str]) -> list[OutMessage]:
        start = get_cursor(db, "rollup")
        t0 = float(start) if start is not None else (now // 60 * 60) - BACKLOG_DAYS * 86400
        t1 = (now - ROLLUP_LAG_S) // 60 * 60
        if t1 <= t0:
            return []
        out: list[OutMessage] = []
        for ref in site_counters(config):
            out += rollup_messages(self.site, ref, counter_minutes(db, ref, t0, t1))
        cursors["rollup"] = str(t1)
        return out

    def _reports(self, config: Config, db: sqlite_utils.Database, now: float, cursors: dict[str, str]) -> list[OutMessage]:
        tz = config.site.tz
        at = datetime.fromtimestamp(now, tz)
        out: list[OutMessage] = []
        done = get_cursor(db, "report_final")
        day = date.fromisoformat(done) + timedelta(days=1) if done else at.date() - timedelta(days=BACKLOG_DAYS)
        while day_window(day, tz).end + PAD_S <= now:  # the day and the padding after it are past: final rows
            out += report_messages(self.site, counter_days(config, db, day), now, final=True)
            cursors["report_final"] = day.isoformat()
            day += timedelta(days=1)
        running = get_cursor(db, "report_running")
        if running is None or now - float(running) >= RUNNING_REPORT_S:
            out += report_messages(self.site, counter_days(config, db, at.date()), now, final=False)
            cursors["report_running"] = str(now)
        return out

    def _acknowledgements(self, config: Config, db: sqlite_utils.Database, now: float,
                          cursors: dict[str, str]) -> list[OutMessage]:
        """Alerts acknowledged in the web UI since the last run (the web app writes them, so they are polled);
        on the first run, those of the last week, as for the roll-ups."""
        since = get_cursor(db, "alert_ack")
        acked = acknowledged_since(db, float(since) if since is not None else now - BACKLOG_DAYS * 86400)
        if not acked:
            return []
        cursors["alert_ack"] = repr(max(a.ack_at or 0.0 for a in acked))
        return [alert_message(self.site, AlertEvent("acknowledged", a, subject_name(config, a))) for a in acked]
