"""The site's named counters and fields on their way to the hub (no broker): the collector's roll-ups and
day rows per counter of the `counters:` section, the queue summed over its waiting areas, alerts
acknowledged in the web UI queued with who/when/comment; and the hub's view of them after ingest."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest

from hub_sites import TZ
from monitor.counters.office_report import build_office_report
from monitor.db import alerts as alert_table
from monitor.db.store import Writer, open_db
from monitor.hub import stats
from monitor.hub.fields import field_names
from monitor.hub.store import ingest, open_hub_db
from monitor.messages import OccupancySample
from monitor.ops.hubmessages import queue_minutes
from monitor.ops.publish import Collector
from monitor.site.config import load_config

YAML = """\
site: {name: UBND xa A}
cameras:
  - id: cam1
    name: Cam 1
    streams: {main: "rtsp://10.0.0.1/main"}
    zones:
      - {id: seat, kind: staff_seat, points: [[0, 0], [0.5, 0], [0.5, 0.5]]}
      - {id: spot, kind: service_spot, points: [[0.5, 0.5], [1, 0.5], [1, 1]]}
      - {id: hall, kind: waiting_area, points: [[0, 0.5], [0.4, 0.5], [0.4, 1]]}
  - id: cam2
    name: Cam 2
    streams: {main: "rtsp://10.0.0.2/main"}
    zones:
      - {id: seat, kind: staff_seat, points: [[0, 0], [0.5, 0], [0.5, 0.5]]}
      - {id: spot, kind: service_spot, points: [[0.5, 0.5], [1, 0.5], [1, 1]]}
      - {id: hall, kind: waiting_area, points: [[0, 0.5], [0.4, 0.5], [0.4, 1]]}
counters:
  - {id: quay-1, name: "Quầy 1 – Tư pháp", field: tu-phap, staff_seat: {camera: cam1, zone: seat},
     service_spot: {camera: cam1, zone: spot}}
  - {id: quay-2, name: "Quầy 2 – Địa chính", field: dia-chinh, staff_seat: {camera: cam2, zone: seat},
     service_spot: {camera: cam2, zone: spot}}
fields:
  - {id: tu-phap, name: "Tư pháp – Hộ tịch", name_en: Justice and civil status}
  - {id: dia-chinh, name: Địa chính}
queues:
  - id: sanh
    name: Sảnh chờ
    waiting_areas: [{camera: cam1, zone: hall}, {camera: cam2, zone: hall}]
    feeds: [tu-phap, dia-chinh]
