"""The varied simulator's output: scene.mp4, truth.json in the development scenes' format, cameras.yaml (body zones) and cameras-floor.yaml."""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from monitor.simulate.hall import Hall, HallSpec, draw_spec, person_heights
from monitor.simulate.hallrender import HallRenderer
from monitor.simulate.model import point_in_polygon
from monitor.simulate.output import Encoder, EncodeSpec
from monitor.simulate.story import Story

log = logging.getLogger(__name__)

VERSION = 4  # bump when the same seed draws a different scene: cached renders are redone
BITRATE_PER_PIXEL = 1.2  # bits per pixel per second: ~1.1 Mbit/s at 1280x720, camera-like sub-stream rates
DEFINITIONS = {
    "frame_time": "frame n shows time n/fps seconds; per_second[t] describes frame t*fps",
    "counts": "people whose feet (standing/walking) or seat (sitting) lie in the zone's floor area (floor_points); "
              "points = image region covered by the body of a person occupying the zone",
    "queue": "citizens present who have arrived and have not been called yet",
    "arrival_s": "citizen steps in through the entrance door",
    "called_s": "display shows the citizen's ticket and counter",
    "service_start_s": "citizen has sat down on the counter's citizen chair (null if not before the end)",
    "service_end_s": "citizen starts to stand up after service (null if not before the end)",
    "wait_s": "service_start_s - arrival_s (null when the service does not start before the end)",
    "staff_absences": "start_s: staff stands up and walks away; end_s: staff is back on the chair (null if not back before the end)",
    "summary": "served / mean service over services that started and ended within the video; waits over citizens whose service started within the video",
}


@dataclass(frozen=True)
class VariedConfig:
    """One varied scene: the seed draws the hall, camera and story; size overrides the drawn detect-stream size."""

    minutes: float = 5.0
    seed: int = 1
    fps: int = 10
    size: tuple[int, int] | None = None
    preset: str = "veryfast"

    @property
    def duration_s(self) -> float:
        return self.minutes * 60.0


@dataclass(frozen=True)
class VariedResult:
    out_dir: Path
    spec: HallSpec
    frames: int
    elapsed_s: float = field(default=0.0, compare=False)

    def __str__(self) -> str:
        return f"{self.out_dir}: {self.frames} frames, {self.spec.describe()} ({self.elapsed_s:.1f} s)"


def build_story(cfg: VariedConfig) -> tuple[Hall, Story]:
    """The hall and its plan for a config (deterministic in the seed)."""
    hall = Hall.of(draw_spec(cfg.seed, cfg.size))
    return hall, Story(hall, cfg.duration_s, np.random.default_rng([cfg.seed, 11]))


def truth_document(hall: Hall, story: Story, cfg: VariedConfig) -> dict:
    """Ground truth computed from the plan only."""
    cam, spec = hall.spec.camera, hall.spec
    zones = hall.zones()
    n = int(math.ceil(cfg.duration_s))
    per_second = []
    for t in range(n):
        counts = dict.fromkeys((z["id"] for z in zones), 0)
        for _, pose in story.poses(float(t)):
            uv = cam.normalised(np.array([[pose.x, pose.y, 0.0]]))[0]
            if not np.isfinite(uv).all():
                continue
            for z in zones:
                if point_in_polygon((float(uv[0]), float(uv[1])), z["floor_points"]):
                    counts[z["id"]] += 1
        queue = sum(1 for c in story.citizens if c.arrival_s <= t and (c.called_s is None or c.called_s > t)
                    and (c.exit_s is None or c.exit_s > t))
        per_second.append({"t": t, "counts": counts, "queue": queue})
    citizens = [_citizen(c, cfg.duration_s) for c in story.citizens
                if c.arrival_s < cfg.duration_s and (c.exit_s is None or c.exit_s >= 0)]
    absences = [{**a, "end_s": a["end_s"] if a["end_s"] < cfg.duration_s else None}
                for a in story.absences if a["start_s"] < cfg.duration_s]
    return {
        "generator": "monitor.simulate.varied", "version": VERSION, "seed": cfg.seed, "fps": cfg.fps, "width": cam.size[0], "height": cam.size[1],
        "duration_s": cfg.duration_s, "frame_count": round(cfg.duration_s * cfg.fps), "counters": spec.counters,
        "camera": {"height_m": round(cam.height_m, 3), "pitch_deg": round(cam.pitch_deg, 3), "vfov_deg": round(cam.vfov_deg, 3)},
        "scene": {"description": spec.describe(), "start": spec.start, "ir": spec.ir, "glass": spec.glass, "monitors": spec.monitors,
                  "standing_queue": spec.standing_queue, "passers_per_min": round(spec.passers_per_min, 3)},
        "zones": zones, "per_second": per_second, "citizens": citizens, "staff_absences": absences,
        "calls": [{"t_s": round(t, 2), "ticket": k, "counter": c} for t, k, c in story.calls if t < cfg.duration_s],
        "definitions": DEFINITIONS, "summary": _summary(per_second, citizens, absences, spec.counters, cfg.duration_s),
    }


