"""Offline alerts: which cameras have been down longer than `alerts.offline_after_s` (pure), and the
supervisor-side monitor that logs each outage and recovery once and POSTs it to an optional webhook."""

from __future__ import annotations

import json
import logging
import queue
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from monitor.site.config import Config, expand_env, redact
from monitor.ops.health import CameraHealth, camera_health

log = logging.getLogger(__name__)

CHECK_EVERY_S = 5.0  # alerts are minutes-scale; reading the cameras table every 5 s costs nothing
WEBHOOK_TIMEOUT_S = 5.0  # a chat/monitoring hook answers in well under a second; a dead one must not pile up
WEBHOOK_QUEUE_MAX = 100  # alerts waiting for a slow webhook; beyond this they are logged and not sent
USER_AGENT = "onestop-monitor"

Kind = Literal["offline", "recovered"]


@dataclass(frozen=True)
class Alert:
    """One outage crossing the threshold, or the end of an outage that was alerted."""

    kind: Kind
    camera: str
    name: str
    since: float | None  # when the camera stopped being online (offline) / the alert's outage start
    at: float  # when the alert was raised

    def payload(self, site: str, tz: Any) -> dict[str, Any]:
        """The webhook's JSON body: no URLs, no errors, no credentials."""
        def iso(t: float | None) -> str | None:
            return datetime.fromtimestamp(t, tz).isoformat(timespec="seconds") if t is not None else None

        return {
            "event": f"camera_{self.kind}", "site": site, "camera": self.camera, "name": self.name,
            "since": iso(self.since), "at": iso(self.at),
            "down_s": round(self.at - self.since) if self.since is not None else None,
        }


def check_alerts(cameras: Iterable[CameraHealth], now: float, offline_after_s: float,
                 alerted: dict[str, float | None]) -> tuple[list[Alert], dict[str, float | None]]:
    """New alerts and recoveries, and the cameras alerted after them ({camera: outage start}).

    A camera not online (and not disabled) for offline_after_s or longer is alerted once per outage;
    an alerted camera that is online again gives one recovery; a camera disabled meanwhile is forgotten.
    """
    out: list[Alert] = []
    still = dict(alerted)
    for cam in cameras:
        if cam.state == "disabled":
            still.pop(cam.id, None)
        elif cam.state == "online":
            if cam.id in still:
                out.append(Alert("recovered", cam.id, cam.name, still.pop(cam.id), now))
        elif cam.id not in still:
            down = cam.down_for(now)
            if down is not None and down >= offline_after_s:
                out.append(Alert("offline", cam.id, cam.name, cam.down_since, now))
                still[cam.id] = cam.down_since
    return out, still


class Webhook:
    """POSTs alert payloads as JSON from one background thread, each with a time-out; never blocks the caller."""

    def __init__(self, url: str, timeout_s: float = WEBHOOK_TIMEOUT_S):
        self.url, self.timeout_s = url, timeout_s
        self.shown = redact(url)  # the URL may carry a token: logs show it redacted
        self.queue: queue.Queue[dict[str, Any] | None] = queue.Queue(WEBHOOK_QUEUE_MAX)
        self.thread = threading.Thread(target=self._run, name="alert-webhook", daemon=True)
        self.thread.start()

    def send(self, payload: dict[str, Any]) -> None:
        """Queue one payload (dropped with a log line when the queue is full)."""
        try:
            self.queue.put_nowait(payload)
        except queue.Full:
            log.warning("alert webhook %s: %d alerts waiting; %s for %s not sent",
                        self.shown, WEBHOOK_QUEUE_MAX, payload["event"], payload["camera"])

    def close(self, wait_s: float = WEBHOOK_TIMEOUT_S) -> None:
        """Send what is queued (up to about wait_s), then stop the thread."""
        try:
            self.queue.put(None, timeout=wait_s)
        except queue.Full:
            return
        self.thread.join(wait_s)

    def _run(self) -> None:
        while (payload := self.queue.get()) is not None:
            self.post(payload)

    def post(self, payload: dict[str, Any]) -> bool:
        """One POST; True on a 2xx answer. Failures are logged, never raised."""
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        req = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                resp.read()
                return True
        except (urllib.error.URLError, OSError, ValueError) as err:
            reason = getattr(err, "reason", None) or err
            log.warning("alert webhook %s: %s for %s not delivered: %s",
                        self.shown, payload["event"], payload["camera"], reason)
            return False


class AlertMonitor:
    """Run by the supervisor loop: reads camera health, logs and sends offline alerts and recoveries."""

    def __init__(self, config: Config, clock: Callable[[], float] = time.time):
        self.config, self.clock = config, clock
        self.alerted: dict[str, float | None] = {}
        self.next_check = 0.0
        url = config.alerts.webhook_url
        self.webhook = Webhook(expand_env(url)) if url else None

    def check(self, rows: Callable[[], list[dict[str, Any]]]) -> list[Alert]:
        """At most every CHECK_EVERY_S: compare camera health (rows: store.camera_states) with the threshold."""
        now = self.clock()
        if now < self.next_check:
            return []
        self.next_check = now + CHECK_EVERY_S
        try:
            stored = rows()
        except sqlite3.Error as err:  # a locked or missing database: try again at the next check
            log.warning("alerts: cannot read camera states: %s", err)
            return []
        health = camera_health(self.config, stored, now)
        alerts, self.alerted = check_alerts(health, now, self.config.alerts.offline_after_s, self.alerted)
        for alert in alerts:
            self.announce(alert)
        return alerts

    def announce(self, alert: Alert) -> None:
        """One log line, and the webhook if configured."""
        down = f"{alert.at - alert.since:.0f} s" if alert.since is not None else "an unknown time"
        if alert.kind == "offline":
            log.warning("%s (%s): ALERT camera offline for %s", alert.camera, alert.name, down)
        else:
            log.warning("%s (%s): camera back online after %s", alert.camera, alert.name, down)
        if self.webhook is not None:
            self.webhook.send(alert.payload(self.config.site.name, self.config.site.tz))

    def close(self) -> None:
        if self.webhook is not None:
            self.webhook.close()


def read_rows(database: Path) -> list[dict[str, Any]]:
    """The cameras table through a short read-only connection (the supervisor's writer owns the other)."""
    from monitor.db.store import camera_states, connect

    db = connect(database, readonly=True)
    try:
        return camera_states(db)
    finally:
        db.conn.close()

