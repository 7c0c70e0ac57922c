"""The ticket office site shared by test_tickets (unit) and test_tickets_api (web): one counter camera, a
hall camera with the waiting area, one named counter and its queue; the day and times its tests use."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = date(2026, 11, 24)  # a Tuesday
TRI = "[[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]"
TRI2 = "[[0.5, 0.5], [0.9, 0.5], [0.9, 0.9]]"


def at(hh: int, mm: int = 0, ss: int = 0) -> float:
    return datetime.combine(DAY, time(hh, mm, ss), tzinfo=TZ).timestamp()


NOW = at(17)
START = int(at(8))

CONFIG = f"""\
site: {{name: "UBND xã Tân Phú"}}
storage: {{database: t.db, recordings: rec}}
cameras:
  - id: quay
    name: Camera quầy
    streams: {{main: a.mp4}}
    zones:
      - {{id: ghe, kind: staff_seat, points: {TRI}}}
      - {{id: ngoi, kind: service_spot, points: {TRI2}}}
  - id: sanh
    name: Camera sảnh
    streams: {{main: b.mp4}}
    zones:
      - {{id: cho, kind: waiting_area, points: {TRI}}}
counters:
  - id: quay-1
    name: "Quầy 1 – Tư pháp"
    field: tu-phap
    staff_seat: {{camera: quay, zone: ghe}}
    service_spot: {{camera: quay, zone: ngoi}}
queues:
  - id: sanh-cho
    name: "Sảnh chờ"
    waiting_areas: [{{camera: sanh, zone: cho}}]
    feeds: [tu-phap]
tickets:
  feeds:
    - {{id: kiosk, clock_skew_s: 60}}
"""