hub: {broker: "mqtt://127.0.0.1:1883", site_id: xa-a}
"""
DAY = date(2026, 12, 1)
T0 = int(datetime(2026, 12, 1, 8, 0, tzinfo=TZ).timestamp())
MINUTES = 30
SERVICE = {"cam1": [(120, 420), (600, 900), (1200, 1500)], "cam2": [(300, 700), (1000, 1400)]}  # seconds after T0


def config_of(folder: Path, text: str):
    (folder / "cameras.yaml").write_text(text, encoding="utf-8")
    return load_config(folder / "cameras.yaml")


def serving(camera: str, s: int) -> bool:
    return any(a <= s < b for a, b in SERVICE[camera])


@pytest.fixture
def site(tmp_path: Path):
    config = config_of(tmp_path, YAML)
    db = open_db(config.storage.database)
    writer = Writer(db)
    writer.register_cameras([("cam1", "Cam 1", True), ("cam2", "Cam 2", True)])
    hall = {"cam1": 2, "cam2": 1}  # people in each waiting area: the queue holds 3
    with db.conn:
        writer.apply(OccupancySample.of(cam, T0 + s, {
            "seat": {"occupied": True, "count": 1}, "spot": {"occupied": serving(cam, s), "count": float(serving(cam, s))},
            "hall": {"occupied": True, "count": hall[cam]}}) for s in range(60 * MINUTES) for cam in ("cam1", "cam2"))
    yield config, db
    db.conn.close()


def outbox(db, prefix: str) -> list[dict]:
    return [json.loads(r[0]) for r in db.execute("select payload from hub_outbox where id like ? order by id",
                                                  [prefix + "%"])]


def test_rollups_and_day_rows_are_per_named_counter_with_name_and_field(site) -> None:
    config, db = site
    clock = [T0 + 60.0 * (MINUTES + 5)]
    Collector(lambda: config, now=lambda: clock[0]).collect(db)
    rollups = outbox(db, "rollup/")
    assert {r["data"]["counter"] for r in rollups} == {"quay-1", "quay-2"}
    assert len(rollups) == 2 * MINUTES
    first = next(r for r in rollups if r["id"] == f"rollup/quay-2/{T0}")
    assert first["data"]["name"] == "Quầy 2 – Địa chính" and first["data"]["field"] == "dia-chinh"
    assert first["data"]["queue"]["count_mean"] == 3.0  # both halls summed
    assert first["data"]["seat"]["occupied_s"] == 60 and first["data"]["spot"]["occupied_s"] == 0
    rows = {r["data"]["counter"]: r["data"] for r in outbox(db, "report/")}
    report = {r.id: r for r in build_office_report(config, db, DAY, DAY).rows if r.level == "counter" and r.hour is None}
    assert set(rows) == set(report) == {"quay-1", "quay-2"}
    for cid, data in rows.items():
        assert data["served"] == report[cid].served == len(SERVICE["cam1" if cid == "quay-1" else "cam2"])
        # the 3 people waiting from the first sample have lower-bound waits, left out (site.OfficeAnalysis.lower)
        assert 1 <= len(data["waits"]) <= data["served"] and data["source"] == "camera"
        assert data["mean_wait_s"] == pytest.approx(report[cid].mean_wait_s, abs=0.05)
        assert data["absence_min"] == pytest.approx(report[cid].absence_min, abs=0.05)
    assert rows["quay-1"]["field"] == "tu-phap" and rows["quay-1"]["queue"] == "sanh"
    info = outbox(db, "info/")[0]["data"]
    assert [q["areas"] for q in info["queues"]] == [["cam1/hall", "cam2/hall"]]

    hub = open_hub_db(":memory:")
    with hub.conn:
        for r in db.execute("select topic, payload from hub_outbox").fetchall():
            assert ingest(hub, r[0], r[1].encode(), clock[0]) == "stored"
    fields = {f.field: f for f in stats.period_figures(hub, "xa-a", DAY, DAY, by="field")}
    assert fields["tu-phap"].served == 3 and fields["dia-chinh"].served == 2
    counters = {f.counter: f for f in stats.period_figures(hub, "xa-a", DAY, DAY, by="counter")}
    assert set(counters) == {"Quầy 1 – Tư pháp", "Quầy 2 – Địa chính"}
    assert hub.execute("select count(*), count(distinct counter) from rollups").fetchone() == (2 * MINUTES, 2)


def test_queue_minutes_sum_the_areas_only_where_all_were_seen() -> None:
    a = [{"minute": 0, "samples": 60, "occupied_s": 10, "count_mean": 1.5, "count_max": 2},
         {"minute": 60, "samples": 60, "occupied_s": 60, "count_mean": 2.0, "count_max": 2}]
    b = [{"minute": 60, "samples": 58, "occupied_s": 30, "count_mean": 0.5, "count_max": 1}]
    assert queue_minutes([a, b]) == [{"minute": 60, "samples": 58, "occupied_s": 60, "count_mean": 2.5, "count_max": 3}]
    assert queue_minutes([]) == []


def test_acknowledged_alerts_are_queued_once_per_acknowledgement(site) -> None:
    config, db = site
    clock = [T0 + 600.0]
    collector = Collector(lambda: config, now=lambda: clock[0])
    with db.conn:
        alert = alert_table.open_alert(db, "queue_long", "sanh", "cam1", T0 + 100.0, T0 + 400.0, 6.0)
    collector.collect(db)
    assert outbox(db, "alert/") == []  # opened goes through the alert sink; nothing acknowledged yet
    alert_table.acknowledge(db, alert, "can-bo", T0 + 500.5, "Đã mở thêm quầy")
    collector.collect(db)
    clock[0] += 60
    collector.collect(db)  # the same acknowledgement is not queued again
    acks = outbox(db, "alert/")
    assert len(acks) == 1
    data = acks[0]["data"]
    assert (data["state"], data["ack_by"], data["ack_comment"], data["at"]) == (
        "acknowledged", "can-bo", "Đã mở thêm quầy", T0 + 500.5)
    assert data["alert_id"] == f"queue_long/sanh/{T0 + 100}" and data["name"] == "Sảnh chờ"
    alert_table.acknowledge(db, alert, "truong-bp", T0 + 650.0, "Đã xử lý")
    collector.collect(db)
    acks = outbox(db, "alert/")
    assert [a["data"]["ack_by"] for a in acks] == ["can-bo", "truong-bp"]

    hub = open_hub_db(":memory:")
    with hub.conn:
        for a in reversed(acks):  # a link cut may deliver them in any order: the newest acknowledgement wins
            ingest(hub, a_topic(a), json.dumps(a).encode(), clock[0])
    row = hub.execute("select state, ack_by, ack_comment, acknowledged_at from alerts").fetchone()
    assert row == ("acknowledged", "truong-bp", "Đã xử lý", T0 + 650.0)


def a_topic(msg: dict) -> str:
    return f"onestop/{msg['site']}/alert/{msg['data']['subject']}"


def test_a_schema_1_row_from_a_site_not_yet_upgraded_is_read_by_camera_and_zone() -> None:
    hub = open_hub_db(":memory:")
    data = {"day": DAY.isoformat(), "camera": "cam1", "counter": "spot", "final": True, "computed_at": T0 + 0.0,
            "served": 2, "mean_service_s": 300.0, "waits": [120.0, 900.0], "absence_min": 3.0}
    msg = {"v": 1, "id": "report/2026-12-01/cam1/spot/final", "site": "xa-old", "kind": "report", "at": T0, "data": data}
    with hub.conn:
        assert ingest(hub, "onestop/xa-old/report/cam1/spot", json.dumps(msg).encode(), T0) == "stored"
    [row] = stats.period_figures(hub, "xa-old", DAY, DAY, target_s=600, by="counter")
    assert (row.counter, row.field, row.served, row.over_target) == ("cam1/spot", None, 2, 0.5)


def test_first_run_sends_the_acknowledgements_of_the_last_week_only(site) -> None:
    config, db = site
    week = 7 * 86400
    with db.conn:
        for age in (week, week - 3600):  # first run at T0 + 600: a week back is T0 - week + 600
            alert = alert_table.open_alert(db, "camera_offline", f"cam{1 + (age < week)}", "cam1", T0 - age, T0 - age, 1.0)
            alert_table.close_alert(db, alert, T0 - age + 30)
    for alert in alert_table.list_alerts(db, since=0):
        alert_table.acknowledge(db, alert.id, "can-bo", alert.raised + 10, "")
    Collector(lambda: config, now=lambda: T0 + 600.0).collect(db)
    assert [a["data"]["subject"] for a in outbox(db, "alert/")] == ["cam2"]


def test_info_names_the_fields_and_is_queued_again_only_when_it_changes(site, tmp_path: Path) -> None:
    config, db = site
    renamed = config_of(tmp_path, YAML.replace("name: Địa chính}", "name: Đất đai, name_en: Land}"))
    clock, current = [T0 + 60.0], [config]
    collector = Collector(lambda: current[0], now=lambda: clock[0])
    for c in (config, config, renamed, config):  # unchanged, renamed, renamed back
        current[0] = c
        collector.collect(db)
        clock[0] += 60
    infos = sorted(outbox(db, "info/"), key=lambda m: m["at"])
    assert [m["data"]["fields"][1] for m in infos] == [{"id": "dia-chinh", "name": "Địa chính", "name_en": "Địa chính"},
                                                      {"id": "dia-chinh", "name": "Đất đai", "name_en": "Land"},
                                                      {"id": "dia-chinh", "name": "Địa chính", "name_en": "Địa chính"}]
    hub = open_hub_db(":memory:")
    with hub.conn:  # after a link cut they may come in any order: the newest (site time) wins
        assert [ingest(hub, "onestop/xa-a/info", json.dumps(m).encode(), clock[0]) for m in (infos[2], infos[0], infos[1])] == [
            "stored"] * 3
    names = field_names(hub)
    assert names.label("dia-chinh", "en", "xa-a") == "Địa chính" and names.label("dia-chinh", "en") == "Địa chính"
    assert names.label("tu-phap", "en") == "Justice and civil status" and names.label("tu-phap", "vi") == "Tư pháp – Hộ tịch"


@pytest.mark.parametrize("version", [1, 2])
def test_an_info_without_field_names_from_an_older_site_is_read(version: int) -> None:
    hub = open_hub_db(":memory:")
    data = {"name": "UBND xã cũ", "timezone": "Asia/Ho_Chi_Minh", "site_url": None, "cameras": []}
    msg = {"v": version, "id": "info/abc", "site": "xa-old", "kind": "info", "at": T0, "data": data}
    bad = {**msg, "id": "info/def", "at": T0 + 60, "data": {**data, "name": "X", "fields": [{"id": "tu-phap"}]}}
    with hub.conn:
        assert ingest(hub, "onestop/xa-old/info", json.dumps(msg).encode(), T0) == "stored"
        assert ingest(hub, "onestop/xa-old/info", json.dumps(bad).encode(), T0) == "dropped"
    assert [s.name for s in stats.site_states(hub, T0)] == ["UBND xã cũ"]
    assert field_names(hub).label("tu-phap", "en", "xa-old") == "tu-phap"  # no names: the id
