"""The site side of the hub link without a broker: the hub: section, the outbox and the collector."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from hub_sites import TZ, offline_event
from monitor.db.outbox import OutMessage, acknowledge, enqueue, get_cursor, pending, pending_count, prune_acked
from monitor.db.store import Writer, open_db
from monitor.messages import OccupancySample
from monitor.ops.publish import Collector
from monitor.site.config import ConfigError, expand_env, load_config, summary

YAML = """\
site: {{name: UBND xa A}}
cameras:
  - id: cam1
    name: Quay 1
    streams: {{main: "rtsp://10.0.0.1/main"}}
    zones:
      - {{id: spot, kind: service_spot, points: [[0, 0], [1, 0], [1, 1]]}}
      - {{id: seat, kind: staff_seat, points: [[0, 0], [1, 0], [1, 1]]}}
      - {{id: queue, kind: waiting_area, points: [[0, 0], [1, 0], [1, 1]]}}
{hub}
"""
HUB = """\
hub:
  broker: mqtts://district.example.vn:8883
  site_id: xa-a
  site_url: http://10.1.2.3:8000
  username: xa-a
  password: ${HUB_PASSWORD}
  ca_file: district-ca.crt
"""


def write(tmp_path: Path, hub: str, secrets: str = "HUB_PASSWORD=s3cret\n") -> Path:
    path = tmp_path / "cameras.yaml"
    path.write_text(YAML.format(hub=hub), encoding="utf-8")
    (tmp_path / "cameras.secrets.env").write_text(secrets, encoding="utf-8")
    (tmp_path / "cameras.secrets.env").chmod(0o600)
    return path


def test_hub_section_reads_the_password_from_the_secrets_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, HUB))
    hub = config.hub
    assert hub is not None and (hub.host, hub.port, hub.tls) == ("district.example.vn", 8883, True)
    assert hub.credentials(expand_env) == ("xa-a", "s3cret")
    assert hub.ca_file == tmp_path / "district-ca.crt"  # relative to the YAML's folder
    assert "Hub: publishes as xa-a to mqtts://district.example.vn:8883" in summary(config)
    assert "s3cret" not in summary(config)
    assert load_config(write(tmp_path, "")).hub is None


@pytest.mark.parametrize("change, expected", [
    (("mqtts://district.example.vn:8883", "http://district.example.vn"), "hub.broker"),
    (("mqtts://district.example.vn:8883", "mqtt://u:p@district.example.vn"), "not in the URL"),
    (("site_id: xa-a", "site_id: xa/a"), "one MQTT topic level"),
    (("password: ${HUB_PASSWORD}", "password: ${NOT_SET_ANYWHERE}"), "NOT_SET_ANYWHERE is not set"),
    (("site_id: xa-a", "site_id: xa-a\n  qos: 2"), "qos"),
])
def test_bad_hub_section_names_the_field(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, HUB.replace(*change)))
    assert expected in str(err.value)
    assert "s3cret" not in str(err.value)


def msg(i: int) -> OutMessage:
    return OutMessage(f"rollup/cam1/spot/{i}", "onestop/xa-a/rollup/cam1/spot", "{}")


def test_outbox_keeps_messages_until_acknowledged_and_ignores_repeated_ids(tmp_path: Path) -> None:
    db = open_db(tmp_path / "site.db")
    assert enqueue(db, [msg(1), msg(2), msg(3)], now=100) == 3
    assert enqueue(db, [msg(2), msg(4)], now=101) == 1  # msg 2 again: stored once
    assert [m.id for m in pending(db, 10, skip=["rollup/cam1/spot/1"])] == [f"rollup/cam1/spot/{i}" for i in (2, 3, 4)]
    acknowledge(db, ["rollup/cam1/spot/1", "rollup/cam1/spot/2"], now=200)
    assert pending_count(db) == 2
    assert enqueue(db, [msg(1)], now=300) == 0  # acknowledged ids are still known: not sent again
    assert prune_acked(db, now=200 + 8 * 86400) == 2
    assert pending_count(db) == 2


def test_collector_queues_rollups_reports_health_and_info_once(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, HUB))
    db = open_db(config.storage.database)
    writer = Writer(db)
    writer.register_cameras([("cam1", "Quay 1", True)])
    t0 = int(datetime(2026, 12, 1, 8, 0, tzinfo=TZ).timestamp())
    with db.conn:
        writer.apply(OccupancySample.of("cam1", t0 + s, {"spot": {"occupied": s % 2 == 0, "count": 1},
                                                          "seat": {"occupied": True, "count": 1},
                                                          "queue": {"occupied": True, "count": 3}})
                     for s in range(300))  # five minutes
    clock = [t0 + 600.0]
    collector = Collector(lambda: config, now=lambda: clock[0])
    first = collector.collect(db)
    rows = [json.loads(r[0]) for r in db.execute("select payload from hub_outbox where id like 'rollup/%' order by id")]
    assert [r["data"]["minute"] for r in rows] == [t0 + 60 * i for i in range(5)]
    assert rows[0]["data"]["spot"]["occupied_s"] == 30 and rows[0]["data"]["queue"]["count_mean"] == 3.0
    assert {r["v"] for r in rows} == {2} and {r["site"] for r in rows} == {"xa-a"}
    kinds = [r[0].split("/")[0] for r in db.execute("select id from hub_outbox")]
    assert kinds.count("info") == 1 and kinds.count("health") == 1 and kinds.count("report") == 1
    assert first == len(kinds)
    info = json.loads(db.execute("select payload from hub_outbox where id like 'info/%'").fetchone()[0])["data"]
    assert info["site_url"] == "http://10.1.2.3:8000"
    assert [(c["id"], c["seat"], c["spot"], c["queue"]) for c in info["counters"]] == [("cam1", "cam1/seat", "cam1/spot", "cam1")]
    assert info["queues"] == [{"id": "cam1", "name": "Quay 1", "areas": ["cam1/queue"], "counters": ["cam1"]}]
    assert get_cursor(db, "rollup") == str(float(t0 + 480))
    clock[0] += 30  # same minute, nothing new: the same info, health minute and roll-ups are not queued again
    assert collector.collect(db) == 0
    assert collector.alerts(db, [offline_event("raised", "cam1", "Quay 1", t0 + 10.0, t0 + 400.0)]) == 1
    alert = json.loads(db.execute("select payload from hub_outbox where id like 'alert/%'").fetchone()[0])
    assert alert["data"]["state"] == "opened" and alert["id"] == f"alert/camera_offline/cam1/{t0 + 10}/opened"
