"""The office of the office-model tests (test_office, test_fuzz_office): two cameras, two named counters
across them and a queue summed over three waiting areas, as cameras.yaml text."""

from __future__ import annotations

SQ = "[[0.1, 0.1], [0.3, 0.1], [0.3, 0.3], [0.1, 0.3]]"
SQ2 = "[[0.5, 0.1], [0.7, 0.1], [0.7, 0.3], [0.5, 0.3]]"
SQ3 = "[[0.1, 0.5], [0.3, 0.5], [0.3, 0.7], [0.1, 0.7]]"
SQ4 = "[[0.5, 0.5], [0.7, 0.5], [0.7, 0.7], [0.5, 0.7]]"
HALF = "[[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]]"
OTHER_HALF = "[[0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 1.0]]"  # shares an edge with HALF only
CENTRE = "[[0.4, 0.4], [0.6, 0.4], [0.6, 0.6], [0.4, 0.6]]"

CAMERAS = f"""\
site: {{name: Office}}
cameras:
  - id: quay-a
    name: "Camera A"
    streams: {{main: a.mp4}}
    zones:
      - {{id: seat-1, kind: staff_seat, points: {SQ}}}
      - {{id: spot-1, kind: service_spot, points: {SQ2}}}
      - {{id: seat-2, kind: staff_seat, points: {SQ3}}}
      - {{id: spot-2, kind: service_spot, points: {SQ4}}}
      - {{id: cho, kind: waiting_area, points: {CENTRE}}}
  - id: hall
    name: "Sảnh"
    streams: {{main: h.mp4}}
    zones:
      - {{id: left, kind: waiting_area, points: {HALF}}}
      - {{id: right, kind: waiting_area, points: {OTHER_HALF}}}
      - {{id: middle, kind: waiting_area, points: {CENTRE}}}
      - {{id: ghe, kind: staff_seat, points: {SQ}}}
"""

GOOD = CAMERAS + """\
counters:
  - id: quay-1
    name: "Quầy 1 – Tư pháp"
    field: tu-phap
    staff_seat: {camera: quay-a, zone: seat-1}
    service_spot: {camera: quay-a, zone: spot-1}
  - id: quay-2
    name: "Quầy 2 – Địa chính"
    field: dia-chinh
    staff_seat: {camera: hall, zone: ghe}
    service_spot: {camera: quay-a, zone: spot-2}
queues:
  - id: sanh
    name: "Sảnh chờ"
    waiting_areas:
      - {camera: hall, zone: left}
      - {camera: hall, zone: right}
      - {camera: quay-a, zone: cho}
    feeds: [quay-1, dia-chinh]
"""
