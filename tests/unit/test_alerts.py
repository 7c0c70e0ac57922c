"""The alert engine on a real SQLite file filled through the Writer: alerts raised once, kept open with their
peak, closed when the condition ends, continued across a restart; the webhook through a real HTTP server."""

from __future__ import annotations

import json
import logging
import textwrap

import numpy as np
import pytest

from alertkit import OPEN, Receiver, counter_site, feed
from support import free_port
from monitor.db.alerts import open_alerts, list_alerts
from monitor.db.store import Writer, camera_states, connect, open_db
from monitor.ops.alerts import AlertMonitor
from monitor.ops.delivery import AlertEvent, Sink, Webhook, site_slug
from monitor.db.alerts import AlertRecord
from monitor.ops.health import SILENT_AFTER_S, CameraHealth, health_state
from monitor.site.config import load_config

NOW = 1_790_000_000.0
LIMIT = 300.0
SECRET = "S3cr3t-pass"


def cam(state: str, down_for: float | None = None, cid: str = "c1") -> CameraHealth:
    since = None if down_for is None else NOW - down_for
    return CameraHealth(id=cid, name="Quầy 1", state=state, down_since=since, reconnects=0, error=None)


# (stored state, seconds since the last heartbeat, enabled) -> health state
STATES = [
    ("online", 1, True, "online"),
    ("connecting", 1, True, "reconnecting"),
    ("restarting", 1, True, "reconnecting"),
    ("offline", 1, True, "offline"),
    ("stopped", 1, True, "offline"),
    ("online", SILENT_AFTER_S + 1, True, "offline"),  # no worker reports: the supervisor is not running
    ("online", 1, False, "disabled"),
]


@pytest.mark.parametrize("stored, silent_s, enabled, expected", STATES)
def test_health_state(stored, silent_s, enabled, expected):
    row = {"state": stored, "last_seen": NOW - silent_s, "down_since": None}
    assert health_state(row, enabled, NOW)[0] == expected


# ---------------------------------------------------------------- webhook over real HTTP


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_webhook_posts_json(receiver):
    hook = Webhook(receiver.url, "Một cửa", None)
    try:
        alert = AlertRecord(7, "camera_offline", "c1", "c1", NOW - 600, NOW, None, 600, 600)
        hook.send(AlertEvent("raised", alert, "Quầy 1"))
        assert receiver.got.wait(10)
    finally:
        hook.close()
    (body,) = receiver.bodies
    assert body["event"] == "camera_offline" and body["camera"] == "c1" and body["name"] == "Quầy 1"
    assert body["site"] == "Một cửa" and body["down_s"] == 600 and body["id"] == 7 and body["state"] == "open"
    assert receiver.headers[0]["Content-Type"].startswith("application/json")


def test_webhook_failure_is_logged_not_raised(caplog):
    hook = Webhook(f"http://127.0.0.1:{free_port()}/hook?token=abc123", timeout_s=2)
    try:
        with caplog.at_level(logging.WARNING, logger="monitor.ops.delivery"):
            assert hook.post({"event": "camera_offline", "camera": "c1"}) is False
    finally:
        hook.close()
    assert "not delivered" in caplog.text and "c1" in caplog.text
    assert "abc123" not in caplog.text  # the webhook's token is redacted in logs


# ---------------------------------------------------------------- the monitor on a real database


def _site(tmp_path, webhook: str) -> tuple:
    (tmp_path / "cameras.yaml").write_text(textwrap.dedent(f"""\
        site: {{name: "Một cửa"}}
        alerts: {{offline_after_s: 60, webhook_url: "{webhook}"}}
        cameras:
          - id: c1
            name: "Quầy 1"
            streams: {{main: "rtsp://10.0.0.9/stream"}}
            username: admin
            password: {SECRET}
          - {{id: c2, name: "Quầy 2", streams: {{main: b.mp4}}}}
        """), encoding="utf-8")
    config = load_config(tmp_path / "cameras.yaml")
    db = open_db(config.storage.database)
    writer = Writer(db)
    writer.register_cameras([("c1", "Quầy 1", True), ("c2", "Quầy 2", True)])
    return config, db, writer


