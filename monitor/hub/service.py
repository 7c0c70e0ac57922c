"""The hub's MQTT side: a persistent subscription to onestop/+/#, acknowledged only once stored.

paho runs with manual acknowledgement: the PUBACK for a message goes out after the transaction
holding it commits, so a hub killed mid-stream gets the unstored messages again from the broker
(persistent session), and the ones it had stored come again as duplicates that ingest drops.
"""

from __future__ import annotations

import logging
import queue
import ssl
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import sqlite_utils

from monitor.hub.retention import HubRetention, HubRetentionJob
from monitor.hub.store import DEFAULT_ROOT, IngestCounts, ingest, open_hub_db, topic_root

log = logging.getLogger(__name__)

BATCH_MAX = 500  # messages per transaction: a backlog after a link cut is stored in big, short transactions
BATCH_WAIT_S = 0.2  # the writer commits at least this often while messages trickle in
RECONNECT_MIN_S, RECONNECT_MAX_S = 1, 30  # the hub and broker usually share a machine: retry fast
TICK_S = 30.0  # how often the periodic jobs (retention) are looked at


@dataclass(frozen=True)
class HubBroker:
    """Where the hub subscribes: the district broker, with its own account and TLS files."""

    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    ca_file: Path | None = None
    client_id: str = "onestop-hub"
    topic_root: str = DEFAULT_ROOT  # "d/+/onestop" at a province whose district bridges add d/<district>/

    @property
    def subscription(self) -> str:
        """Every site under the root: onestop/+/#, or d/+/onestop/+/# at a province."""
        return f"{self.topic_root}/+/#"


class HubService:
    """Subscribes, and stores each message in the hub database once; acknowledges after the commit."""

    def __init__(self, broker: HubBroker, database: Path, retention: HubRetention | None = None):
        self.broker, self.database = broker, database
        self.root = topic_root(broker.topic_root)
        self.jobs = [HubRetentionJob(database, retention or HubRetention())]
        self.stopping = threading.Event()
        self.ticker = threading.Thread(target=self._tick, name="hub-jobs", daemon=True)
        self.counts = IngestCounts()
        self.inbox: queue.Queue[mqtt.MQTTMessage | None] = queue.Queue()
        self.connected = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=broker.client_id, clean_session=False,
                                  protocol=mqtt.MQTTv311, manual_ack=True)
        if broker.username is not None:
            self.client.username_pw_set(broker.username, broker.password)
        if broker.ca_file is not None:
            self.client.tls_set(ca_certs=str(broker.ca_file), tls_version=ssl.PROTOCOL_TLS_CLIENT)
        self.client.reconnect_delay_set(RECONNECT_MIN_S, RECONNECT_MAX_S)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = lambda client, userdata, msg: self.inbox.put(msg)
        self.writer = threading.Thread(target=self._write, name="hub-writer", daemon=True)

    def start(self) -> HubService:
        """Open the database, then connect in the background (retrying for ever)."""
        open_hub_db(self.database).conn.close()  # migrations before the first message
        self.writer.start()
        self.ticker.start()
        self.client.connect_async(self.broker.host, self.broker.port, 60)
        self.client.loop_start()
        return self

    def stop(self) -> None:
        """Disconnect, then store what was received (unacknowledged messages come again next time anyway)."""
        self.stopping.set()
        self.client.disconnect()
        self.client.loop_stop()
        self.inbox.put(None)
        self.writer.join(10)
        self.ticker.join(10)

    def _tick(self) -> None:
        while not self.stopping.is_set():
            for job in self.jobs:
                job.tick(time.time())
            self.stopping.wait(TICK_S)

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: mqtt.ConnectFlags,
                    reason: mqtt.ReasonCode, properties: object) -> None:
        if reason.is_failure:
            log.warning("hub: broker %s:%d refused the connection: %s", self.broker.host, self.broker.port, reason)
            return
        client.subscribe(self.broker.subscription, qos=1)
        log.info("hub: subscribed to %s on %s:%d (session present: %s)", self.broker.subscription, self.broker.host,
                 self.broker.port, flags.session_present)
        self.connected.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags: mqtt.DisconnectFlags,
                       reason: mqtt.ReasonCode, properties: object) -> None:
        self.connected.clear()
        log.log(logging.INFO if reason == 0 else logging.WARNING, "hub: disconnected from %s:%d (%s)", self.broker.host, self.broker.port, reason)

    def _write(self) -> None:
        db = open_hub_db(self.database)
        try:
            stop = False
            while not stop:
                batch: list[mqtt.MQTTMessage] = []
                try:
                    first = self.inbox.get(timeout=BATCH_WAIT_S)
                except queue.Empty:
                    continue
                deadline = time.monotonic() + BATCH_WAIT_S
                item: mqtt.MQTTMessage | None = first
                while item is not None:
                    batch.append(item)
                    if len(batch) >= BATCH_MAX or time.monotonic() >= deadline:
                        break
                    try:
                        item = self.inbox.get(timeout=max(0.0, deadline - time.monotonic()))
                    except queue.Empty:
                        break
                stop = item is None
                self._store(db, batch)
        finally:
            db.conn.close()

    def _store(self, db: sqlite_utils.Database, batch: list[mqtt.MQTTMessage]) -> None:
        now = time.time()
        with db.conn:
            outcomes = [ingest(db, msg.topic, msg.payload, now, self.root) for msg in batch]
        for outcome in outcomes:  # counted once committed: a reader seeing the counts sees the rows
            setattr(self.counts, outcome, getattr(self.counts, outcome) + 1)
        for msg in batch:  # after the commit: a crash before here means the broker sends them again
            self.client.ack(msg.mid, msg.qos)
