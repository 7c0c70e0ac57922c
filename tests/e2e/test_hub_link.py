"""Sites -> Mosquitto -> hub with real brokers (deploy/mosquitto configs, a test district CA):
20 sites publish a day each, one commune's bridge link and one direct link are cut mid-day and
restored, the hub is restarted mid-stream; every message arrives exactly once. Plus the ACL and
malformed-payload cases."""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from hub_sites import MINUTES, OPEN, SimSite, day_messages, offline_event
from monitor.hub.service import HubBroker, HubService
from monitor.site.hublink import HubLink
from mqtt_broker import (WAIT_S, Mosquitto, Relay, commune_broker, district_broker, make_ca, require_mosquitto,
                         wait_for)

log = logging.getLogger(__name__)

N_SITES = 20
STEP_MIN = 30  # site minutes released per step
CUT_FROM, CUT_TO = 8, 11  # steps: the link is down from 11:30 to 13:00 site time (90 minutes, > the 10)
HUB_DOWN_FROM, HUB_DOWN_TO = 13, 15  # steps: the hub is stopped from 14:00 to 15:00 site time


def password(site: str) -> str:
    return f"pw-{site}-secret"


def hub_rows(db_path: Path, site: str | None = None) -> dict[str, int]:
    """Stored message ids per site (or of one site) in the hub database."""
    conn = sqlite3.connect(db_path, timeout=10)
    try:
        sql = "select site, count(*) from messages" + (" where site = ?" if site else "") + " group by site"
        return dict(conn.execute(sql, [site] if site else []).fetchall())
    except sqlite3.OperationalError:  # a hub process that has created the file but not its tables yet
        return {}
    finally:
        conn.close()


def kinds(db_path: Path) -> set[str]:
    """The kinds of message stored in the hub database."""
    conn = sqlite3.connect(db_path, timeout=10)
    try:
        return {k for (k,) in conn.execute("select distinct kind from messages")}
    finally:
        conn.close()


@pytest.fixture
def district(tmp_path: Path):
    require_mosquitto()
    ca = make_ca(tmp_path / "ca")
    sites = [f"xa-{i:02d}" for i in range(1, N_SITES + 1)]
    accounts = {"hub": "hub-secret", "xa-evil": password("xa-evil"), **{s: password(s) for s in sites}}
    broker, local, tls = district_broker(tmp_path / "district", ca, accounts)
    broker.start()
    yield {"ca": ca, "sites": sites, "broker": broker, "local": local, "tls": tls, "tmp": tmp_path}
    broker.stop()


def start_hub(district: dict, db: Path) -> HubService:
    hub = HubService(HubBroker(port=district["local"], username="hub", password="hub-secret"), db).start()
    assert hub.connected.wait(10), "the hub did not connect to the district broker"
    return hub


def test_twenty_sites_link_cut_and_hub_restart_deliver_every_message_once(district: dict) -> None:
    tmp, ca = district["tmp"], district["ca"]
    hub_db = tmp / "hub.db"
    hubs = [start_hub(district, hub_db)]
    bridged, direct_cut = district["sites"][0], district["sites"][1]
    # the bridged site: its own commune broker, whose bridge reaches the district through a relay we cut
    bridge_relay = Relay(district["tls"])
    commune, commune_port = commune_broker(tmp / "commune", bridged, password(bridged),
                                           ("127.0.0.1", bridge_relay.port), ca["ca"])
    commune.start()
    direct_relay = Relay(district["tls"])  # the directly publishing site whose link is cut
    sites: list[SimSite] = []
    for i, name in enumerate(district["sites"]):
        if name == bridged:
            link = HubLink(broker=f"mqtt://127.0.0.1:{commune_port}", site_id=name)
        else:
            port = direct_relay.port if name == direct_cut else district["tls"]
            link = HubLink(broker=f"mqtts://127.0.0.1:{port}", site_id=name, username=name,
                           password=password(name), ca_file=ca["ca"])
        site = SimSite(name, tmp / name, link, day_messages(name, seed=i))
        sites.append(site.start())
    total = {s.site: len(s.messages) for s in sites}
    try:
        figures = run_day(district, sites, hubs, hub_db, (bridge_relay, direct_relay), commune)
        wait_for("every message in the hub", lambda: hub_rows(hub_db) == total, timeout=WAIT_S * 2)
    finally:
        for s in sites:
            s.stop()
        for h in hubs:
            h.stop()
        commune.stop()
        bridge_relay.cut()
        direct_relay.cut()

    # exactly once: every released id stored, no other, and no counter-minute twice in the dashboard table
    conn = sqlite3.connect(hub_db)
    for s in sites:
        stored = {r[0] for r in conn.execute("select id from messages where site = ?", [s.site])}
        assert stored == {m.id for m in s.released}, s.site
        rollups = conn.execute("select count(*), count(distinct minute) from rollups where site = ?", [s.site]).fetchone()
        assert rollups == (MINUTES, MINUTES), s.site
        assert conn.execute("select final from report_rows where site = ?", [s.site]).fetchall() == [(1,)]
        assert conn.execute("select state from alerts where site = ?", [s.site]).fetchall() == [("closed",)]
    conn.close()
    sent = sum(s.publisher.sent for s in sites)
    duplicates = sum(h.counts.duplicate for h in hubs)
    stored = sum(h.counts.stored for h in hubs)
    assert stored == sum(total.values())
    assert figures["held_direct"] > 0 and figures["held_bridged"] > 0
    log.warning("hub link test: %d messages from %d sites, %d PUBLISH calls by the sites, %d stored by the hub,"
                " %d duplicates dropped; link cut: %d held in the direct site's outbox, %d held for the bridged site;"
                " %d arrived while the hub was down", sum(total.values()), len(sites), sent, stored, duplicates,
                figures["held_direct"], figures["held_bridged"], figures["hub_backlog"])