def _r(v: float | None) -> float | None:
    return None if v is None or not math.isfinite(v) else round(v, 2)


def _citizen(c, duration: float) -> dict:  # noqa: ANN001 - story.Citizen
    inside = lambda v: v if v is not None and v < duration else None  # noqa: E731
    start, end = inside(c.service_start_s), inside(c.service_end_s)
    return {"id": c.actor.id, "arrival_s": _r(c.arrival_s), "called_s": _r(inside(c.called_s)),
            "service_start_s": _r(start), "service_end_s": _r(end if start is not None else None),
            "counter": c.counter if start is not None else None,
            "wait_s": _r(start - c.arrival_s) if start is not None else None, "ticket": c.ticket,
            "exit_s": _r(inside(c.exit_s)), "seated_while_waiting": c.seated}


def _summary(per_second: list[dict], citizens: list[dict], absences: list[dict], k: int, duration: float) -> dict:
    waiting = [row["counts"]["waiting"] for row in per_second]
    done = [c for c in citizens if c["service_start_s"] is not None and c["service_start_s"] >= 0 and c["service_end_s"] is not None]
    waits = [c["wait_s"] for c in citizens if c["service_start_s"] is not None and c["service_start_s"] >= 0]
    away = {str(i): round(sum(min(a["end_s"] if a["end_s"] is not None else duration, duration) - max(a["start_s"], 0)
                              for a in absences if a["counter"] == i), 2) for i in range(1, k + 1)}
    return {
        "arrivals": sum(1 for c in citizens if c["arrival_s"] >= 0),
        "served_per_counter": {str(i): sum(1 for c in done if c["counter"] == i) for i in range(1, k + 1)},
        "mean_service_s_per_counter": {str(i): round(float(np.mean([c["service_end_s"] - c["service_start_s"] for c in done if c["counter"] == i])), 2)
                                       if any(c["counter"] == i for c in done) else None for i in range(1, k + 1)},
        "mean_wait_s": round(float(np.mean(waits)), 2) if waits else None,
        "max_wait_s": round(float(max(waits)), 2) if waits else None,
        "waiting_area_mean_count": round(float(np.mean(waiting)), 3) if waiting else 0.0,
        "waiting_area_max_count": max(waiting, default=0),
        "staff_absent_s_per_counter": away,
    }


def cameras_yaml(hall: Hall, name: str, floor: bool) -> dict:
    """One camera playing scene.mp4 with the scene's zones (body areas, or floor footprints when floor)."""
    zones = []
    for z in hall.zones():
        zone = {"id": z["id"], "kind": z["kind"], "points": z["floor_points"] if floor else z["points"]}
        if z["kind"] == "waiting_area":
            zone["person_height"] = person_heights(hall.spec.camera, z["floor_points"])
        zones.append(zone)
    return {
        "site": {"name": f"Simulated hall {name}", "timezone": "Asia/Ho_Chi_Minh", "language": "en"},
        "storage": {"recordings": "recordings", "database": "onestop.db"},
        "cameras": [{"id": name, "name": name, "streams": {"main": "scene.mp4"}, "zones": zones}],
    }


def simulate_hall(out_dir: Path, cfg: VariedConfig, name: str = "hall") -> VariedResult:
    """Render one varied scene into out_dir: scene.mp4 (H.264), truth.json, cameras.yaml, cameras-floor.yaml."""
    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    hall, story = build_story(cfg)
    renderer = HallRenderer(hall, story, cfg.seed)
    size = hall.spec.camera.size
    enc = Encoder(out_dir / "scene.mp4", size, EncodeSpec(cfg.fps, 2.0, cfg.preset), int(BITRATE_PER_PIXEL * size[0] * size[1]))
    frames = round(cfg.duration_s * cfg.fps)
    try:
        for i in range(frames):
            enc.write(renderer.render(i / cfg.fps))
    finally:
        enc.close()
    truth = truth_document(hall, story, cfg)
    (out_dir / "truth.json").write_text(json.dumps(truth, indent=1), encoding="utf-8")
    for fname, floor in (("cameras.yaml", False), ("cameras-floor.yaml", True)):
        (out_dir / fname).write_text(yaml.safe_dump(cameras_yaml(hall, name, floor), sort_keys=False), encoding="utf-8")
    result = VariedResult(out_dir, hall.spec, frames, time.perf_counter() - started)
    log.info("simulate: %s", result)
    return result
