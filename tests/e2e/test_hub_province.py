"""A province over districts with real brokers: two district Mosquittos, each fed by its sites (one through a
commune broker's bridge, two directly), bridge up to a province Mosquitto with deploy/mosquitto/
district-province-bridge.conf; a province `onestop hub` (--topic-root d/+/onestop) sees every site of
both districts exactly once, the same site ids in two districts kept apart, through a cut of one
district's province link. A district hub goes on beside it, and a district account cannot write
under another district's prefix at the province."""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from hub_sites import DAY, MINUTES, OPEN, SimSite, day_messages
from monitor.db.users import add_user
from monitor.hub import stats
from monitor.hub.service import HubBroker, HubService
from monitor.hub.store import open_hub_db
from monitor.hub.web import create_hub_app
from monitor.site.hublink import HubLink
from mqtt_broker import (Mosquitto, Relay, commune_broker, district_broker, make_ca, province_bridge,
                         require_mosquitto, wait_for)

log = logging.getLogger(__name__)

DISTRICTS = ("bac-me", "yen-minh")
SITES = ("xa-a", "xa-b", "xa-c")  # the same ids in both districts: the province keys them district/site


def password(account: str) -> str:
    return f"pw-{account}-secret"


def stored_ids(db_path: Path) -> set[tuple[str, str]]:
    conn = sqlite3.connect(db_path, timeout=10)
    try:
        return set(conn.execute("select site, id from messages").fetchall())
    except sqlite3.OperationalError:
        return set()
    finally:
        conn.close()


def goes_up(msg_id: str) -> bool:
    """What district-province-bridge.conf forwards: everything but the per-minute roll-ups."""
    return not msg_id.startswith("rollup/")


class Province:
    """The province broker and hub, the two district brokers with their sites, one district hub."""

    def __init__(self, tmp: Path):
        self.tmp, self.ca = tmp, make_ca(tmp / "ca")
        self.brokers: list[Mosquitto] = []
        self.sites: dict[str, list[SimSite]] = {}
        self.relays: dict[str, Relay] = {}
        accounts = {"province-hub": password("province-hub"), **{d: password(d) for d in DISTRICTS}}
        broker, self.local, self.tls = district_broker(tmp / "province", self.ca, accounts, acl="province.acl")
        self.brokers.append(broker.start())
        # the province hub first: the province broker keeps messages only for a session it knows
        self.hub = HubService(HubBroker(port=self.local, username="province-hub", password=password("province-hub"),
                                        client_id="onestop-province-hub", topic_root="d/+/onestop"),
                              tmp / "province.db").start()
        assert self.hub.connected.wait(10)
        self.district_hub: HubService | None = None
        for k, district in enumerate(DISTRICTS):
            self._district(k, district)

    def _district(self, k: int, district: str) -> None:
        relay = self.relays[district] = Relay(self.tls)  # the district's link up to the province
        bridge = province_bridge(district, password(district), ("127.0.0.1", relay.port), self.ca["ca"])
        accounts = {"hub": "hub-secret", **{s: password(s) for s in SITES}}
        broker, local, tls = district_broker(self.tmp / district, self.ca, accounts, extra=bridge)
        self.brokers.append(broker.start())
        if k == 0:
            self.district_hub = HubService(HubBroker(port=local, username="hub", password="hub-secret"),
                                           self.tmp / "district.db").start()
            assert self.district_hub.connected.wait(10)
        commune, commune_port = commune_broker(self.tmp / f"{district}-commune", SITES[0], password(SITES[0]),
                                               ("127.0.0.1", tls), self.ca["ca"])
        self.brokers.append(commune.start())
        self.sites[district] = []
        for i, site in enumerate(SITES):
            if i == 0:
                link = HubLink(broker=f"mqtt://127.0.0.1:{commune_port}", site_id=site)
            else:
                link = HubLink(broker=f"mqtts://127.0.0.1:{tls}", site_id=site, username=site, password=password(site),
                               ca_file=self.ca["ca"])
            sim = SimSite(site, self.tmp / f"{district}-{site}", link, day_messages(site, seed=10 * k + i))
            self.sites[district].append(sim.start())

    def release(self, until: float) -> None:
        for sims in self.sites.values():
            for s in sims:
                s.release(until)

    def expected(self) -> set[tuple[str, str]]:
        """(district/site, id) of every released message that goes up to the province."""
        return {(f"{d}/{s.site}", m.id) for d, sims in self.sites.items() for s in sims for m in s.released
                if goes_up(m.id)}

    def stop(self) -> None:
        for sims in self.sites.values():
            for s in sims:
                s.stop()
        for hub in (self.hub, self.district_hub):
            if hub is not None:
                hub.stop()
        for b in reversed(self.brokers):
            b.stop()
        for r in self.relays.values():
            r.cut()


