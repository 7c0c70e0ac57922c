"""The complaint-case site of the case tests: two cameras (quay-1 with a privacy mask), a named counter,
real H.264 clips for three events, and the three accounts (build once per module, copy per test)."""

from __future__ import annotations

import textwrap
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from media import MotionWindow, VideoSpec, make_video
from monitor.db.store import Writer, open_db
from monitor.site.config import load_config
from webtest import add_accounts

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = date(2026, 11, 24)
MASK = "[[0.0, 0.0], [0.5, 0.0], [0.5, 0.5], [0.0, 0.5]]"  # the top-left quarter of quay-1
TRI = "[[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]"
CLIP_S = 2


def at(h: int, m: int = 0, s: int = 0) -> float:
    """Unix time of a local time on DAY."""
    return datetime.combine(DAY, time(h, m, s), tzinfo=TZ).timestamp()


NOW = at(17)
# (event id, camera, start, clip?): two clips on quay-1 at 09:00 and 09:10, one on quay-2, one without a clip
EVENTS = [("q1-0900", "quay-1", at(9), True), ("q1-0910", "quay-1", at(9, 10), True),
          ("q2-0905", "quay-2", at(9, 5), True), ("q1-0920", "quay-1", at(9, 20), False),
          ("q1-1400", "quay-1", at(14), True)]


def write_config(folder: Path) -> None:
    (folder / "cameras.yaml").write_text(textwrap.dedent(f"""\
        site:
          name: "Bộ phận một cửa phường thử"
          opening_hours: {{days: [mon, tue, wed, thu, fri], periods: ["07:30-11:30", "13:30-17:00"]}}
        storage: {{recordings: rec, database: t.db}}
        privacy: {{contact: "Văn phòng UBND phường, 028 3822 0000"}}
        cameras:
          - id: quay-1
            name: "Quầy 1"
            streams: {{main: a.mp4}}
            privacy_masks: [{MASK}]
            zones:
              - {{id: ghe, kind: staff_seat, points: {TRI}}}
              - {{id: cho, kind: service_spot, points: {TRI}}}
          - id: quay-2
            name: "Quầy 2"
            streams: {{main: b.mp4}}
            zones:
              - {{id: hang, kind: waiting_area, points: {TRI}}}
        counters:
          - {{id: quay-1, name: "Quầy 1 - Tư pháp", staff_seat: {{camera: quay-1, zone: ghe}},
              service_spot: {{camera: quay-1, zone: cho}}}}
        queues:
          - {{id: hang-chung, name: "Hàng chờ", waiting_areas: [{{camera: quay-2, zone: hang}}], feeds: [quay-1]}}
        """), encoding="utf-8")


def build_site(folder: Path) -> None:
    """The config, the events with their real clips under rec/, and the accounts."""
    write_config(folder)
    config = load_config(folder / "cameras.yaml")
    db = open_db(config.storage.database)
    w = Writer(db, clock=lambda: NOW)
    w.register_cameras([("quay-1", "Quầy 1", True), ("quay-2", "Quầy 2", True)])
    for i, (eid, cam, start, clip) in enumerate(EVENTS):
        msgs = [{"type": "event_start", "camera": cam, "id": eid, "start": start, "clip": clip, "t": start},
                {"type": "event_end", "camera": cam, "id": eid, "end": start + CLIP_S, "peak": 0.2, "t": start + CLIP_S}]
        if clip:
            rel = f"{cam}/2026-11-24/{eid}.mp4"
            make_video(folder / "rec" / rel, VideoSpec(CLIP_S, 320, 240, motion=(MotionWindow(0.5, 1.5),)), seed=i + 3)
            msgs.append({"type": "clip", "camera": cam, "id": eid, "path": rel, "state": "complete", "duration": CLIP_S,
                         "t": start + CLIP_S})
        w.apply(msgs)
    add_accounts(db)
    db.conn.close()
