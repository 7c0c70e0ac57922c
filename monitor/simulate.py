"""A synthetic one-stop office: a scene model with ground truth, a renderer and an H.264 writer.

The MODEL (`Layout`, `CounterModel`, `OfficeModel`) decides where every actor is as a pure function of
time and is the only source of ground truth. The RENDERER (`CameraRenderer`) turns model states into
pixels; `simulate_office` encodes the frames and writes cameras.yaml and truth.json.
"""

from __future__ import annotations

import bisect
import json
import logging
import math
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from fractions import Fraction
from multiprocessing import get_context
from pathlib import Path

import av
import cv2
import numpy as np
import yaml

log = logging.getLogger(__name__)

Pt = tuple[float, float]
Rect = tuple[float, float, float, float]  # x0, y0, x1, y1 (normalised)

PERSON_M = 1.65  # mean standing height: converts image heights to metres
DEPTH_STRETCH = 2.5  # the floor seen from above: a vertical image step covers ~2.5x more ground
SEAT_FRAC = 0.27  # seat height as a fraction of standing height (waiting chairs)
OFFICE_SEAT_FRAC = 0.30  # the officer's chair is raised to the desk
TORSO_FRAC, HEAD_UP, HEAD_R = 0.33, 0.095, 0.066  # seated body: hips -> shoulders -> head centre, head radius
DESK_FRAC = 0.42  # desk top height (0.70 m) as a fraction of standing height
STRIDE_M = 1.4  # ground covered by one full leg cycle


@dataclass(frozen=True)
class SimConfig:
    """What to simulate and how to encode it."""

    minutes: float = 5
    seed: int = 1
    fps: int = 10
    main_size: tuple[int, int] = (1280, 720)
    sub_size: tuple[int, int] = (640, 360)
    gop_s: float = 2.0
    main_bitrate: int = 2_000_000
    sub_bitrate: int = 400_000
    preset: str = "ultrafast"  # same PSNR as veryfast on this noise-limited scene, 2x faster
    workers: int = 2  # camera render processes (1 = render in this process)
    cameras: tuple[str, ...] = ("quay-1", "quay-2")
    warmup_s: float = 150.0  # the story starts before the video, so it opens mid-morning
    mean_arrival_s: float = 75.0  # per counter (Poisson)
    wait_min_s: tuple[float, float] = (20.0, 60.0)  # seated at least this long before being called
    call_gap_s: tuple[float, float] = (4.0, 12.0)  # officer wraps up before calling the next number
    service_s: tuple[float, float, float] = (60.0, 80.0, 240.0)  # triangular: min, mode, max
    mean_absence_gap_s: float = 360.0  # the officer leaves about every 6 minutes of work
    absence_s: tuple[float, float] = (60.0, 180.0)
    noise_sigma: float = 2.0
    drift_levels: float = 4.0  # slow lighting sway (amplitude, grey levels)
    mean_light_step_s: float = 180.0
    light_step: tuple[float, float] = (15.0, 25.0)

    @property
    def duration_s(self) -> float:
        return self.minutes * 60.0


# ----------------------------------------------------------------------------- geometry


@dataclass(frozen=True)
class Layout:
    """One counter as its camera sees it, in normalised image coordinates (x right, y down)."""

    aspect: float = 16 / 9
    horizon: float = 0.41  # where the floor meets the back wall
    far_h: float = 0.24  # standing height (fraction of frame height) with feet at the horizon
    near_h: float = 0.54  # ... with feet at the bottom edge
    door: Rect = (0.78, 0.10, 0.90, 0.41)
    display: Rect = (0.37, 0.06, 0.51, 0.15)
    desk: tuple[float, float, float, float] = (0.30, 0.535, 0.62, 0.615)  # x0, back floor y, x1, front floor y
    staff_seat: Pt = (0.42, 0.51)
    citizen_seat: Pt = (0.535, 0.685)
    waiting_seats: tuple[Pt, ...] = ((0.06, 0.90), (0.145, 0.90), (0.23, 0.90), (0.315, 0.90), (0.40, 0.90))
    aisle: tuple[Pt, ...] = ((0.70, 0.62), (0.64, 0.84))  # door -> waiting row
    walk_y: float = 0.84  # the lane in front of the waiting chairs
    staff_path: tuple[Pt, ...] = ((0.67, 0.505), (0.75, 0.47))
    plant: Pt = (0.93, 0.97)
    flipped: bool = False  # door on the left, waiting chairs on the right

    @property
    def side(self) -> float:
        """+1 when the waiting chairs are on the left of the image, -1 when flipped."""
        return -1.0 if self.flipped else 1.0

    def height(self, y: float) -> float:
        """Standing height (fraction of frame height) of a person whose feet are at image row y."""
        return self.far_h + (y - self.horizon) / (1 - self.horizon) * (self.near_h - self.far_h)

    def width(self, frac_of_height: float, y: float) -> float:
        """A horizontal extent given in person heights, in normalised x at row y."""
        return frac_of_height * self.height(y) / self.aspect

    def door_point(self) -> Pt:
        return ((self.door[0] + self.door[2]) / 2, self.door[3] + 0.015)

    def ground_m(self, a: Pt, b: Pt) -> float:
        """Approximate floor distance in metres between two foot points."""
        dx, dy = (b[0] - a[0]) * self.aspect, (b[1] - a[1]) * DEPTH_STRETCH
        return math.hypot(dx, dy) / self.height((a[1] + b[1]) / 2) * PERSON_M

    def desk_top_y(self, floor_y: float) -> float:
        return floor_y - DESK_FRAC * self.height(floor_y)

    def mirrored(self) -> Layout:
        """The same counter seen from the other side (door on the left)."""

        def p(q: Pt) -> Pt:
            return (1 - q[0], q[1])

        def r(q: Rect) -> Rect:
            return (1 - q[2], q[1], 1 - q[0], q[3])

        return replace(
            self, door=r(self.door), display=r(self.display), desk=r(self.desk),
            staff_seat=p(self.staff_seat), citizen_seat=p(self.citizen_seat),
            waiting_seats=tuple(p(s) for s in self.waiting_seats), aisle=tuple(p(s) for s in self.aisle),
            staff_path=tuple(p(s) for s in self.staff_path), plant=p(self.plant), flipped=not self.flipped,
        )

    # The zones below are derived from the same numbers the renderer draws with.
    def seated_box(self, seat: Pt, half_w: float = 0.2, seat_frac: float = SEAT_FRAC) -> Rect:
        """Image box of a person sitting on the chair at seat, with a small margin."""
        h = self.height(seat[1]) * 1.07  # the tallest look
        top = seat[1] - h * (seat_frac + TORSO_FRAC + HEAD_UP + HEAD_R)
        return (seat[0] - self.width(half_w, seat[1]), top - 0.015, seat[0] + self.width(half_w, seat[1]), seat[1] - h * 0.12)

    def zones(self) -> dict[str, dict]:
        """Zone id -> {kind, points[, person_height]} in normalised coordinates."""
        sx0, sy0, sx1, _ = self.seated_box(self.staff_seat, 0.24, OFFICE_SEAT_FRAC)
        staff = _rect_pts((sx0, sy0, sx1, self.desk_top_y(self.desk[1])))
        service = _rect_pts(self.seated_box(self.citizen_seat, 0.22))
        boxes = [self.seated_box(s, 0.2) for s in self.waiting_seats]
        wy1 = min(0.995, max(s[1] for s in self.waiting_seats) + 0.05)
        wait = (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), wy1)
        wait = (max(wait[0], 0.005), wait[1], min(wait[2], 0.995), wait[3])
        d = self.door
        door = _rect_pts((d[0] - 0.01, d[1] - 0.01, d[2] + 0.01, d[3] + 0.05))
        return {
            "staff-seat": {"kind": "staff_seat", "points": staff},
            "service-spot": {"kind": "service_spot", "points": service},
            "waiting": {
                "kind": "waiting_area", "points": _rect_pts(wait),
                "person_height": [round(self.height(wait[3]), 4), round(self.height(wait[1]), 4)],
            },
            "door": {"kind": "motion", "points": door},
        }

    def display_mask(self) -> list[list[float]]:
        d = self.display
        return _rect_pts((d[0] - 0.01, d[1] - 0.01, d[2] + 0.01, d[3] + 0.01))