def run_day(district: dict, sites: list[SimSite], hubs: list[HubService], hub_db: Path,
            relays: tuple[Relay, Relay], commune: Mosquitto) -> dict[str, int]:
    """Release the day in steps; cut and restore the two links (restarting the commune broker while its
    link is down: its bridge queue must survive), stop and restart the hub. Returns the figures."""
    bridge_relay, direct_relay = relays
    by_name = {s.site: s for s in sites}
    bridged, direct = by_name[district["sites"][0]], by_name[district["sites"][1]]
    figures = {"held_direct": 0, "held_bridged": 0, "hub_backlog": 0}
    steps = -(-MINUTES // STEP_MIN) + 1
    for step in range(steps):
        until = OPEN + 60 * STEP_MIN * (step + 1) + 120
        if step == CUT_FROM:  # mid-day, with every site (the bridged one too) caught up
            wait_for("every site caught up", lambda: all(hub_rows(hub_db, s.site).get(s.site, 0) == len(s.released)
                                                         for s in sites))
            bridge_relay.cut()
            direct_relay.cut()
            before = {n: hub_rows(hub_db, n).get(n, 0) for n in (bridged.site, direct.site)}
        if step == HUB_DOWN_FROM:
            hubs[-1].stop()
        released = {s.site: s.release(until) for s in sites}
        if step == CUT_TO:
            # while cut: the other sites' messages of the cut steps arrived, the two cut sites' did not
            others = [s for s in sites if s not in (bridged, direct)]
            wait_for("the uncut sites", lambda: all(hub_rows(hub_db, s.site).get(s.site, 0) == len(s.released)
                                                    for s in others))
            after = {n: hub_rows(hub_db, n).get(n, 0) for n in (bridged.site, direct.site)}
            figures["held_direct"] = direct.pending()
            figures["held_bridged"] = len(bridged.released) - after[bridged.site]
            assert after[direct.site] < len(direct.released) and after[bridged.site] < len(bridged.released)
            assert figures["held_direct"] >= len(direct.released) - after[direct.site] > 0  # held in its outbox
            log.warning("link cut: direct site %d -> %d stored, bridged %d -> %d", before[direct.site],
                        after[direct.site], before[bridged.site], after[bridged.site])
            commune.stop()  # what the bridge holds is in the commune broker's persistence file now
            commune.start()
            bridge_relay.restore()
            direct_relay.restore()
        if step == HUB_DOWN_TO:
            figures["hub_backlog"] = sum(released.values())
            hubs.append(start_hub(district, hub_db))
    return figures


def site_client(district: dict, account: str) -> mqtt.Client:
    """A bare MQTT client logged in as a site account over the district's TLS listener, loop running."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{account}-test", protocol=mqtt.MQTTv311)
    client.username_pw_set(account, password(account))
    client.tls_set(ca_certs=str(district["ca"]["ca"]))
    client.connect("127.0.0.1", district["tls"])
    client.loop_start()
    return client


def test_a_site_cannot_publish_under_another_sites_prefix(district: dict, tmp_path: Path) -> None:
    hub = start_hub(district, tmp_path / "hub.db")
    try:
        client = site_client(district, "xa-evil")
        forged = day_messages("xa-01", seed=1)[1][1]  # a roll-up of xa-01, published by the xa-evil account
        own = day_messages("xa-evil", seed=1)[1][1]
        client.publish(forged.topic, forged.payload, qos=1).wait_for_publish(10)
        client.publish(own.topic, own.payload, qos=1).wait_for_publish(10)  # same connection: arrives after the forged one
        wait_for("xa-evil's own message", lambda: hub_rows(tmp_path / "hub.db").get("xa-evil") == 1)
        assert "xa-01" not in hub_rows(tmp_path / "hub.db")
        client.loop_stop()
        client.disconnect()
    finally:
        hub.stop()


def test_malformed_payloads_are_dropped_and_the_hub_goes_on(district: dict, tmp_path: Path,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    hub = start_hub(district, tmp_path / "hub.db")
    try:
        client = site_client(district, "xa-03")
        good = day_messages("xa-03", seed=3)[1][1]
        bad = [b"not json", b"[1, 2]", b'{"v": 99, "id": "x", "site": "xa-03", "kind": "rollup", "at": 1, "data": {}}',
               b'{"v": 1, "id": "y", "site": "xa-03", "kind": "rollup", "at": 1, "data": {"camera": "c"}}',
               good.payload.replace('"site":"xa-03"', '"site":"xa-04"')]
        for payload in bad:
            client.publish(good.topic, payload, qos=1).wait_for_publish(10)
        client.publish(good.topic, good.payload, qos=1).wait_for_publish(10)
        wait_for("the good message", lambda: hub.counts.stored == 1)
        assert hub.counts.dropped == len(bad)
        assert hub_rows(tmp_path / "hub.db") == {"xa-03": 2}  # the good one and "y" (its id is kept, its data not)
        assert sum("dropped" in r.message for r in caplog.records) == len(bad)
        client.loop_stop()
        client.disconnect()
    finally:
        hub.stop()


def test_the_supervisors_hub_job_publishes_a_sites_figures(district: dict, tmp_path: Path) -> None:
    from hub_sites import site_config
    from monitor.db.store import Writer, open_db
    from monitor.hubjob import hub_job

    hub = start_hub(district, tmp_path / "hub.db")
    config = site_config("xa-05")
    config.storage.database = tmp_path / "site" / "onestop.db"
    config.hub = HubLink(broker=f"mqtts://127.0.0.1:{district['tls']}", site_id="xa-05", username="xa-05",
                         password=password("xa-05"), ca_file=district["ca"]["ca"], site_url="http://xa-05.local:8000")
    db = open_db(config.storage.database)
    Writer(db).register_cameras([("cam1", "Quầy 1", True)])
    db.conn.close()
    job = hub_job(lambda: config)
    assert job is not None
    try:
        job.run(time.time())  # what the supervisor's tick runs in a thread: info, health, today's report rows
        job.alerts([offline_event("raised", "cam1", "Quầy 1", time.time() - 400, time.time())])
        wait_for("the site's info, health and alert", lambda: {"info", "health", "alert"} <= kinds(tmp_path / "hub.db"))
        conn = sqlite3.connect(tmp_path / "hub.db")
        assert conn.execute("select site_url from sites where site = 'xa-05'").fetchone() == ("http://xa-05.local:8000",)
        assert conn.execute("select state from alerts where site = 'xa-05'").fetchall() == [("opened",)]
        conn.close()
        wait_for("the outbox emptied", lambda: SimSite("xa-05", tmp_path / "site", config.hub).pending() == 0)
    finally:
        job.close()
        hub.stop()
    assert hub_job(lambda: site_config("xa-06")) is None  # no hub: section, no job


def test_hub_process_killed_mid_stream_loses_and_doubles_nothing(district: dict, tmp_path: Path) -> None:
    """`onestop hub run` as a process, SIGKILLed while a backlog streams in, then started again."""
    import os
    import signal
    import subprocess
    import sys

    from support import free_port

    hub_db = tmp_path / "hub.db"
    cmd = [str(Path(sys.executable).parent / "onestop"), "hub", "run", "--db", str(hub_db), "--broker",
           f"mqtt://127.0.0.1:{district['local']}", "--username", "hub", "--port", str(free_port())]
    env = {**os.environ, "HUB_MQTT_PASSWORD": "hub-secret"}

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    sites = []
    for i, name in enumerate(district["sites"][:5]):
        link = HubLink(broker=f"mqtts://127.0.0.1:{district['tls']}", site_id=name, username=name,
                       password=password(name), ca_file=district["ca"]["ca"])
        sites.append(SimSite(name, tmp_path / name, link, day_messages(name, seed=i)).start())
    proc = start()
    try:
        probe = site_client(district, "xa-evil")  # the hub's session must exist before the sites publish
        msg = day_messages("xa-evil", seed=0)[0][1]
        wait_for("the hub subscribed", lambda: probe.publish(msg.topic, msg.payload, qos=1) is not None
                 and hub_db.exists() and hub_rows(hub_db).get("xa-evil") == 1)
        probe.loop_stop()
        probe.disconnect()
        for s in sites:
            s.release(OPEN + 86400)
        wait_for("some rows", lambda: sum(hub_rows(hub_db).values()) > 200)
        proc.send_signal(signal.SIGKILL)  # no clean-up at all: what was unacknowledged comes again
        proc.wait(10)
        at_kill = sum(hub_rows(hub_db).values())
        proc = start()
        total = {s.site: len(s.released) for s in sites}
        wait_for("every message after the restart", lambda: hub_rows(hub_db) == {**total, "xa-evil": 1})
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
        for s in sites:
            s.stop()
    conn = sqlite3.connect(hub_db)
    for s in sites:
        assert {r[0] for r in conn.execute("select id from messages where site = ?", [s.site])} == {m.id for m in s.released}
        assert conn.execute("select count(*) from rollups where site = ?", [s.site]).fetchone() == (MINUTES,)
    conn.close()
    log.warning("hub killed at %d of %d rows; all stored once after the restart", at_kill, sum(total.values()))

