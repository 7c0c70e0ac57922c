"""Hub sizing: message sizes of a 5-camera site's day, hub database growth, and broker memory/disk per queued message.

Usage: python benchmarks/hub_sizing.py [--sites 20] [--cameras 5] [--queue-days 2] [--no-broker]

Every message is made by the real builders (monitor/ops/hubmessages.py) at the real collector's
cadence (monitor/ops/publish.py): a roll-up per counter per minute for 24 h (the worker samples
all day), a health snapshot per minute, running report rows every 15 min, final rows, an info, two
alerts. The day is ingested into a fresh hub database by the real `ingest` (--sites sites), and
the file growth is measured. With Mosquitto installed, --queue-days site-days are published to a
broker holding a persistent, disconnected subscriber session (what the district broker does while
the hub is down), and the broker's RSS and persistence file are measured. docs/hub-scale.md uses
these figures.
"""

from __future__ import annotations

import argparse
import getpass
import json
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from hub_sites import counter_day, offline_event, site_config  # noqa: E402
from monitor.db.outbox import OutMessage  # noqa: E402
from monitor.db.store import connect  # noqa: E402
from monitor.hub.stats import period_figures  # noqa: E402
from monitor.hub.store import ingest, open_hub_db  # noqa: E402
from monitor.ops.health import CameraHealth  # noqa: E402
from monitor.ops.hubmessages import (CounterDay, CounterRef, alert_message, health_message, info_message,  # noqa: E402
                                     report_messages, rollup_messages, site_counters)
from monitor.ops.publish import RUNNING_REPORT_S  # noqa: E402

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = date(2026, 12, 1)
MIDNIGHT = datetime(2026, 12, 1, tzinfo=TZ).timestamp()
OPEN_MIN, CLOSE_MIN = 7 * 60 + 30, 16 * 60 + 30  # citizens come 07:30-16:30
CITIZEN_P = 0.2  # per counter-minute while open: about 108 citizens per counter per day


def site_day(site: str, cameras: int, seed: int, day: date = DAY, midnight: float = MIDNIGHT) -> list[OutMessage]:
    """A 24-hour day of one site with one counter per camera, in publishing order."""
    rng = random.Random(seed)
    config = site_config(site, cameras)
    refs = site_counters(config)
    out = [info_message(config, site, f"http://{site}.local:8000", midnight)]
    waits: dict[str, list[float]] = {r.counter: [] for r in refs}
    for m in range(1440):
        minute = midnight + 60 * m
        is_open = OPEN_MIN <= m < CLOSE_MIN
        for ref in refs:
            q = rng.randint(0, 6) if is_open else 0
            occ = rng.choice([0, 30, 60, 60]) if is_open else 0
            rows = {role: [{"minute": minute, "samples": 60, "occupied_s": o, "count_sum": 60 * n, "count_max": n,
                            "count_mean": float(n)}] for role, o, n in
                    (("spot", occ, int(occ > 0)), ("seat", occ, int(occ > 0)), ("queue", 60 * (q > 0), q))}
            out += rollup_messages(site, ref, rows)
            if is_open and rng.random() < CITIZEN_P:
                waits[ref.counter].append(rng.uniform(30, 1500))
        cams = [CameraHealth(c.id, c.name, "online", None, 0, None) for c in config.cameras]
        out.append(health_message(site, cams, minute))
        if m in (600, 630):
            kind = "raised" if m == 600 else "closed"
            out.append(alert_message(site, offline_event(kind, "cam1", "cam1", midnight + 60 * 595, minute)))
        if (m * 60) % RUNNING_REPORT_S == 0 or m == 1439:
            out += report_messages(site, [_row(day, r, waits[r.counter]) for r in refs], minute + 60,
                                   final=m == 1439)
    return out


def _row(day: date, ref: CounterRef, waits: list[float]) -> CounterDay:
    return replace(counter_day(ref, waits), day=day)


def message_sizes(msgs: list[OutMessage]) -> dict[str, dict[str, float]]:
    """Per kind: count and bytes of topic + payload."""
    kinds: dict[str, dict[str, float]] = {}
    for msg in msgs:
        k = kinds.setdefault(msg.id.split("/")[0], {"count": 0, "bytes": 0})
        k["count"] += 1
        k["bytes"] += len(msg.topic.encode()) + len(msg.payload.encode())
    return kinds