def _rect_pts(r: Rect) -> list[list[float]]:
    x0, y0, x1, y1 = (round(min(max(v, 0.0), 1.0), 4) for v in r)
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]


def point_in_polygon(p: Pt, poly: list[list[float]]) -> bool:
    """Even-odd rule test of a point against a polygon."""
    inside, n = False, len(poly)
    for i in range(n):
        (x0, y0), (x1, y1) = poly[i], poly[(i + 1) % n]
        if (y0 > p[1]) != (y1 > p[1]) and p[0] < x0 + (p[1] - y0) * (x1 - x0) / (y1 - y0):
            inside = not inside
    return inside


# ----------------------------------------------------------------------------- the story model


@dataclass(frozen=True)
class Segment:
    """An actor walking along path (constant ground speed) or sitting at path[0], during [t0, t1)."""

    t0: float
    t1: float
    path: tuple[Pt, ...]
    posture: str  # "walk" | "sit"
    zone: str | None = None  # the seat's zone while sitting


@dataclass(frozen=True)
class Actor:
    id: str
    role: str  # "officer" | "citizen"
    look: int  # seed of clothing colours and build
    segments: tuple[Segment, ...]
    fidgets: tuple[float, ...] = ()  # start times of short posture shifts while seated

    @property
    def start(self) -> float:
        return self.segments[0].t0

    @property
    def end(self) -> float:
        return self.segments[-1].t1


@dataclass(frozen=True)
class ActorState:
    """Where an actor is at one instant; everything the renderer and the truth need."""

    actor: Actor
    x: float
    y: float
    posture: str
    zone: str | None
    walked_m: float  # distance into the current walk (leg phase)
    heading: tuple[float, float]  # image direction of travel
    lean: float  # sideways lean of a seated person, in person heights


@dataclass(frozen=True)
class CitizenRecord:
    id: str
    arrival_s: float
    service_start_s: float | None
    service_end_s: float | None
    left_s: float


def _bump(t: float, starts: tuple[float, ...], length: float = 2.5) -> float:
    """A smooth 0..1..0 bump during any [start, start + length)."""
    i = bisect.bisect_right(starts, t) - 1
    if i < 0 or t - starts[i] >= length:
        return 0.0
    return math.sin(math.pi * (t - starts[i]) / length) ** 2