def test_monitor_alerts_once_per_outage_and_on_recovery(tmp_path, receiver, caplog):
    config, db, writer = _site(tmp_path, receiver.url)
    clock = [NOW]
    monitor = AlertMonitor(config, clock=lambda: clock[0])

    def check() -> list[str]:
        monitor.next_check = 0  # every call is due: the test steps the clock itself
        changes = monitor.check()
        return [f"open {f.subject}" for f in changes.opened] + [f"close {a.subject}" for a in changes.closed]

    try:
        writer.apply([
            {"type": "status", "camera": "c1", "state": "online", "t": NOW - 100},
            {"type": "status", "camera": "c2", "state": "online", "t": NOW - 100},
            {"type": "status", "camera": "c1", "state": "reconnecting", "t": NOW - 30,
             "error": f"OSError: rtsp://admin:{SECRET}@10.0.0.9/stream refused"},
            {"type": "heartbeat", "camera": "c1", "t": NOW},
            {"type": "heartbeat", "camera": "c2", "t": NOW},
        ])
        with caplog.at_level(logging.INFO, logger="monitor.ops.alerts"):
            assert check() == []  # down 30 s of 60
            clock[0] += 31
            writer.apply([{"type": "status", "camera": "c1", "state": "offline", "t": clock[0]},
                          {"type": "heartbeat", "camera": "c2", "t": clock[0]}])
            assert check() == ["open c1"]
            clock[0] += 10
            writer.apply([{"type": "heartbeat", "camera": c, "t": clock[0]} for c in ("c1", "c2")])
            assert check() == []  # still down: no second alert
            writer.apply([{"type": "status", "camera": "c1", "state": "online", "t": clock[0]}])
            clock[0] += 5
            assert check() == ["close c1"]
        receiver.wait_for(2)
    finally:
        monitor.close()
        db.conn.close()
    assert [b["event"] for b in receiver.bodies] == ["camera_offline", "camera_recovered"]
    assert receiver.bodies[0]["down_s"] == 61  # from when c1 left "online", not from when it was called offline
    assert receiver.bodies[1]["down_s"] == 76 and receiver.bodies[1]["end"] is not None
    lines = [r.getMessage() for r in caplog.records if r.name == "monitor.ops.alerts"]
    assert len(lines) == 2 and "ALERT camera_offline" in lines[0] and "camera_offline over" in lines[1]
    everything = json.dumps(receiver.bodies) + caplog.text
    assert SECRET not in everything and "10.0.0.9" not in everything


def test_a_stopped_site_is_not_an_outage(tmp_path, receiver):
    """Workers stopped by a shutdown are not down: no alert right after the next start."""
    config, db, writer = _site(tmp_path, receiver.url)
    writer.apply([{"type": "status", "camera": "c1", "state": "online", "t": NOW - 90_000},
                  {"type": "status", "camera": "c1", "state": "stopped", "t": NOW - 86_400},
                  {"type": "status", "camera": "c1", "state": "connecting", "t": NOW - 2},
                  {"type": "heartbeat", "camera": "c1", "t": NOW}])
    (row,) = [r for r in camera_states(db) if r["id"] == "c1"]
    assert row["down_since"] == NOW - 2
    db.conn.close()


def test_bad_webhook_url_is_one_line_naming_the_field(tmp_path):
    from monitor.site.config import ConfigError

    (tmp_path / "cameras.yaml").write_text(textwrap.dedent("""\
        site: {name: x}
        alerts:
          webhook_url: "ftp://hooks.example/x"
        cameras: []
        """), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "cameras.yaml")
    text = str(err.value)
    assert "cameras.yaml:3" in text and "alerts.webhook_url" in text and "http://" in text


def test_unset_webhook_variable_is_reported_at_load(tmp_path, monkeypatch):
    from monitor.site.config import ConfigError

    monkeypatch.delenv("ONESTOP_TEST_HOOK", raising=False)
    (tmp_path / "cameras.yaml").write_text(textwrap.dedent("""\
        site: {name: x}
        alerts:
          webhook_url: "https://hooks.example/${ONESTOP_TEST_HOOK}"
        metrics: {token: "${ONESTOP_TEST_HOOK}"}
        cameras: []
        """), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "cameras.yaml")
    text = str(err.value)
    assert "cameras.yaml:3: alerts.webhook_url: environment variable ONESTOP_TEST_HOOK is not set" in text
    assert "cameras.yaml:4: metrics.token" in text


# ---------------------------------------------------------------- counter alerts through the engine


