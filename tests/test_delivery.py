"""An alert's path end to end: the engine on a real database raises and closes a counter alert, and a real
webhook receiver, a real Mosquitto broker and a real SMTP server (STARTTLS, login) each receive it."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

from alertkit import MOSQUITTO, OPEN, Broker, MailServer, Receiver, Subscriber, counter_site, feed
from conftest import require
from monitor.ops.alerts import AlertMonitor
from monitor.ops.delivery import EmailSink, MqttSink
from monitor.site.secrets import write_secrets

MQTT_SECRET = "mq-Pl4nted-7731"
SMTP_SECRET = "sm-Pl4nted-0926"


def require_mosquitto() -> None:
    ok = Path(MOSQUITTO).exists() and shutil.which("mosquitto_passwd") is not None
    require("Mosquitto broker", ok, "apt-get install mosquitto")


@pytest.fixture
def broker(tmp_path):
    require_mosquitto()
    b = Broker(tmp_path, "onestop", MQTT_SECRET)
    yield b
    b.stop()


@pytest.fixture
def mail(tmp_path):
    server = MailServer(tmp_path, "alerts@example.org", SMTP_SECRET)
    yield server
    server.stop()


@pytest.fixture
def hook():
    r = Receiver()
    yield r
    r.close()


def site_yaml(hook: Receiver, broker: Broker, mail: MailServer) -> str:
    return f"""\
        alerts:
          webhook_url: "{hook.url}"
          rules:
            unstaffed_queue: {{for_s: 60}}
          mqtt: {{host: 127.0.0.1, port: {broker.port}, username: onestop, password: "${{MQTT_PASS}}"}}
          email:
            host: 127.0.0.1
            port: {mail.port}
            username: alerts@example.org
            password: "${{SMTP_PASS}}"
            sender: alerts@example.org
            to: [supervisor@example.org]
            cafile: "{mail.cert}"
        """


def test_an_alert_reaches_the_webhook_the_broker_and_the_mailbox(tmp_path, hook, broker, mail, caplog):
    write_secrets(tmp_path / "cameras.secrets.env", {"MQTT_PASS": MQTT_SECRET, "SMTP_PASS": SMTP_SECRET})
    config, writer = counter_site(tmp_path, site_yaml(hook, broker, mail))
    watcher = Subscriber(broker.port, "onestop", MQTT_SECRET, "onestop/#")
    monitor = AlertMonitor(config)
    assert sorted(type(s).__name__ for s in monitor.sinks) == ["EmailSink", "MqttSink", "Webhook"]
    try:
        with caplog.at_level(logging.INFO):
            feed(writer, OPEN, OPEN + 600, seat=True, queue=0)
            feed(writer, OPEN + 600, OPEN + 700, seat=False, queue=3)
            monitor.clock = lambda: OPEN + 700
            assert [f.rule for f in monitor.check().opened] == ["unstaffed_queue"]
            feed(writer, OPEN + 700, OPEN + 800, seat=True, queue=2)
            monitor.clock, monitor.next_check = (lambda: OPEN + 800), 0
            assert [a.rule for a in monitor.check().closed] == ["unstaffed_queue"]
            hooks = hook.wait_for(2)
            mails = mail.wait_for(1)
            got = watcher.wait_for(4)  # raised, closed, and the counter's state twice
    finally:
        monitor.close()
        watcher.close()
        writer.db.conn.close()

    assert [b["event"] for b in hooks] == ["unstaffed_queue", "unstaffed_queue_closed"]
    raised = hooks[0]
    assert (raised["counter"], raised["camera"], raised["value"], raised["unit"]) == ("quay-1", "quay-1", 3, "people")
    assert raised["since"] == "2026-11-24T07:40:00+07:00" and raised["at"] == "2026-11-24T07:41:40+07:00"
    assert hooks[1]["end"] == "2026-11-24T07:43:20+07:00" and hooks[1]["state"] == "closed"

    alerts = [(t, body) for t, body, _ in got if t == "onestop/mot-cua-dong-ha/alerts"]
    assert [body for _, body in alerts] == hooks  # the broker gets the same payloads as the webhook
    states = [(body, retained) for t, body, retained in got if t == "onestop/mot-cua-dong-ha/counters/quay-1/state"]
    assert [(s["staffed"], s["queue"], s["alerts"]) for s, _ in states] == [(False, 3, ["unstaffed_queue"]),
                                                                           (True, 2, [])]
    late = Subscriber(broker.port, "onestop", MQTT_SECRET, "onestop/+/counters/+/state")  # a dashboard starting later
    try:
        ((_, state, retained),) = late.wait_for(1)
    finally:
        late.close()
    assert retained and state["staffed"] is True and state["queue"] == 2  # the broker kept the last state

    (msg,) = mails  # the closing is not mailed
    assert msg["To"] == "supervisor@example.org" and "unstaffed_queue" in msg["Subject"] and "Quầy 1" in msg["Subject"]
    assert "counter: quay-1" in msg.get_content()
    assert mail.logins == [("alerts@example.org", True)]  # logged in once, over TLS

    everything = caplog.text + json.dumps(hooks) + json.dumps(got)
    assert MQTT_SECRET not in everything and SMTP_SECRET not in everything and "abc123" not in caplog.text


def test_a_wrong_broker_password_or_untrusted_mail_server_is_logged_not_raised(tmp_path, broker, mail, caplog,
                                                                              monkeypatch):
    from monitor.db.alerts import AlertRecord
    from monitor.ops.delivery import AlertEvent
    from monitor.site.alerting import EmailSettings, MqttSettings

    event = AlertEvent("raised", AlertRecord(1, "late_start", "quay-1", "quay-1", OPEN, OPEN + 900, None, 15, 15), "Quầy 1")
    mqtt = MqttSink(MqttSettings(host="127.0.0.1", port=broker.port, username="onestop", password="wrong"), "S", None, {})
    email = EmailSink(EmailSettings(host="127.0.0.1", port=mail.port, sender="a@example.org", to=["b@example.org"],
                                    username="alerts@example.org", password=SMTP_SECRET), "S", None, {})  # no cafile
    monkeypatch.setattr("monitor.ops.delivery.MQTT_CONNECT_WAIT_S", 1.0)  # the broker refuses the login at once
    with caplog.at_level(logging.WARNING, logger="monitor.ops.delivery"):
        mqtt.send(event)
        email.send(event)
        mqtt.close(10)
        email.close(30)
    assert "not connected; onestop/s/alerts not published" in caplog.text
    assert "alert e-mail via 127.0.0.1" in caplog.text and "CERTIFICATE_VERIFY_FAILED" in caplog.text
    assert mail.messages == [] and mail.logins == []
    assert SMTP_SECRET not in caplog.text