class CounterModel:
    """The citizens and the officer of one counter: a FIFO queue planned once, then queried by time."""

    def __init__(self, layout: Layout, cfg: SimConfig, rng: np.random.Generator) -> None:
        self.layout, self.cfg, self._rng = layout, cfg, rng
        self.citizens: list[CitizenRecord] = []
        self.absences: list[tuple[float, float]] = []
        self.calls: list[float] = []
        self.actors: list[Actor] = []
        self.first_ticket = int(rng.integers(1001, 1090))
        zones = layout.zones()
        self.zone_ids = tuple(zones)
        self.zone_polys = {k: v["points"] for k, v in zones.items() if v["kind"] == "motion"}
        self._plan()

    # -- planning (runs once)
    def _walk(self, t0: float, path: tuple[Pt, ...], speed: float) -> Segment:
        length = sum(self.layout.ground_m(a, b) for a, b in zip(path, path[1:]))
        return Segment(t0, t0 + length / speed, path, "walk")

    def _fidgets(self, t0: float, t1: float, mean_gap: float) -> tuple[float, ...]:
        out, t = [], t0 + self._rng.exponential(mean_gap)
        while t < t1:
            out.append(float(t))
            t += 3.0 + self._rng.exponential(mean_gap)
        return tuple(out)

    def _poisson(self, mean: float) -> list[float]:
        out, t = [], -self.cfg.warmup_s + self._rng.exponential(mean)
        while t < self.cfg.duration_s:
            out.append(float(t))
            t += self._rng.exponential(mean)
        return out

    def _plan(self) -> None:
        cfg, lay, rng = self.cfg, self.layout, self._rng
        uni = lambda r: float(rng.uniform(*r))  # noqa: E731
        t_end = cfg.duration_s + 1.0
        door, seat = lay.door_point(), lay.citizen_seat
        plans = self._poisson(cfg.mean_absence_gap_s)
        chair_free = [-math.inf] * len(lay.waiting_seats)
        ready = -cfg.warmup_s
        for n, arrival in enumerate(self._poisson(cfg.mean_arrival_s)):
            cid, speed = f"c{n + 1}", uni((0.9, 1.3))
            free = [k for k, t in enumerate(chair_free) if t <= arrival]
            if not free:  # every chair taken: looks in and leaves
                seg = self._walk(arrival, (door, lay.aisle[0], door), speed)
                self._add_citizen(cid, [seg], CitizenRecord(cid, arrival, None, None, seg.t1))
                continue
            k = int(rng.choice(free))
            chair = lay.waiting_seats[k]
            front = (chair[0], lay.walk_y)
            walk_in = self._walk(arrival, (door, *lay.aisle, front, chair), speed)
            want = max(walk_in.t1 + uni(cfg.wait_min_s), ready)
            while plans and plans[0] <= want:  # the officer takes a break before calling
                start = max(plans.pop(0), ready)
                self.absences.append((start, start + uni(cfg.absence_s)))
                ready = self.absences[-1][1] + uni(cfg.call_gap_s)
                want = max(want, ready)
            if want >= t_end:  # still waiting when the video ends; so is everyone after (FIFO)
                sit = Segment(walk_in.t1, t_end, (chair,), "sit", "waiting")
                chair_free[k], ready = math.inf, math.inf
                self._add_citizen(cid, [walk_in, sit], CitizenRecord(cid, arrival, None, None, t_end))
                continue
            self.calls.append(want)
            chair_free[k] = want + 1.0
            to_desk = self._walk(want, (chair, front, (seat[0] - 0.06 * lay.side, lay.walk_y), seat), speed)
            served = Segment(to_desk.t1, to_desk.t1 + float(rng.triangular(*cfg.service_s)), (seat,), "sit", "service-spot")
            leave = self._walk(served.t1, (seat, (seat[0] + 0.08 * lay.side, seat[1] + 0.1), lay.aisle[0], door), speed)
            ready = served.t1 + uni(cfg.call_gap_s)
            segs = [walk_in, Segment(walk_in.t1, want, (chair,), "sit", "waiting"), to_desk, served, leave]
            self._add_citizen(cid, segs, CitizenRecord(cid, arrival, served.t0, served.t1, leave.t1))
        for p in plans:
            start = max(p, ready)
            if start < t_end:
                self.absences.append((start, start + uni(cfg.absence_s)))
                ready = self.absences[-1][1] + uni(cfg.call_gap_s)
        self.actors.insert(0, self._officer(t_end))

    def _add_citizen(self, cid: str, segs: list[Segment], rec: CitizenRecord) -> None:
        sits = [s for s in segs if s.posture == "sit"]
        fid = self._fidgets(sits[0].t0, sits[-1].t1, 40.0) if sits else ()
        self.actors.append(Actor(cid, "citizen", int(self._rng.integers(1 << 30)), tuple(segs), fid))
        self.citizens.append(rec)

    def _officer(self, t_end: float) -> Actor:
        lay, seat = self.layout, self.layout.staff_seat
        out_path = (seat, *lay.staff_path, lay.door_point())
        segs, t = [], -self.cfg.warmup_s - 1.0
        for start, end in self.absences:
            segs.append(Segment(t, start, (seat,), "sit", "staff-seat"))
            walk_out = self._walk(start, out_path, 1.2)
            back = self._walk(0.0, out_path[::-1], 1.2)
            segs += [walk_out, replace(back, t0=max(end - back.t1, walk_out.t1), t1=end)]
            t = end
        segs.append(Segment(t, max(t, t_end), (seat,), "sit", "staff-seat"))
        return Actor("officer", "officer", int(self._rng.integers(1 << 30)), tuple(segs), self._fidgets(segs[0].t0, t_end, 25.0))

    # -- queries (pure functions of t)
    def state(self, actor: Actor, t: float) -> ActorState | None:
        """The actor at time t, or None when off-screen."""
        i = bisect.bisect_right([s.t0 for s in actor.segments], t) - 1
        if i < 0 or t >= actor.segments[i].t1:
            return None
        seg = actor.segments[i]
        if seg.posture == "sit":
            ph = (actor.look % 997) / 997 * 2 * math.pi
            lean = 0.006 * math.sin(2 * math.pi * t / 7.0 + ph) + 0.003 * math.sin(2 * math.pi * t / 2.3 + 2 * ph)
            lean += 0.035 * _bump(t, actor.fidgets) * (1 if actor.look % 2 else -1)
            x, y = seg.path[0]
            return ActorState(actor, x, y, "sit", seg.zone, 0.0, (0.0, 0.0), lean)
        legs = [self.layout.ground_m(a, b) for a, b in zip(seg.path, seg.path[1:])]
        dist = sum(legs) * (t - seg.t0) / (seg.t1 - seg.t0)
        walked, j = dist, 0
        while j < len(legs) - 1 and walked > legs[j]:
            walked -= legs[j]
            j += 1
        (ax, ay), (bx, by) = seg.path[j], seg.path[j + 1]
        f = min(walked / legs[j], 1.0) if legs[j] > 0 else 1.0
        x, y = ax + (bx - ax) * f, ay + (by - ay) * f
        zone = next((z for z, poly in self.zone_polys.items() if point_in_polygon((x, y), poly)), None)
        return ActorState(actor, x, y, "walk", zone, dist, (bx - ax, by - ay), 0.0)

    def states(self, t: float) -> list[ActorState]:
        return [s for a in self.actors if a.start <= t < a.end and (s := self.state(a, t)) is not None]

    def zone_counts(self, t: float) -> dict[str, int]:
        counts = dict.fromkeys(self.zone_ids, 0)
        for s in self.states(t):
            if s.zone is not None:
                counts[s.zone] += 1
        return counts

    def ticket(self, t: float) -> tuple[int, bool]:
        """The number on the queue display at t, and whether it is blinking (just called)."""
        n = bisect.bisect_right(self.calls, t)
        blinking = n > 0 and t - self.calls[n - 1] < 3.0
        return self.first_ticket + n, blinking


