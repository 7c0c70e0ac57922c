"""The simulated office's files: one video per camera, cameras.yaml with named counters and queues, truth.json, tickets.csv.

`onestop simulate --variant office` writes:
- sanh.mp4, quay-a.mp4, quay-b.mp4: the hall camera and the two counter cameras (H.264, 640x360);
- cameras.yaml: the three cameras with floor-footprint zones, `fields:`, `counters:` (Quầy 1..5 in
  two fields), `queues:` (one per field, its waiting area on the hall camera) and a kiosk ticket feed;
- truth.json: per counter its services and staff absences, per queue its people per second and its
  citizens' waits, every citizen with ticket, field, counter and times (seconds from the video's start);
- tickets.csv: the kiosk export of the same citizens, dated from --start (see tickets_csv).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import yaml

from monitor.simulate.hall import Hall
from monitor.simulate.hallrender import HallRenderer
from monitor.simulate.officeplan import (
    CAMERAS,
    COUNTERS,
    FIELDS,
    HALL_CAMERA,
    OfficeStory,
    build_office,
    camera_zones,
    inside,
    seconds,
    view_of,
    waiting_rect,
)
from monitor.simulate.output import Encoder, EncodeSpec, render_cameras
from monitor.simulate.tickets import KIOSK_COLUMNS

__all__ = ["OfficeSimConfig", "OfficeSimResult", "office_truth", "office_yaml", "simulate_office3", "tickets_csv"]

log = logging.getLogger(__name__)

VERSION = 1
BITRATE = 700_000  # a 640x360 sub-stream's rate
FEED = "kiosk"
# The demo imports tickets dated from the moment it starts playing the loop, up to an hour ahead:
# the feed accepts times that far in the future (a real kiosk's clock is within clock_skew_s' default).
DEMO_SKEW_S = 3600


@dataclass(frozen=True)
class OfficeSimConfig:
    """What to render: minutes of video, the seed of the story, frames per second, processes."""

    minutes: float = 3.0
    seed: int = 1
    fps: int = 10
    workers: int = 2
    preset: str = "veryfast"

    @property
    def duration_s(self) -> float:
        return self.minutes * 60.0


@dataclass(frozen=True)
class OfficeSimResult:
    out_dir: Path
    videos: dict[str, Path]
    frames: int
    served: dict[str, int]
    elapsed_s: float = field(default=0.0, compare=False)

    def __str__(self) -> str:
        served = ", ".join(f"{k} {v}" for k, v in self.served.items())
        return (f"{len(self.videos)} cameras x {self.frames} frames, served per counter: {served} "
                f"in {self.out_dir} ({self.elapsed_s:.1f} s)")


def _render(cfg: OfficeSimConfig, camera_id: str, out_dir: Path) -> tuple[str, int, float]:
    """Render and encode one camera (rebuilds the deterministic story so it can run in a child process)."""
    started = time.perf_counter()
    hall, story = build_office(cfg.seed, cfg.duration_s)
    view = view_of(hall, camera_id)
    renderer = HallRenderer(view, story, cfg.seed * 31 + [c.id for c in CAMERAS].index(camera_id))
    enc = Encoder(out_dir / f"{camera_id}.mp4", view.spec.camera.size, EncodeSpec(cfg.fps, 2.0, cfg.preset), BITRATE)
    n = round(cfg.duration_s * cfg.fps)
    try:
        for i in range(n):
            enc.write(renderer.render(i / cfg.fps))
    finally:
        enc.close()
    return camera_id, n, time.perf_counter() - started


def simulate_office3(out_dir: Path, cfg: OfficeSimConfig, start: datetime | None = None) -> OfficeSimResult:
    """Render the three cameras and write cameras.yaml, truth.json and tickets.csv (dated from start, default today 08:00)."""
    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ids = [c.id for c in CAMERAS]
    done = render_cameras(_render, cfg, ids, out_dir, cfg.workers)
    hall, story = build_office(cfg.seed, cfg.duration_s)
    text = yaml.safe_dump(office_yaml(hall), allow_unicode=True, sort_keys=False, width=140)
    (out_dir / "cameras.yaml").write_text(text, encoding="utf-8")
    truth = office_truth(hall, story, cfg)
    (out_dir / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8")
    begin = start or datetime.now().replace(hour=8, minute=0, second=0, microsecond=0)
    (out_dir / "tickets.csv").write_text(tickets_csv(truth, begin), encoding="utf-8")
    served = {cid: len(c["sessions"]) for cid, c in truth["counters"].items()}
    return OfficeSimResult(out_dir, {c: out_dir / f"{c}.mp4" for c in ids}, done[0][1], served,
                           time.perf_counter() - started)


def office_yaml(hall: Hall) -> dict:
    """cameras.yaml of the simulated office: cameras with floor zones, fields, named counters, queues, the ticket feed."""
    cameras = [{"id": c.id, "name": c.name, "streams": {"main": f"{c.id}.mp4", "loop": True}, "zones": camera_zones(hall, c.id)}
               for c in CAMERAS]
    counters = [{"id": c.id, "name": c.name, "field": c.field,
                 "staff_seat": {"camera": c.camera, "zone": f"{c.id}-staff"},
                 "service_spot": {"camera": c.camera, "zone": f"{c.id}-citizen"}} for c in COUNTERS]
    queues = [{"id": f.id, "name": f"Chờ {f.name}", "waiting_areas": [{"camera": HALL_CAMERA, "zone": f"cho-{f.id}"}],
               "feeds": [f.id]} for f in FIELDS]
    return {
        # open every day around the clock: the looping demo shows absences and utilisation whenever it runs
        "site": {"name": "Bộ phận một cửa UBND xã (mô phỏng)", "timezone": "Asia/Ho_Chi_Minh", "language": "vi",
                 "opening_hours": {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "periods": ["00:00-23:59"]}},
        "storage": {"recordings": "recordings", "database": "onestop.db"},
        "defaults": {"detect_fps": 5, "pre_roll_s": 5, "post_roll_s": 10, "max_clip_s": 300},
        "cameras": cameras,
        "fields": [{"id": f.id, "name": f.name, "name_en": f.name_en} for f in FIELDS],
        "counters": counters,
        "queues": queues,
        "tickets": {"feeds": [{"id": FEED, "clock_skew_s": DEMO_SKEW_S}]},
    }


def _r(v: float | None) -> float | None:
    return None if v is None or not math.isfinite(v) else round(float(v), 2)


def office_truth(hall: Hall, story: OfficeStory, cfg: OfficeSimConfig) -> dict:
    """Ground truth from the plan only: services and absences per counter, people and waits per queue, the citizens."""
    dur = cfg.duration_s
    within = lambda v: v if v is not None and v < dur else None  # noqa: E731
    citizens = []
    for c in sorted(story.citizens, key=lambda c: c.arrival_s):
        if c.arrival_s >= dur or (c.exit_s is not None and c.exit_s < 0):
            continue
        start = within(c.service_start_s)
        citizens.append({
            "ticket": c.ticket, "field": story.field_of[c.actor.id], "arrival_s": _r(c.arrival_s),
            "called_s": _r(within(c.called_s)), "counter": COUNTERS[c.counter - 1].id if start is not None else None,
            "service_start_s": _r(start), "service_end_s": _r(within(c.service_end_s) if start is not None else None),
            "wait_s": _r(start - c.arrival_s) if start is not None else None,
        })
    counters = {}
    for oc in COUNTERS:
        mine = [c for c in citizens if c["counter"] == oc.id]
        counters[oc.id] = {
            "name": oc.name, "field": oc.field, "camera": oc.camera,
            "sessions": [{"ticket": c["ticket"], "start_s": c["service_start_s"], "end_s": c["service_end_s"]} for c in mine],
            "absences": [{"start_s": a["start_s"], "end_s": a["end_s"] if a["end_s"] < dur else None}
                         for a in story.absences if a["counter"] == oc.index + 1 and a["start_s"] < dur],
        }
    return {"generator": "monitor.simulate.officesim", "version": VERSION, "seed": cfg.seed, "fps": cfg.fps,
            "duration_s": dur, "counters": counters, "queues": _queue_truth(hall, story, citizens, dur), "citizens": citizens}


def _queue_truth(hall: Hall, story: OfficeStory, citizens: list[dict], dur: float) -> dict:
    rects = {f.id: waiting_rect(hall, f.id) for f in FIELDS}
    per_second: dict[str, list[int]] = {f.id: [] for f in FIELDS}
    for t in seconds(dur):
        poses = story.poses(float(t))
        for fid, rect in rects.items():
            per_second[fid].append(sum(1 for _, p in poses if inside(rect, p.x, p.y)))
    out = {}
    for f in FIELDS:
        waits = [c["wait_s"] for c in citizens if c["field"] == f.id and c["wait_s"] is not None and c["service_start_s"] >= 0]
        counts = per_second[f.id]
        out[f.id] = {"area": {"camera": HALL_CAMERA, "zone": f"cho-{f.id}"}, "per_second": counts,
                     "mean_count": round(float(np.mean(counts)), 3) if counts else 0.0,
                     "waits_s": waits, "mean_wait_s": round(float(np.mean(waits)), 2) if waits else None}
    return out


def tickets_csv(truth: dict, start: datetime, loops: int = 1, first: int = 1) -> str:
    """The kiosk export of the truth's citizens (video second 0 at start, site-local), repeated `loops` times back to back.

    Numbers run from `first` in issue order with the field's letter (A001, B002, ...); a looping demo
    that imports again later the same day passes another `first` so its tickets are new ones. A
    citizen still waiting when the video ends is written for the last loop only: when the video
    starts again the hall shows the citizens of its first second, and their tickets are the next loop's.
    """
    buf = io.StringIO(newline="")
    out = csv.DictWriter(buf, KIOSK_COLUMNS, lineterminator="\n")
    out.writeheader()
    n = first - 1
    for loop in range(loops):
        base = start + timedelta(seconds=loop * truth["duration_s"])
        for c in truth["citizens"]:  # those already waiting when the video starts took theirs before it
            if c["called_s"] is None and loop < loops - 1:
                continue
            n += 1
            clock = lambda v: "" if v is None else (base + timedelta(seconds=v)).strftime("%H:%M:%S")  # noqa: E731
            served = c["service_start_s"] is not None
            out.writerow({"date": (base + timedelta(seconds=c["arrival_s"])).date().isoformat(),
                          "ticket": f"{c['ticket'][0]}{n:03d}", "field": c["field"], "issued": clock(c["arrival_s"]),
                          "called": clock(c["called_s"]), "counter": c["counter"] or "",
                          "service_start": clock(c["service_start_s"]), "service_end": clock(c["service_end_s"]),
                          "status": "served" if c["service_end_s"] is not None else ("serving" if served else "waiting")})
    return buf.getvalue()