class Collect(Sink):
    """A sink that keeps what it is handed, in the caller's thread (the real sinks are tested on their own)."""

    def __init__(self) -> None:
        self.events: list[AlertEvent] = []
        self.state_updates: list[dict] = []

    def send(self, event: AlertEvent) -> None:
        self.events.append(event)

    def states(self, states) -> None:
        self.state_updates.append(dict(states))

    def close(self, wait_s: float = 0) -> None:
        pass


RULES_YAML = """\
    alerts:
      rules:
        officer_away: {max_away_min: 5}
        unstaffed_queue: {for_s: 60}
        queue_long: {enabled: false}
        long_wait: {max_wait_min: 30}
    """


def _step(monitor: AlertMonitor, t: float):
    monitor.clock = lambda: t
    monitor.next_check = 0
    return monitor.check()


def test_counter_alerts_open_once_keep_their_peak_and_close(tmp_path):
    config, writer = counter_site(tmp_path, RULES_YAML)
    sink = Collect()
    monitor = AlertMonitor(config, sinks=[sink])
    feed(writer, OPEN, OPEN + 600, seat=True, queue=0)
    feed(writer, OPEN + 600, OPEN + 700, seat=False, queue=2)
    changes = _step(monitor, OPEN + 700)  # the seat empty 100 s with 2 waiting: unstaffed_queue only
    assert [(f.rule, f.since - OPEN, f.value) for f in changes.opened] == [("unstaffed_queue", 600, 2)]
    feed(writer, OPEN + 700, OPEN + 1000, seat=False, queue=4)
    changes = _step(monitor, OPEN + 1000)  # 400 s away: officer_away opens, the queue's peak rises to 4
    assert [f.rule for f in changes.opened] == ["officer_away"]
    assert [(a.rule, f.value) for a, f in changes.updated] == [("unstaffed_queue", 4)]
    assert _step(monitor, OPEN + 1000).opened == []  # raised once
    feed(writer, OPEN + 1000, OPEN + 1100, seat=True, queue=3)
    changes = _step(monitor, OPEN + 1100)
    assert sorted(a.rule for a in changes.closed) == ["officer_away", "unstaffed_queue"]
    db = connect(config.storage.database, readonly=True)
    stored = {a.rule: a for a in list_alerts(db, 0)}
    db.conn.close()
    q = stored["unstaffed_queue"]
    assert (q.subject, q.camera, q.start - OPEN, q.raised - OPEN, q.end - OPEN, q.peak) == ("quay-1", "quay-1", 600, 700, 1100, 4)
    assert stored["officer_away"].start - OPEN == 900 and stored["officer_away"].end - OPEN == 1100
    assert [(e.kind, e.alert.rule) for e in sink.events] == [
        ("raised", "unstaffed_queue"), ("raised", "officer_away"), ("closed", "unstaffed_queue"),
        ("closed", "officer_away")]  # closed in the order they were raised
    assert sink.events[0].name == "Quầy 1"
    state = sink.state_updates[-1]["quay-1"]
    assert state["staffed"] is True and state["queue"] == 3 and state["alerts"] == []
    assert sink.state_updates[1]["quay-1"]["alerts"] == ["officer_away", "unstaffed_queue"]


@pytest.mark.parametrize("walked, since", [(True, 280 + 1800), (False, 300 + 1800)])
def test_a_long_wait_counts_from_the_walk_in_as_the_reports_do(tmp_path, walked, since):
    config, writer = counter_site(tmp_path, RULES_YAML)
    monitor = AlertMonitor(config, sinks=[Collect()])
    feed(writer, OPEN, OPEN + 280, seat=True, queue=0)
    feed(writer, OPEN + 280, OPEN + 300, seat=True, queue=0, walking=1.0 if walked else 0.0)  # someone walks in
    feed(writer, OPEN + 300, OPEN + 2200, seat=True, queue=1)  # and sits down to wait, never called
    changes = _step(monitor, OPEN + 2200)
    assert [(f.rule, f.since - OPEN) for f in changes.opened] == [("long_wait", since)]