class OfficeModel:
    """All counters of the office and the hall lighting they share."""

    def __init__(self, cfg: SimConfig) -> None:
        self.cfg = cfg
        base = Layout()
        self.counters = {
            cam: CounterModel(base.mirrored() if i % 2 else base, cfg, np.random.default_rng([cfg.seed, i]))
            for i, cam in enumerate(cfg.cameras)
        }
        rng = np.random.default_rng([cfg.seed, 1000])
        self.light_steps: list[tuple[float, float]] = []  # (t, level after the step)
        t, level = rng.exponential(cfg.mean_light_step_s), 0.0
        while t < cfg.duration_s:
            level = 0.0 if level else float(rng.uniform(*cfg.light_step) * rng.choice([-1, 1]))
            self.light_steps.append((float(t), level))
            t += rng.exponential(cfg.mean_light_step_s)
        self._drift_phase = float(rng.uniform(0, 2 * math.pi))

    def lighting(self, t: float) -> float:
        """Global brightness offset (grey levels) at t: slow drift plus switched lights."""
        i = bisect.bisect_right([s[0] for s in self.light_steps], t) - 1
        level = self.light_steps[i][1] if i >= 0 else 0.0
        return level + self.cfg.drift_levels * math.sin(2 * math.pi * t / 420.0 + self._drift_phase)

    def truth(self) -> dict:
        """Ground truth for every camera, computed from the model only."""
        dur = self.cfg.duration_s
        cams = {}
        for cam, m in self.counters.items():
            cams[cam] = {
                "per_second": [{"t": t, "zones": m.zone_counts(float(t))} for t in range(int(math.ceil(dur)))],
                "citizens": [
                    {"id": c.id, "arrival_s": c.arrival_s, "service_start_s": c.service_start_s,
                     "service_end_s": c.service_end_s, "counter": "service-spot"}
                    for c in m.citizens if c.left_s > 0 and c.arrival_s < dur
                ],
                "absences": [{"zone": "staff-seat", "start_s": a, "end_s": b} for a, b in m.absences if b > 0 and a < dur],
                "calls_s": [c for c in m.calls if 0 <= c < dur],
            }
        steps = [{"t_s": t, "level": v} for t, v in self.light_steps]
        return {"fps": self.cfg.fps, "duration_s": dur, "lighting_steps": steps, "cameras": cams}


# ----------------------------------------------------------------------------- rendering

SHIRTS = [(245, 245, 245), (225, 185, 120), (95, 55, 30), (55, 55, 195), (70, 200, 235), (80, 145, 70),
          (150, 150, 155), (185, 160, 235), (40, 40, 45), (60, 95, 145), (200, 125, 60), (125, 65, 125)]
TROUSERS = [(45, 35, 30), (30, 30, 32), (115, 115, 115), (125, 165, 185), (145, 95, 55), (75, 65, 55)]
SKIN = [(150, 182, 222), (132, 166, 206), (112, 146, 190), (96, 126, 170)]
HAIR = [(22, 22, 26), (32, 36, 46), (55, 68, 90), (150, 150, 155)]
OFFICER_SHIRT, OFFICER_TROUSERS = (220, 190, 145), (55, 45, 40)


@dataclass(frozen=True)
class Look:
    shirt: tuple[int, int, int]
    trousers: tuple[int, int, int]
    skin: tuple[int, int, int]
    hair: tuple[int, int, int]
    long_hair: bool
    scale: float  # height relative to the mean person
    build: float  # width relative to the mean person

    @classmethod
    def of(cls, actor: Actor) -> Look:
        rng = np.random.default_rng(actor.look)
        pick = lambda seq: seq[int(rng.integers(len(seq)))]  # noqa: E731
        officer = actor.role == "officer"
        return cls(
            OFFICER_SHIRT if officer else pick(SHIRTS), OFFICER_TROUSERS if officer else pick(TROUSERS),
            pick(SKIN), pick(HAIR[:3]) if officer else pick(HAIR), bool(rng.random() < 0.4),
            float(rng.uniform(0.93, 1.07)), float(rng.uniform(0.9, 1.15)),
        )


def _shade(c: tuple[int, int, int], f: float) -> tuple[int, int, int]:
    return tuple(int(min(255, v * f)) for v in c)  # type: ignore[return-value]


class _Pen:
    """Sub-pixel anti-aliased drawing around a person's foot point, in units of their height."""

    S = 16  # cv2 fixed-point shift of 4 bits

    def __init__(self, img: np.ndarray, fx: float, fy: float, hp: float) -> None:
        self.img, self.fx, self.fy, self.hp = img, fx, fy, hp

    def p(self, dx: float, up: float) -> tuple[int, int]:
        return (int((self.fx + dx * self.hp) * self.S), int((self.fy - up * self.hp) * self.S))

    def poly(self, pts: list[tuple[float, float]], color) -> None:
        arr = np.array([self.p(*q) for q in pts], np.int32)
        cv2.fillConvexPoly(self.img, arr, color, cv2.LINE_AA, 4)

    def line(self, a: tuple[float, float], b: tuple[float, float], width: float, color) -> None:
        cv2.line(self.img, self.p(*a), self.p(*b), color, max(1, int(width * self.hp)), cv2.LINE_AA, 4)

    def circle(self, c: tuple[float, float], r: float, color) -> None:
        cv2.circle(self.img, self.p(*c), int(r * self.hp * self.S), color, -1, cv2.LINE_AA, 4)

    def ellipse(self, c: tuple[float, float], ax: tuple[float, float], a0: float, a1: float, color) -> None:
        axes = (int(ax[0] * self.hp * self.S), int(ax[1] * self.hp * self.S))
        cv2.ellipse(self.img, self.p(*c), axes, 0, a0, a1, color, -1, cv2.LINE_AA, 4)


def _darken_ellipse(img: np.ndarray, c: tuple[int, int], axes: tuple[int, int], factor: float) -> None:
    """A soft shadow: scale the pixels inside an ellipse."""
    h, w = img.shape[:2]
    x0, x1 = max(c[0] - axes[0], 0), min(c[0] + axes[0] + 1, w)
    y0, y1 = max(c[1] - axes[1], 0), min(c[1] + axes[1] + 1, h)
    if x1 <= x0 or y1 <= y0:
        return
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.ellipse(mask, (c[0] - x0, c[1] - y0), axes, 0, 0, 360, 255, -1)
    roi = img[y0:y1, x0:x1]
    roi[mask > 0] = (roi[mask > 0] * factor).astype(np.uint8)


def _draw_head(pen: _Pen, c: tuple[float, float], look: Look, front: bool) -> None:
    r = HEAD_R
    if front:
        pen.circle(c, r, look.skin)
        pen.ellipse((c[0], c[1] + 0.012), (r * 1.06, r * 0.95), 180, 360, look.hair)
    else:
        if look.long_hair:
            pen.ellipse((c[0], c[1] - 0.06), (r * 1.0, r * 1.3), 0, 360, look.hair)
        pen.circle(c, r * 1.02, look.hair)


def _torso(pen: _Pen, hip: tuple[float, float], sh: tuple[float, float], look: Look) -> None:
    sw, hw = 0.125 * look.build, 0.095 * look.build
    pen.poly([(hip[0] - hw, hip[1]), (hip[0] + hw, hip[1]), (sh[0] + sw, sh[1] - 0.035), (sh[0] + sw - 0.03, sh[1]),
              (sh[0] - sw + 0.03, sh[1]), (sh[0] - sw, sh[1] - 0.035)], look.shirt)


