"""The simulated office's story model: SimConfig, counter layout and geometry, actors as pure functions of time."""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, replace

import numpy as np

Pt = tuple[float, float]
Rect = tuple[float, float, float, float]  # x0, y0, x1, y1 (normalised)

PERSON_M = 1.65  # mean standing height: converts image heights to metres
DEPTH_STRETCH = 2.5  # the floor seen from above: a vertical image step covers ~2.5x more ground
SEAT_FRAC = 0.27  # seat height as a fraction of standing height (waiting chairs)
OFFICE_SEAT_FRAC = 0.30  # the officer's chair is raised to the desk
TORSO_FRAC, HEAD_UP, HEAD_R = 0.33, 0.095, 0.066  # seated body: hips -> shoulders -> head centre, head radius
DESK_FRAC = 0.42  # desk top height (0.70 m) as a fraction of standing height
STRIDE_M = 1.4  # ground covered by one full leg cycle
CHAIR_BACK_FRAC = 0.13  # a waiting chair's back rises this far above its seat (standing heights)
SEAT_ZONE_M = 0.3  # half size of a seat's floor footprint (a chair is ~0.5 m across)
WAIT_ZONE_M = 0.35  # the waiting row's footprint reaches this far beside and behind (camera side of) the chairs


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
    def floor_box(self, at: Pt, half_m: float) -> Rect:
        """Image box of the floor within half_m metres of the floor point `at` (a zone's footprint)."""
        h = self.height(at[1])
        dx, dy = half_m / PERSON_M * h / self.aspect, half_m / PERSON_M * h / DEPTH_STRETCH
        return (at[0] - dx, at[1] - dy, at[0] + dx, at[1] + dy)

    def zones(self) -> dict[str, dict]:
        """Zone id -> {kind, points[, person_height]}: floor footprints (where the feet or the seat are), normalised."""
        staff = _rect_pts(self.floor_box(self.staff_seat, SEAT_ZONE_M))
        service = _rect_pts(self.floor_box(self.citizen_seat, SEAT_ZONE_M))
        return {
            "staff-seat": {"kind": "staff_seat", "points": staff},
            "service-spot": {"kind": "service_spot", "points": service},
            "waiting": self.waiting_zone(),
            "door": {"kind": "motion", "points": self.door_zone()},
        }

    def waiting_zone(self) -> dict:
        """The waiting row's footprint: the chairs' floor and, in front of them, the floor behind their backs.

        The citizens sit facing the counter, away from the camera, so their feet and the front of
        their seats are on the far side of the chairs: higher in the picture, hidden behind the
        chair backs and the sitters. The person detector anchors a sitter whose legs are hidden at
        the lowest row it sees of them, their seat behind the chair back (monitor.detect.presence,
        anchor()). In a camera looking down 35-55 degrees that row is the floor 0.3-0.7 m in front of
        the chair, where the feet are; this camera looks down the room at ~22 degrees (the floor is
        foreshortened DEPTH_STRETCH = 2.5 times), so the seat, 0.27 standing heights up (SEAT_FRAC),
        is seen in front of ~1.1 m of floor and the footprint reaches up to the chair backs' tops,
        which is what outlining the row of chairs with their seats in this picture gives. Towards
        the camera only the chairs' own floor (WAIT_ZONE_M): nobody's feet are there.
        """
        boxes = [self.floor_box(s, WAIT_ZONE_M) for s in self.waiting_seats]
        top = min(y - (SEAT_FRAC + CHAIR_BACK_FRAC) * self.height(y) for _, y in self.waiting_seats)
        wait = (max(min(b[0] for b in boxes), 0.005), top, min(max(b[2] for b in boxes), 0.995), min(max(b[3] for b in boxes), 0.995))
        return {"kind": "waiting_area", "points": _rect_pts(wait),
                "person_height": [round(self.height(wait[3]), 4), round(self.height(wait[1]), 4)]}

    def door_zone(self) -> list[list[float]]:
        """The motion zone on the doorway and the floor in front of it."""
        d = self.door
        return _rect_pts((d[0] - 0.01, d[1] - 0.01, d[2] + 0.01, d[3] + 0.05))

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
        # someone walking is in a zone when their feet are (the development scenes' definition): the
        # door's, or the waiting row's footprint, which the lane in front of the chairs crosses
        self.zone_polys = {k: v["points"] for k, v in zones.items() if v["kind"] in ("motion", "waiting_area")}
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