def hub_growth(folder: Path, sites: int, cameras: int) -> dict[str, float]:
    """Ingest one day of `sites` sites into a fresh hub database; the file growth and the ingest time."""
    path = folder / "hub.db"
    db = open_hub_db(path)
    empty = _db_bytes(path)
    messages = 0
    took = 0.0
    for s in range(sites):
        day = site_day(f"xa-{s:03d}", cameras, seed=s)
        t0 = time.perf_counter()
        with db.conn:
            for i in range(0, len(day), 500):  # the hub's batches (service.BATCH_MAX)
                for msg in day[i:i + 500]:
                    ingest(db, msg.topic, msg.payload.encode(), time.time())
        took += time.perf_counter() - t0
        messages += len(day)
    db.conn.execute("pragma wal_checkpoint(truncate)")
    tables = {t: db.execute(f"select count(*) from {t}").fetchone()[0] for t in
              ("messages", "rollups", "report_rows", "alerts", "health", "sites")}
    t0 = time.perf_counter()
    period_figures(db, None, DAY, DAY)
    read_s = time.perf_counter() - t0
    db.conn.close()
    full = _db_bytes(path)
    return {"messages": messages, "bytes": full - empty, "ingest_s": took, "per_s": messages / took,
            "period_figures_s": read_s, **{f"rows_{k}": v for k, v in tables.items()}}


def dashboard_read(folder: Path, sites: int, cameras: int, days: int, readers: int) -> dict[str, float]:
    """Final report rows of `sites` x `cameras` counters x `days` days; the time of the all-sites period figures."""
    db = open_hub_db(folder / "read.db")
    rng = random.Random(1)
    with db.conn:
        for d in range(days):
            day = date.fromordinal(DAY.toordinal() - d)
            for s in range(sites):
                refs = site_counters(site_config(f"xa-{s:03d}", cameras))
                rows = [_row(day, r, [rng.uniform(30, 1500) for _ in range(108)]) for r in refs]
                for msg in report_messages(f"xa-{s:03d}", rows, MIDNIGHT, final=True):
                    ingest(db, msg.topic, msg.payload.encode(), time.time())
    first = date.fromordinal(DAY.toordinal() - days + 1)
    t0 = time.perf_counter()
    figures = period_figures(db, None, first, DAY)
    took = time.perf_counter() - t0
    t0 = time.perf_counter()
    period_figures(db, None, DAY, DAY)
    day_took = time.perf_counter() - t0
    db.conn.execute("pragma wal_checkpoint(truncate)")
    db.conn.close()
    size = _db_bytes(folder / "read.db")
    together = _concurrent(folder / "read.db", first, readers)
    return {"report_rows": sites * cameras * days, "sites": len(figures), "period_s": took, "one_day_s": day_took,
            "bytes": size, "readers": readers, **together}


def _concurrent(path: Path, first: date, readers: int) -> dict[str, float]:
    """`readers` dashboard threads computing the period at once while the writer ingests (the hub's one process)."""
    stored = 0
    done = threading.Event()

    def read() -> None:
        conn = connect(path, readonly=True)
        try:
            period_figures(conn, None, first, DAY)
        finally:
            conn.conn.close()

    def write() -> None:
        nonlocal stored
        db = open_hub_db(path)
        msgs = site_day("xa-new", 5, seed=99)
        try:
            while not done.is_set() and stored < len(msgs):
                with db.conn:
                    for msg in msgs[stored:stored + 500]:
                        ingest(db, msg.topic, msg.payload.encode(), time.time())
                stored = min(stored + 500, len(msgs))
        finally:
            db.conn.close()

    threads = [threading.Thread(target=read) for _ in range(readers)]
    writer = threading.Thread(target=write)
    t0 = time.perf_counter()
    writer.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    done.set()
    writer.join()
    return {"concurrent_wall_s": wall, "ingested_meanwhile": stored, "ingest_per_s_meanwhile": stored / wall}