@pytest.fixture
def province(tmp_path: Path):
    require_mosquitto()
    p = Province(tmp_path)
    yield p
    p.stop()


def test_province_hub_sees_every_site_of_both_districts_exactly_once(province: Province) -> None:
    noon = OPEN + 60 * (MINUTES // 2)
    province.release(noon)
    wait_for("the morning at the province", lambda: stored_ids(province.tmp / "province.db") == province.expected())
    province.relays["bac-me"].cut()  # bac-me's link to the province drops for the afternoon
    province.release(float("inf"))
    wait_for("yen-minh's afternoon", lambda: {k for k in province.expected() if k[0].startswith("yen-minh/")}
             <= stored_ids(province.tmp / "province.db"))
    held = len(province.expected() - stored_ids(province.tmp / "province.db"))
    assert held > 0 and all(k[0].startswith("bac-me/") for k in province.expected() - stored_ids(province.tmp / "province.db"))
    province.relays["bac-me"].restore()
    wait_for("every site at the province", lambda: stored_ids(province.tmp / "province.db") == province.expected())
    district_db = province.tmp / "district.db"
    bac_me = {(s.site, m.id) for s in province.sites["bac-me"] for m in s.released}
    wait_for("every bac-me message at the district hub", lambda: stored_ids(district_db) == bac_me)
    time.sleep(1.0)  # anything sent twice would arrive now

    hub = province.hub
    expected = province.expected()
    assert hub.counts.stored == len(expected) and hub.counts.dropped == 0
    db = open_hub_db(province.tmp / "province.db")
    try:
        keys = [r[0] for r in db.execute("select site from sites order by site")]
        assert keys == [f"{d}/{s}" for d in DISTRICTS for s in SITES]
        assert db.execute("select count(*) from rollups").fetchone()[0] == 0  # roll-ups stay in the district
        assert db.execute("select count(*) from report_rows").fetchone()[0] == len(keys)
        assert {r[0] for r in db.execute("select state from alerts")} == {"closed"}
        province_figures = {f.site: f for f in stats.period_figures(db, None, DAY, DAY)}
    finally:
        db.conn.close()
    district = open_hub_db(district_db)
    try:
        for f in stats.period_figures(district, None, DAY, DAY):
            assert province_figures[f"bac-me/{f.site}"] == stats.Figures(f"bac-me/{f.site}", *list(vars(f).values())[1:])
    finally:
        district.conn.close()
    total = sum(len(s.released) for sims in province.sites.values() for s in sims)
    log.warning("province test: %d messages from %d sites in 2 districts; %d went up, %d stored at the province "
                "(%d duplicates dropped), %d held while bac-me's province link was cut; the district hub stored %d",
                total, 2 * len(SITES), len(expected), hub.counts.stored, hub.counts.duplicate, held,
                province.district_hub.counts.stored if province.district_hub else 0)


def test_province_dashboard_drills_into_a_district_site(province: Province) -> None:
    province.release(float("inf"))
    wait_for("every site at the province", lambda: stored_ids(province.tmp / "province.db") == province.expected())
    db = open_hub_db(province.tmp / "province.db")
    with db.conn:
        add_user(db, "tinh", "a long passphrase", "viewer", now=time.time())
    db.conn.close()
    app = create_hub_app(province.tmp / "province.db", {"TESTING": True, "WTF_CSRF_ENABLED": False,
                                                         "SECRET_KEY": "t", "CLOCK": lambda: OPEN + 60 * MINUTES})
    client = app.test_client()
    client.post("/login", data={"username": "tinh", "password": "a long passphrase"})
    index = client.get(f"/?from={DAY}&to={DAY}").get_data(as_text=True)
    assert index.count('data-site="yen-minh/xa-b"') == 1 and 'href="/site/yen-minh/xa-b"' in index
    page = client.get("/site/yen-minh/xa-b").get_data(as_text=True)
    assert 'href="http://xa-b.local:8000"' in page and "Quầy 1 – Tư pháp" in page


def test_a_district_cannot_write_under_another_districts_prefix(province: Province) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bac-me-test", protocol=mqtt.MQTTv311)
    client.username_pw_set("bac-me", password("bac-me"))
    client.tls_set(ca_certs=str(province.ca["ca"]))
    client.connect("127.0.0.1", province.tls)
    client.loop_start()
    try:
        msg = day_messages("xa-z", seed=1)[1][1]
        for district in ("yen-minh", "bac-me"):  # the forged one first; the own one arrives after it
            client.publish(f"d/{district}/{msg.topic}", msg.payload, qos=1).wait_for_publish(10)
        wait_for("bac-me's own message", lambda: ("bac-me/xa-z", msg.id) in stored_ids(province.tmp / "province.db"))
        assert not any(k.startswith("yen-minh/") for k, _ in stored_ids(province.tmp / "province.db"))
    finally:
        client.loop_stop()
        client.disconnect()