def draw_person(img: np.ndarray, st: ActorState, layout: Layout, look: Look) -> None:
    """Draw one actor (standing/walking or seated) with its feet or chair at (st.x, st.y)."""
    h, w = img.shape[:2]
    hp = layout.height(st.y) * h * look.scale
    pen = _Pen(img, st.x * w, st.y * h, hp)
    if st.posture == "sit":
        _draw_seated(pen, st, look)
        return
    hx, hy = st.heading[0] * layout.aspect, st.heading[1] * DEPTH_STRETCH
    norm = math.hypot(hx, hy) or 1.0
    hx, hy = hx / norm, hy / norm
    swing = math.sin(2 * math.pi * st.walked_m / STRIDE_M)
    bob = 0.012 * abs(math.cos(2 * math.pi * st.walked_m / STRIDE_M))
    _darken_ellipse(img, (int(st.x * w), int(st.y * h)), (int(0.16 * hp), int(0.035 * hp)), 0.72)
    hip, sh = (0.0, 0.47 + bob), (0.0, 0.80 + bob)
    for side in (-1, 1):
        foot = (side * 0.05 + side * swing * 0.11 * hx, max(0.0, side * swing) * 0.03 - side * swing * 0.035 * hy)
        pen.line((side * 0.05, hip[1]), foot, 0.085 * look.build, look.trousers)
        pen.ellipse((foot[0], foot[1] - 0.005), (0.04, 0.02), 0, 360, (35, 35, 40))
    _torso(pen, hip, sh, look)
    arm = _shade(look.shirt, 0.85)
    for side in (-1, 1):
        hand = (side * 0.15 - side * swing * 0.07 * hx, 0.46 + bob + side * swing * 0.02 * hy)
        pen.line((side * 0.12 * look.build, sh[1] - 0.03), hand, 0.055, arm)
        pen.circle(hand, 0.025, look.skin)
    pen.line((0, sh[1]), (0, sh[1] + 0.04), 0.05, look.skin)
    _draw_head(pen, (0.0, 0.895 + bob), look, front=hy > 0.05)


def _draw_seated(pen: _Pen, st: ActorState, look: Look) -> None:
    front = st.actor.role == "officer"  # officers face the camera, citizens face the counter
    hip_up = OFFICE_SEAT_FRAC if front else SEAT_FRAC
    sh = (st.lean, hip_up + TORSO_FRAC)
    head = (st.lean * 1.3, sh[1] + HEAD_UP)
    if front:
        for side in (-1, 1):
            knee = (side * 0.07, hip_up - 0.06)
            pen.line((side * 0.06, hip_up), knee, 0.09, look.trousers)
            pen.line(knee, (side * 0.07, 0.0), 0.075, look.trousers)
    _torso(pen, (0.0, hip_up), sh, look)
    arm = _shade(look.shirt, 0.85)
    for side in (-1, 1):
        hand = (side * 0.09 + st.lean * 0.5, hip_up + 0.06 if front else hip_up + 0.04)
        pen.line((side * 0.12 * look.build + st.lean, sh[1] - 0.03), hand, 0.055, arm)
        pen.circle(hand, 0.025, look.skin)
    pen.line((st.lean, sh[1]), (head[0], sh[1] + 0.04), 0.05, look.skin)
    _draw_head(pen, head, look, front=front)


@dataclass(frozen=True)
class _Occluder:
    """A piece of furniture that hides actors standing behind it (depth = its floor row)."""

    depth: float
    box: tuple[int, int, int, int]  # y0, y1, x0, x1
    mask: np.ndarray


class CameraRenderer:
    """Pixels for one camera: a static background painted once, actors and nuisances per frame."""

    def __init__(self, layout: Layout, size: tuple[int, int], seed: int, noise_sigma: float, tint: int = 0) -> None:
        self.layout, self.size = layout, size
        rng = np.random.default_rng(seed)
        self.background, self._occluders = _paint_background(layout, size, rng, tint)
        w, h = size
        self._noise = np.rint(rng.normal(0, noise_sigma, (h + 16, w + 32, 3))).astype(np.int16)
        self._noise_rng = np.random.default_rng([seed, 1])
        self._looks: dict[str, Look] = {}

    def render(self, states: list[ActorState], ticket: tuple[int, bool], light: float, t: float) -> np.ndarray:
        """One BGR frame at size: background, display, actors in depth order, lighting and noise."""
        img = self.background.copy()
        self._draw_display(img, ticket, t)
        items: list[tuple[float, int, object]] = [(s.y, 0, s) for s in states]
        items += [(o.depth, 1, o) for o in self._occluders]
        for _, kind, obj in sorted(items, key=lambda it: (it[0], it[1])):
            if kind == 0:
                st = obj  # type: ignore[assignment]
                look = self._looks.get(st.actor.id) or self._looks.setdefault(st.actor.id, Look.of(st.actor))
                draw_person(img, st, self.layout, look)
            else:
                y0, y1, x0, x1 = obj.box  # type: ignore[attr-defined]
                np.copyto(img[y0:y1, x0:x1], self.background[y0:y1, x0:x1], where=obj.mask)  # type: ignore[attr-defined]
        if abs(light) >= 0.5:
            img = cv2.add(img, (light, light, light, 0))
        w, h = self.size
        dy, dx = self._noise_rng.integers(0, 16), self._noise_rng.integers(0, 32)
        return cv2.add(img, self._noise[dy : dy + h, dx : dx + w], dtype=cv2.CV_8U)

    def _draw_display(self, img: np.ndarray, ticket: tuple[int, bool], t: float) -> None:
        number, blinking = ticket
        if blinking and int(t * 2) % 2:
            return
        h, w = img.shape[:2]
        x0, y0, x1, y1 = self.layout.display
        bw, bh = (x1 - x0) * w, (y1 - y0) * h
        text = str(number)
        scale = bh * 0.6 / 22
        (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_DUPLEX, scale, 1)
        scale *= min(1.0, bw * 0.85 / tw)
        (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_DUPLEX, scale, 1)
        org = (int(x0 * w + (bw - tw) / 2), int(y0 * h + (bh + th) / 2))
        cv2.putText(img, text, org, cv2.FONT_HERSHEY_DUPLEX, scale, (40, 40, 250), max(1, int(bh / 14)), cv2.LINE_AA)