def _db_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def broker_queue(folder: Path, msgs: list[OutMessage]) -> dict[str, float] | None:
    """Publish msgs to a Mosquitto holding a disconnected persistent session; its RSS and persistence file."""
    if not shutil.which("mosquitto"):
        return None
    import paho.mqtt.client as mqtt

    from mqtt_broker import wait_port
    from support import free_port

    port = free_port()
    conf = folder / "m.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
                    f"persistence_location {folder}/\nmax_queued_messages 0\nautosave_interval 0\nuser {getpass.getuser()}\n")
    proc = subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
        rss0 = _rss_kib(proc.pid)
        hub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="hub", clean_session=False)
        hub.connect("127.0.0.1", port)
        hub.loop_start()
        hub.subscribe("onestop/+/#", qos=1)
        time.sleep(0.5)
        hub.disconnect()
        hub.loop_stop()
        pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="site", clean_session=True)
        pub.max_inflight_messages_set(200)
        pub.connect("127.0.0.1", port)
        pub.loop_start()
        infos = [pub.publish(m.topic, m.payload, qos=1) for m in msgs]
        for info in infos:
            info.wait_for_publish(30)
        pub.disconnect()
        pub.loop_stop()
        time.sleep(0.5)
        rss1 = _rss_kib(proc.pid)
        size = _save(proc, folder / "mosquitto.db")
        drain_s = _drain(folder, port, len(msgs))
    finally:
        proc.terminate()
        proc.wait(20)
    payload = sum(len(m.topic) + len(m.payload.encode()) for m in msgs)
    return {"queued": len(msgs), "payload_bytes": payload, "rss_growth_bytes": (rss1 - rss0) * 1024,
            "persist_bytes": size, "hub_drain_s": drain_s, "hub_drain_per_s": len(msgs) / drain_s}


def _save(proc: subprocess.Popen[bytes], path: Path) -> int:
    """Have Mosquitto write its persistence file now (SIGUSR1); its size once it stops growing."""
    proc.send_signal(signal.SIGUSR1)
    last = -1
    for _ in range(100):
        time.sleep(0.2)
        size = path.stat().st_size if path.exists() else -1
        if size > 0 and size == last:
            return size
        last = size
    raise RuntimeError(f"mosquitto did not write {path}")


def _drain(folder: Path, port: int, expected: int) -> float:
    """Start the real HubService on the queued backlog; seconds until all of it is stored."""
    from monitor.hub.service import HubBroker, HubService

    hub = HubService(HubBroker(port=port, client_id="hub"), folder / "drain.db")
    t0 = time.perf_counter()
    hub.start()
    try:
        while hub.counts.stored + hub.counts.duplicate < expected:
            if time.perf_counter() - t0 > 600:
                raise RuntimeError(f"hub stored {hub.counts.stored} of {expected} in 600 s")
            time.sleep(0.1)
        return time.perf_counter() - t0
    finally:
        hub.stop()


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=20)
    ap.add_argument("--cameras", type=int, default=5)
    ap.add_argument("--queue-days", type=int, default=2, help="site-days queued at the broker")
    ap.add_argument("--no-broker", action="store_true")
    ap.add_argument("--read-sites", type=int, default=200, help="sites in the dashboard read test")
    ap.add_argument("--readers", type=int, default=4, help="dashboard requests at once in the read test")
    ap.add_argument("--read-days", type=int, default=30, help="days of final report rows in the dashboard read test")
    args = ap.parse_args()
    day = site_day("xa-000", args.cameras, seed=0)
    sizes = message_sizes(day)
    total = sum(k["bytes"] for k in sizes.values())
    result: dict[str, object] = {"site_day": {"messages": len(day), "bytes": total, "kinds": sizes}}
    with tempfile.TemporaryDirectory() as tmp:
        result["hub_day"] = hub_growth(Path(tmp), args.sites, args.cameras)
        result["dashboard"] = dashboard_read(Path(tmp), args.read_sites, args.cameras, args.read_days, args.readers)
    if not args.no_broker:
        with tempfile.TemporaryDirectory() as tmp:
            msgs = [m for d in range(args.queue_days) for m in site_day(f"xa-{d:03d}", args.cameras, seed=d)]
            result["broker"] = broker_queue(Path(tmp), msgs)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
