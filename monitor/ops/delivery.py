"""Where alerts go besides the log and the web UI: a webhook (JSON POST), an MQTT broker and e-mail (SMTP).

Each sink delivers from one background thread fed by a bounded queue, so a slow or dead receiver
never holds up the alert engine; failures are logged (with URLs and passwords left out), never raised.
"""

from __future__ import annotations

import json
import logging
import queue
import smtplib
import ssl
import threading
import time
import unicodedata
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from monitor.db.alerts import AlertRecord
from monitor.ops.rules import UNITS
from monitor.site.alerting import EmailSettings, MqttSettings
from monitor.site.config import Config, expand_env, redact
from monitor.site.secrets import read_secrets, secrets_path

log = logging.getLogger(__name__)

WEBHOOK_TIMEOUT_S = 5.0  # a chat/monitoring hook answers in well under a second; a dead one must not pile up
SMTP_TIMEOUT_S = 20.0  # a mail server may greet slowly (DNS checks of our address); longer is a dead server
MQTT_CONNECT_WAIT_S = 10.0  # a message waits this long for the broker connection, then is logged and dropped
QUEUE_MAX = 100  # alerts waiting for a slow receiver; beyond this they are logged and not sent
USER_AGENT = "onestop-monitor"


@dataclass(frozen=True)
class AlertEvent:
    """An alert raised or closed, with the names a person reads."""

    kind: str  # "raised" | "closed"
    alert: AlertRecord
    name: str  # the counter's or camera's human name

    def payload(self, site: str, tz: Any) -> dict[str, Any]:
        """The JSON body sent to the webhook and MQTT: no URLs, no errors, no credentials."""
        a = self.alert

        def iso(t: float | None) -> str | None:
            return datetime.fromtimestamp(t, tz).isoformat(timespec="seconds") if t is not None else None

        at = a.raised if self.kind == "raised" else a.end
        body: dict[str, Any] = {
            "event": event_name(a.rule, self.kind), "id": a.id, "rule": a.rule, "state": "open" if a.end is None else "closed",
            "site": site, "subject": a.subject, "camera": a.camera, "name": self.name,
            "since": iso(a.start), "at": iso(at), "end": iso(a.end),
            "value": round(a.value, 1), "peak": round(a.peak, 1), "unit": UNITS.get(a.rule, ""),
        }
        if a.rule == "camera_offline":
            body["down_s"] = round((at or a.raised) - a.start)
        else:
            body["counter"] = a.subject
        return body


def event_name(rule: str, kind: str) -> str:
    """camera_offline / camera_recovered as the webhook always said; <rule> / <rule>_closed for the others."""
    if rule == "camera_offline":
        return "camera_offline" if kind == "raised" else "camera_recovered"
    return rule if kind == "raised" else f"{rule}_closed"


class Outbox:
    """A bounded queue and one thread that hands each item to deliver(); never blocks the caller."""

    label = "outbox"

    def __init__(self) -> None:
        self.queue: queue.Queue[Any] = queue.Queue(QUEUE_MAX)
        self.thread = threading.Thread(target=self._run, name=f"alert-{self.label}", daemon=True)
        self.thread.start()

    def put(self, item: Any) -> None:
        """Queue one item (dropped with a log line when the queue is full)."""
        try:
            self.queue.put_nowait(item)
        except queue.Full:
            log.warning("alert %s: %d items waiting; one not sent", self.label, QUEUE_MAX)

    def close(self, wait_s: float = WEBHOOK_TIMEOUT_S) -> None:
        """Send what is queued (up to about wait_s), then stop the thread."""
        try:
            self.queue.put(None, timeout=wait_s)
        except queue.Full:
            return
        self.thread.join(wait_s)

    def _run(self) -> None:
        while (item := self.queue.get()) is not None:
            try:
                self.deliver(item)
            except Exception:  # noqa: BLE001 - one bad delivery must not end the thread
                log.exception("alert %s: delivery failed", self.label)

    def deliver(self, item: Any) -> None:
        """Send one item (in the outbox thread)."""
        raise NotImplementedError


class Sink(Outbox):
    """An Outbox for alerts: send() takes events, states() the counters' live states (ignored by default)."""

    def __init__(self, site: str, tz: Any):
        self.site, self.tz = site, tz
        super().__init__()

    def send(self, event: AlertEvent) -> None:
        """Queue one alert event."""
        self.put(event)

    def states(self, states: Mapping[str, dict[str, Any]]) -> None:
        """The counters' states when they changed (MQTT keeps them retained)."""


class Webhook(Sink):
    """POSTs each alert event's payload as JSON, with a time-out."""

    label = "webhook"

    def __init__(self, url: str, site: str = "", tz: Any = None, timeout_s: float = WEBHOOK_TIMEOUT_S):
        self.url, self.timeout_s = url, timeout_s
        self.shown = redact(url)  # the URL may carry a token: logs show it redacted
        super().__init__(site, tz)

    def deliver(self, item: AlertEvent | dict[str, Any]) -> None:
        self.post(item.payload(self.site, self.tz) if isinstance(item, AlertEvent) else item)

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
                        self.shown, payload.get("event"), payload.get("subject", payload.get("camera")), reason)
            return False