def _paint_background(lay: Layout, size: tuple[int, int], rng: np.random.Generator, tint: int) -> tuple[np.ndarray, list[_Occluder]]:
    """The empty office as seen by one camera, and the furniture that can hide people."""
    w, h = size
    img = np.zeros((h, w, 3), np.uint8)
    P = lambda x, y: (int(round(x * w)), int(round(y * h)))  # noqa: E731
    hy = int(lay.horizon * h)
    wall = np.array([(185, 212, 224), (190, 218, 205)][tint % 2], np.float32)
    img[:hy] = (wall * np.linspace(1.04, 0.94, hy)[:, None]).clip(0, 255).astype(np.uint8)[:, None, :]
    _paint_floor(img, lay, rng)
    cv2.rectangle(img, P(0, lay.horizon - 0.018), P(1, lay.horizon), (95, 105, 115), -1)
    _paint_wall_items(img, lay, P, rng)
    occ: list[_Occluder] = []
    # furniture back to front; each piece that can stand in front of a person becomes an occluder
    _paint_office_chair(img, lay, P)
    occ.append(_paint_desk(img, lay, P))
    occ.append(_paint_chair(img, lay, lay.citizen_seat, P))
    d = lay.waiting_seats
    cv2.line(img, P(d[0][0], d[0][1] - 0.02), P(d[-1][0], d[-1][1] - 0.02), (120, 120, 125), max(2, h // 180))
    occ += [_paint_chair(img, lay, s, P) for s in d]
    occ.append(_paint_plant(img, lay, lay.plant, 1.0, P))
    _paint_plant(img, lay, (lay.door[2] + 0.05 if not lay.flipped else lay.door[0] - 0.05, lay.horizon + 0.03), 0.8, P)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    vignette = 1.0 - 0.16 * (((xx / w - 0.5) ** 2 + (yy / h - 0.45) ** 2) / 0.5)
    img = (img * vignette[..., None]).clip(0, 255).astype(np.uint8)
    grain = rng.normal(0, 2.0, img.shape).astype(np.float32)
    img = cv2.GaussianBlur((img + grain).clip(0, 255).astype(np.uint8), (3, 3), 0)
    return img, occ


def _paint_floor(img: np.ndarray, lay: Layout, rng: np.random.Generator) -> None:
    """Light ceramic tiles in perspective: rows shrink towards the wall, columns meet above the image."""
    h, w = img.shape[:2]
    rows, y = [lay.horizon], lay.horizon
    while y < 1.0:
        y += 0.6 / PERSON_M * lay.height(y) / DEPTH_STRETCH
        rows.append(y)
    vx, vy = 0.5 * w, -1.2 * h
    tile_px = 0.6 / PERSON_M * lay.near_h * h
    cols = np.arange(-30, 31) * tile_px + 0.5 * w + tile_px / 2

    def col_x(c: float, yn: float) -> float:
        return vx + (c - vx) * (yn * h - vy) / (h - vy)

    base = np.array((172, 180, 186), np.float32)
    for r0, r1 in zip(rows, rows[1:]):
        for c0, c1 in zip(cols, cols[1:]):
            quad = np.array([(col_x(c0, r0), r0 * h), (col_x(c1, r0), r0 * h), (col_x(c1, r1), r1 * h), (col_x(c0, r1), r1 * h)])
            if quad[:, 0].max() < 0 or quad[:, 0].min() > w:
                continue
            shade = base * (0.95 + 0.1 * (r1 - lay.horizon)) + rng.normal(0, 3.0)
            cv2.fillConvexPoly(img, np.rint(quad).astype(np.int32), tuple(float(v) for v in shade.clip(0, 255)))
    grout = (150, 156, 160)
    for r in rows:
        cv2.line(img, (0, int(r * h)), (w, int(r * h)), grout, 1, cv2.LINE_AA)
    for c in cols:
        cv2.line(img, (int(col_x(c, lay.horizon)), int(lay.horizon * h)), (int(col_x(c, 1.0)), h), grout, 1, cv2.LINE_AA)


def _paint_wall_items(img: np.ndarray, lay: Layout, P, rng: np.random.Generator) -> None:
    h, w = img.shape[:2]
    lw = max(1, h // 240)
    # doorway into a dim corridor, with its frame and an open leaf
    x0, y0, x1, y1 = lay.door
    cv2.rectangle(img, P(x0, y0), P(x1, y1), (70, 78, 84), -1)
    cv2.rectangle(img, P(x0, y1 - 0.06), P(x1, y1), (105, 112, 118), -1)
    cv2.rectangle(img, P(x0 - 0.008, y0 - 0.012), P(x1 + 0.008, y1), (45, 70, 105), max(2, h // 90))
    leaf = x1 + 0.035 if lay.flipped else x0 - 0.035
    edge = x1 + 0.004 if lay.flipped else x0 - 0.004
    cv2.fillConvexPoly(img, np.array([P(edge, y0), P(leaf, y0 + 0.02), P(leaf, y1 + 0.02), P(edge, y1)]), (60, 95, 140))
    # queue-number display (digits are drawn per frame)
    x0, y0, x1, y1 = lay.display
    cv2.rectangle(img, P(x0 - 0.006, y0 - 0.01), P(x1 + 0.006, y1 + 0.01), (70, 70, 75), -1)
    cv2.rectangle(img, P(x0, y0), P(x1, y1), (18, 18, 22), -1)
    # a red banner above and a notice board with papers
    cv2.rectangle(img, P(0.22, 0.0), P(0.78, 0.03), (40, 40, 175), -1)
    cv2.line(img, P(0.24, 0.015), P(0.76, 0.015), (60, 200, 230), lw)
    bx = 0.04 if not lay.flipped else 0.76
    cv2.rectangle(img, P(bx, 0.08), P(bx + 0.2, 0.27), (80, 120, 165), -1)
    for i in range(5):
        px, py = bx + 0.012 + (i % 3) * 0.063, 0.1 + (i // 3) * 0.085
        cv2.rectangle(img, P(px, py), P(px + 0.05, py + 0.07), (235, 238, 240), -1)
        for k in range(4):
            cv2.line(img, P(px + 0.006, py + 0.014 + k * 0.013), P(px + 0.044 - 0.01 * (k % 2), py + 0.014 + k * 0.013), (150, 150, 150), lw)
    # a filing cabinet against the wall behind the desk
    cx = lay.desk[0] - 0.02 if not lay.flipped else lay.desk[2] - 0.1
    cv2.rectangle(img, P(cx, 0.2), P(cx + 0.12, lay.horizon), (120, 125, 130), -1)
    for k in range(3):
        yk = 0.21 + k * 0.066
        cv2.rectangle(img, P(cx + 0.006, yk), P(cx + 0.114, yk + 0.058), (145, 150, 155), -1)
        cv2.rectangle(img, P(cx + 0.05, yk + 0.02), P(cx + 0.07, yk + 0.027), (70, 70, 70), -1)
    # a wall clock
    cv2.circle(img, P(0.62 if not lay.flipped else 0.38, 0.09), int(0.035 * h), (240, 240, 240), -1, cv2.LINE_AA)
    cv2.circle(img, P(0.62 if not lay.flipped else 0.38, 0.09), int(0.035 * h), (50, 50, 50), lw + 1, cv2.LINE_AA)


def _occluder(img_shape: tuple[int, ...], polys: list[np.ndarray], depth: float) -> _Occluder:
    h, w = img_shape[:2]
    allp = np.concatenate(polys)
    x0, y0 = np.maximum(allp.min(0) - 2, 0)
    x1, y1 = np.minimum(allp.max(0) + 3, (w, h))
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    for p in polys:
        cv2.fillPoly(mask, [p - (x0, y0)], 1)
    return _Occluder(depth, (int(y0), int(y1), int(x0), int(x1)), mask.astype(bool)[..., None])


def _paint_office_chair(img: np.ndarray, lay: Layout, P) -> None:
    x, y = lay.staff_seat
    hn = lay.height(y)
    seat = y - OFFICE_SEAT_FRAC * hn
    cv2.ellipse(img, P(x, y), (int(lay.width(0.16, y) * img.shape[1]), int(0.03 * hn * img.shape[0])), 0, 0, 360, (120, 125, 130), -1)
    cv2.rectangle(img, P(x - lay.width(0.11, y), seat - 0.42 * hn), P(x + lay.width(0.11, y), seat), (38, 38, 44), -1)
    cv2.line(img, P(x, seat), P(x, y), (60, 60, 60), max(2, img.shape[0] // 150))


def _paint_desk(img: np.ndarray, lay: Layout, P) -> _Occluder:
    x0, back, x1, front = lay.desk
    tb, tf = lay.desk_top_y(back), lay.desk_top_y(front)
    shadow = np.array([P(x0 - 0.01, front + 0.01), P(x1 + 0.01, front + 0.01), P(x1, back), P(x0, back)])
    cv2.fillConvexPoly(img, shadow, (130, 136, 140))
    top = np.array([P(x0 + 0.01, tb), P(x1 - 0.01, tb), P(x1, tf), P(x0, tf)])
    face = np.array([P(x0, tf), P(x1, tf), P(x1, front), P(x0, front)])
    cv2.fillConvexPoly(img, top, (170, 200, 222))
    cv2.fillConvexPoly(img, face, (95, 135, 170))
    cv2.line(img, P(x0, tf), P(x1, tf), (70, 100, 130), max(2, img.shape[0] // 200))
    cv2.rectangle(img, P(x0 + 0.02, tf + 0.02), P(x1 - 0.02, front - 0.015), (85, 122, 155), max(1, img.shape[0] // 300))
    mx = x1 - 0.09 if not lay.flipped else x0 + 0.03
    monitor = np.array([P(mx, tb - 0.08), P(mx + 0.06, tb - 0.08), P(mx + 0.06, tb - 0.005), P(mx, tb - 0.005)])
    cv2.fillConvexPoly(img, monitor, (40, 40, 45))
    cv2.rectangle(img, P(mx + 0.025, tb - 0.005), P(mx + 0.035, (tb + tf) / 2), (60, 60, 65), -1)
    px = x0 + 0.03 if not lay.flipped else x1 - 0.1
    for k in range(3):
        cv2.rectangle(img, P(px + 0.004 * k, tf - 0.035 - 0.006 * k), P(px + 0.06 + 0.004 * k, tf - 0.012 - 0.006 * k), (225 - 12 * k, 232, 235), -1)
    return _occluder(img.shape, [top, face, monitor], front)


def _paint_chair(img: np.ndarray, lay: Layout, at: Pt, P) -> _Occluder:
    """A waiting-room chair seen from behind; its back hides the lower back of whoever sits on it."""
    x, y = at
    hn = lay.height(y)
    seat = y - SEAT_FRAC * hn
    hw = lay.width(0.115, y)
    lw = max(2, img.shape[0] // 200)
    cv2.ellipse(img, P(x, y - 0.005), (int(hw * 1.1 * img.shape[1]), int(0.025 * hn * img.shape[0])), 0, 0, 360, (135, 140, 146), -1)
    for sx in (-0.85, 0.85):
        cv2.line(img, P(x + sx * hw, seat), P(x + sx * hw, y - 0.03 * hn), (150, 150, 155), lw)
    cv2.rectangle(img, P(x - hw, seat - 0.05 * hn), P(x + hw, seat), (125, 85, 45), -1)
    back = np.array([P(x - hw, seat - 0.13 * hn), P(x + hw, seat - 0.13 * hn), P(x + hw, seat + 0.012 * hn), P(x - hw, seat + 0.012 * hn)])
    cv2.fillConvexPoly(img, back, (150, 100, 55))
    cv2.polylines(img, [back], True, (175, 175, 180), lw)
    for sx in (-0.9, 0.9):
        cv2.line(img, P(x + sx * hw, seat), P(x + sx * hw, y + 0.004), (175, 175, 180), lw)
    return _occluder(img.shape, [back], y + 0.002)


def _paint_plant(img: np.ndarray, lay: Layout, at: Pt, size: float, P) -> _Occluder:
    x, y = at
    hn = lay.height(y) * size
    pot = np.array([P(x - lay.width(0.1, y) * size, y - 0.16 * hn), P(x + lay.width(0.1, y) * size, y - 0.16 * hn),
                    P(x + lay.width(0.07, y) * size, y), P(x - lay.width(0.07, y) * size, y)])
    cv2.fillConvexPoly(img, pot, (40, 75, 130))
    rng = np.random.default_rng(int(x * 1000))
    polys = [pot]
    for _ in range(14):
        a = rng.uniform(-1.2, 1.2)
        ln = rng.uniform(0.25, 0.5) * hn
        tip = (x + math.sin(a) * ln / 2 * img.shape[0] / img.shape[1], y - 0.16 * hn - math.cos(a) * ln)
        green = (int(rng.uniform(30, 60)), int(rng.uniform(110, 160)), int(rng.uniform(40, 80)))
        c = P((x + tip[0]) / 2, (y - 0.16 * hn + tip[1]) / 2)
        axes = (int(0.05 * hn * img.shape[0]), int(ln / 2 * img.shape[0]))
        cv2.ellipse(img, c, axes, math.degrees(a), 0, 360, green, -1, cv2.LINE_AA)
        polys.append(cv2.ellipse2Poly(c, axes, int(math.degrees(a)), 0, 360, 20))
    return _occluder(img.shape, polys, y + 0.01)


# ----------------------------------------------------------------------------- output


class _Encoder:
    """One H.264 MP4 file: constant frame rate, fixed GOP, no B-frames, moov atom first."""

    def __init__(self, path: Path, size: tuple[int, int], cfg: SimConfig, bitrate: int) -> None:
        gop = max(1, round(cfg.gop_s * cfg.fps))
        self.container = av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"})
        self.stream = self.container.add_stream("libx264", rate=cfg.fps)
        self.stream.width, self.stream.height = size
        self.stream.pix_fmt = "yuv420p"
        self.stream.bit_rate = bitrate
        self.stream.time_base = Fraction(1, cfg.fps)
        self.stream.codec_context.gop_size = gop
        self.stream.codec_context.options = {
            "preset": cfg.preset, "bf": "0", "keyint_min": str(gop), "sc_threshold": "0", "tune": "zerolatency",
        }
        self.index = 0

    def write(self, bgr: np.ndarray) -> None:
        frame = av.VideoFrame.from_ndarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420), format="yuv420p")
        frame.pts = self.index
        self.index += 1
        for packet in self.stream.encode(frame):
            self.container.mux(packet)

    def close(self) -> None:
        for packet in self.stream.encode(None):
            self.container.mux(packet)
        self.container.close()


@dataclass(frozen=True)
class SimResult:
    """What simulate_office wrote."""

    out_dir: Path
    config_path: Path
    truth_path: Path
    videos: dict[str, dict[str, Path]]  # camera -> {"main": path, "sub": path}
    frames: int  # per video
    citizens: dict[str, int]  # camera -> citizens seen in the video
    served: dict[str, int]  # camera -> citizens whose service started in the video
    elapsed_s: float = field(default=0.0, compare=False)

    def __str__(self) -> str:
        return (f"{len(self.videos)} cameras x {self.frames} frames, {sum(self.citizens.values())} citizens "
                f"({sum(self.served.values())} served) in {self.out_dir} ({self.elapsed_s:.1f} s)")


def _yaml_config(office: OfficeModel) -> dict:
    cams = []
    for i, (cam, model) in enumerate(office.counters.items()):
        zones = [{"id": zid, **z} for zid, z in model.layout.zones().items()]
        cams.append({
            "id": cam, "name": f"Quầy {i + 1}",
            "streams": {"main": f"{cam}-main.mp4", "sub": f"{cam}-sub.mp4", "loop": True},
            "masks": [model.layout.display_mask()],
            "zones": zones,
        })
    return {
        "site": {"name": "Bộ phận một cửa (mô phỏng)", "timezone": "Asia/Ho_Chi_Minh", "language": "vi"},
        "storage": {"recordings": "recordings", "database": "onestop.db"},
        "defaults": {"detect_fps": 5, "detect_width": 320, "pre_roll_s": 5, "post_roll_s": 10, "max_clip_s": 300},
        "cameras": cams,
    }


def make_renderer(office: OfficeModel, camera: str, size: tuple[int, int] | None = None) -> CameraRenderer:
    """The renderer simulate_office uses for camera (its .background is the empty scene)."""
    cfg, index = office.cfg, office.cfg.cameras.index(camera)
    layout = office.counters[camera].layout
    return CameraRenderer(layout, size or cfg.main_size, (cfg.seed * 7919 + index) & 0xFFFFFFFF, cfg.noise_sigma, tint=index)


def _render_camera(cfg: SimConfig, index: int, out_dir: Path) -> tuple[str, int, float]:
    """Render and encode one camera; rebuilds the (deterministic) model so it can run in a child process."""
    started = time.perf_counter()
    office = OfficeModel(cfg)
    cam = cfg.cameras[index]
    model = office.counters[cam]
    renderer = make_renderer(office, cam)
    main = _Encoder(out_dir / f"{cam}-main.mp4", cfg.main_size, cfg, cfg.main_bitrate)
    sub = _Encoder(out_dir / f"{cam}-sub.mp4", cfg.sub_size, cfg, cfg.sub_bitrate)
    n = round(cfg.duration_s * cfg.fps)
    try:
        for i in range(n):
            t = i / cfg.fps
            img = renderer.render(model.states(t), model.ticket(t), office.lighting(t), t)
            main.write(img)
            sub.write(cv2.resize(img, cfg.sub_size, interpolation=cv2.INTER_AREA))
    finally:
        main.close()
        sub.close()
    return cam, n, time.perf_counter() - started


def simulate_office(out_dir: Path, cfg: SimConfig) -> SimResult:
    """Render both cameras: out_dir/<camera>-main.mp4 and out_dir/<camera>-sub.mp4 (H.264, libx264, yuv420p, keyframe every gop_s, no B-frames, 'movflags=+faststart'), out_dir/cameras.yaml, out_dir/truth.json."""
    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    office = OfficeModel(cfg)
    jobs = range(len(cfg.cameras))
    if cfg.workers > 1:
        with ProcessPoolExecutor(min(cfg.workers, len(jobs)), mp_context=get_context("spawn")) as pool:
            done = list(pool.map(_render_camera, [cfg] * len(jobs), jobs, [out_dir] * len(jobs)))
    else:
        done = [_render_camera(cfg, i, out_dir) for i in jobs]
    for cam, frames, seconds in done:
        log.info("simulate: camera %s: %d frames in %.1f s", cam, frames, seconds)
    config_path, truth_path = out_dir / "cameras.yaml", out_dir / "truth.json"
    config_path.write_text(yaml.safe_dump(_yaml_config(office), allow_unicode=True, sort_keys=False), encoding="utf-8")
    truth = office.truth()
    truth_path.write_text(json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8")
    cams = truth["cameras"]
    return SimResult(
        out_dir=out_dir, config_path=config_path, truth_path=truth_path,
        videos={c: {"main": out_dir / f"{c}-main.mp4", "sub": out_dir / f"{c}-sub.mp4"} for c in office.counters},
        frames=frames,
        citizens={c: len(v["citizens"]) for c, v in cams.items()},
        served={c: sum(1 for x in v["citizens"] if x["service_start_s"] is not None and 0 <= x["service_start_s"] < cfg.duration_s) for c, v in cams.items()},
        elapsed_s=time.perf_counter() - started,
    )