def test_an_open_alert_continues_across_a_restart_and_closes_when_it_ends(tmp_path):
    config, writer = counter_site(tmp_path, RULES_YAML)
    feed(writer, OPEN, OPEN + 600, seat=True, queue=0)
    feed(writer, OPEN + 600, OPEN + 1000, seat=False, queue=0)
    first = AlertMonitor(config, sinks=[Collect()])
    assert [f.rule for f in _step(first, OPEN + 1000).opened] == ["officer_away"]
    sink = Collect()
    second = AlertMonitor(config, sinks=[sink])  # a restarted supervisor reads the open alert back
    feed(writer, OPEN + 1000, OPEN + 1200, seat=False, queue=0)
    changes = _step(second, OPEN + 1200)
    assert changes.opened == [] and [a.rule for a, _ in changes.updated] == ["officer_away"]
    assert _step(second, OPEN + 5 * 3600).closed[0].rule == "officer_away"  # closing time: the condition ends
    db = connect(config.storage.database, readonly=True)
    (alert,) = [a for a in list_alerts(db, 0) if a.rule == "officer_away"]
    assert alert.peak == pytest.approx(10.0) and alert.end == OPEN + 5 * 3600
    assert [a.rule for a in open_alerts(db)] == ["camera_offline"]  # nothing reported since OPEN + 1200
    db.conn.close()
    assert sorted((e.kind, e.alert.rule) for e in sink.events) == [("closed", "officer_away"), ("raised", "camera_offline")]


def test_rules_and_delivery_settings_are_checked_at_load(tmp_path):
    from monitor.site.config import ConfigError

    (tmp_path / "cameras.yaml").write_text(textwrap.dedent("""\
        site: {name: x}
        alerts:
          rules:
            queue_long: {min_people: 0}
          mqtt: {host: broker, topic_prefix: "a/b"}
          email: {host: smtp, sender: me@example.org, to: [nobody], starttls: false, password: x}
        cameras: []
        """), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "cameras.yaml")
    text = str(err.value)
    assert "cameras.yaml:4" in text and "alerts.rules.queue_long.min_people" in text
    assert "alerts.mqtt.topic_prefix" in text and "alerts.email.to" in text and len(text.splitlines()) == 3
    (tmp_path / "cameras.yaml").write_text(textwrap.dedent("""\
        site: {name: x}
        alerts:
          email: {host: smtp, sender: me@example.org, to: [a@example.org], starttls: false, password: x}
        cameras: []
        """), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "cameras.yaml")
    assert "cameras.yaml:3: alerts.email: a password is never sent without STARTTLS" in str(err.value)


@pytest.mark.parametrize("name, slug", [("Một cửa Đông Hà", "mot-cua-dong-ha"), ("UBND xã  An Phú!", "ubnd-xa-an-phu"),
                                        ("???", "site")])
def test_site_slug(name, slug):
    assert site_slug(name) == slug


def test_the_supervisor_runs_the_engine_as_a_periodic_job(tmp_path):
    from monitor.jobs import AlertJob

    config, writer = counter_site(tmp_path, RULES_YAML)
    feed(writer, OPEN, OPEN + 600, seat=True, queue=0)
    feed(writer, OPEN + 600, OPEN + 700, seat=False, queue=2)
    job = AlertJob(AlertMonitor(config, sinks=[Collect()]), spawn=lambda run, name: run())
    assert job.tick(OPEN + 700) and not job.tick(OPEN + 705)  # due every CHECK_EVERY_S, not at once again
    db = connect(config.storage.database, readonly=True)
    assert [(a.rule, a.raised) for a in open_alerts(db)] == [("unstaffed_queue", OPEN + 700)]
    db.conn.close()


def test_the_sample_cache_reads_only_new_seconds_and_equals_a_full_read(tmp_path):
    from monitor.db.store import zone_samples
    from monitor.ops.livestate import SampleCache

    config, writer = counter_site(tmp_path, "")
    cache = SampleCache()
    feed(writer, OPEN, OPEN + 300, seat=True, queue=1)
    first = cache.read(writer.db, "quay-1", "hang", OPEN, OPEN + 301)
    feed(writer, OPEN + 300, OPEN + 400, seat=True, queue=2)
    writer.db.execute("delete from occupancy where t < ?", [OPEN + 200])  # gone from the table, still kept
    later = cache.read(writer.db, "quay-1", "hang", OPEN + 100, OPEN + 401)
    assert len(first) == 300 and later.t[0] == OPEN + 100 and later.t[-1] == OPEN + 399 and len(later) == 300
    direct = zone_samples(writer.db, "quay-1", "hang", OPEN + 200, OPEN + 401)
    assert np.array_equal(later.window(OPEN + 200, OPEN + 401).count, direct.count)
    writer.db.conn.close()