def site_slug(name: str) -> str:
    """A topic level from a site name: accents dropped (đ -> d), lower case, runs of other characters as '-'."""
    plain = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
    ascii_ = "".join(c for c in plain if c.isascii()).lower()
    slug = "-".join("".join(c if c.isalnum() else " " for c in ascii_).split())
    return slug[:64] or "site"


class MqttSink(Sink):
    """Publishes alert events on <prefix>/<site>/alerts and retained states on <prefix>/<site>/counters/<id>/state."""

    label = "mqtt"

    def __init__(self, settings: MqttSettings, site: str, tz: Any, secrets: Mapping[str, str]):
        import paho.mqtt.client as mqtt

        self.settings = settings
        self.base = f"{settings.topic_prefix}/{settings.site_id or site_slug(site)}"
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"onestop-{self.base.replace('/', '-')}")
        if settings.username is not None:
            password = expand_env(settings.password, secrets) if settings.password is not None else None
            self.client.username_pw_set(expand_env(settings.username, secrets), password)
        if settings.tls:
            self.client.tls_set()
        self.client.reconnect_delay_set(1, 60)
        self.client.connect_async(settings.host, settings.port)
        self.client.loop_start()
        super().__init__(site, tz)

    def states(self, states: Mapping[str, dict[str, Any]]) -> None:
        for counter, state in states.items():
            self.put((f"{self.base}/counters/{counter}/state", state, True))

    def deliver(self, item: AlertEvent | tuple[str, dict[str, Any], bool]) -> None:
        if isinstance(item, AlertEvent):
            item = (f"{self.base}/alerts", item.payload(self.site, self.tz), False)
        topic, body, retain = item
        deadline = time.monotonic() + MQTT_CONNECT_WAIT_S
        while not self.client.is_connected() and time.monotonic() < deadline:
            time.sleep(0.1)
        if not self.client.is_connected():
            log.warning("alert mqtt %s:%s: not connected; %s not published", self.settings.host, self.settings.port, topic)
            return
        info = self.client.publish(topic, json.dumps(body, ensure_ascii=False), qos=1, retain=retain)
        info.wait_for_publish(MQTT_CONNECT_WAIT_S)

    def close(self, wait_s: float = WEBHOOK_TIMEOUT_S) -> None:
        super().close(wait_s)
        self.client.disconnect()
        self.client.loop_stop()


class EmailSink(Sink):
    """Mails each alert raised (not its closing) through SMTP with STARTTLS and a login when configured."""

    label = "email"

    def __init__(self, settings: EmailSettings, site: str, tz: Any, secrets: Mapping[str, str]):
        self.settings = settings
        self.username = expand_env(settings.username, secrets) if settings.username is not None else None
        self.password = expand_env(settings.password, secrets) if settings.password is not None else None
        super().__init__(site, tz)

    def send(self, event: AlertEvent) -> None:
        if event.kind == "raised":
            self.put(event)

    def message(self, event: AlertEvent) -> EmailMessage:
        """The mail for one alert: subject and a plain-text body of the payload's fields."""
        body = event.payload(self.site, self.tz)
        msg = EmailMessage()
        msg["From"], msg["To"] = self.settings.sender, ", ".join(self.settings.to)
        msg["Subject"] = f"[{self.site}] {body['event']}: {event.name} ({body['value']} {body['unit']})"
        msg.set_content("\n".join(f"{k}: {v}" for k, v in body.items() if v is not None) + "\n")
        return msg

    def deliver(self, item: AlertEvent) -> None:
        s = self.settings
        try:
            with smtplib.SMTP(s.host, s.port, timeout=SMTP_TIMEOUT_S) as smtp:
                if s.starttls:
                    smtp.starttls(context=ssl.create_default_context(cafile=s.cafile))
                if self.username is not None:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(self.message(item))
        except (smtplib.SMTPException, OSError, ssl.SSLError) as err:
            log.warning("alert e-mail via %s:%s: %s for %s not sent: %s", s.host, s.port,
                        item.alert.rule, item.alert.subject, err)


def make_sinks(config: Config) -> list[Sink]:
    """The sinks cameras.yaml configures; ${VAR}s come from the environment or the secrets file."""
    a, site, tz = config.alerts, config.site.name, config.site.tz
    secrets = read_secrets(secrets_path(config.path))
    sinks: list[Sink] = []
    if a.webhook_url:
        sinks.append(Webhook(expand_env(a.webhook_url, secrets), site, tz))
    if a.mqtt is not None:
        sinks.append(MqttSink(a.mqtt, site, tz, secrets))
    if a.email is not None:
        sinks.append(EmailSink(a.email, site, tz, secrets))
    return sinks
