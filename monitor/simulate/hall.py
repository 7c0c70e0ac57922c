"""The varied simulator's office hall: scene parameters drawn from a seed, the world layout (metres) and its zones."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from monitor.simulate.camera3d import Pinhole, clip_to_unit, convex_hull

STAFF_BACK_M = 0.75  # staff chair behind the desk's centre line
CITIZEN_FRONT_M = 0.8  # citizen chair in front of it
DESK_DEPTH_M, DESK_H_M = 0.7, 0.76
ROW_GAP_M = 1.3  # between rows of waiting chairs
CHAIR_W_M = 0.55
FIRST_ROW_M = 3.0  # the farthest row of waiting chairs, in front of the desks
LANE_M = 1.75  # the walkway between the service chairs and the first row
SEAT_ZONE_M = 0.3  # half size of a seat's floor footprint
SEATED_TOP_M = 1.35  # top of a seated person's head (zone body boxes)
STANDING_M = 1.7


@dataclass(frozen=True)
class HallSpec:
    """Everything a seed decides about one simulated hall (see draw_spec)."""

    seed: int
    counters: int
    camera: Pinhole
    desk_y: float  # floor distance from the camera of the desk row's centre line
    counter_x: tuple[float, ...]  # x of each counter position
    rows: tuple[float, ...]  # y of each row of waiting chairs
    glass: bool  # glass screens on the desk between staff and citizen
    monitors: bool  # monitors on the desk in front of the staff
    ir: bool  # infrared night mode: grey, noisy
    start: str  # "open" (empty hall, staff at work) | "midmorning" | "restart" (everyone seated)
    standing_queue: float  # share of citizens who wait standing beside the service spots
    arrival_per_min: float
    passers_per_min: float
    mean_service_s: float
    mean_absence_gap_s: float
    light_steps_per_10min: float
    flicker_per_10min: float
    door_left: bool  # the entrance is on the left wall
    palette: int  # wall and floor colours

    def describe(self) -> str:
        c = self.camera
        return (f"{self.counters} counters, camera {c.height_m:.1f} m / {c.pitch_deg:.0f} deg / vfov {c.vfov_deg:.0f} deg "
                f"{c.size[0]}x{c.size[1]}, desks at {self.desk_y:.1f} m, {len(self.rows)} chair rows, start {self.start}, "
                f"{'glass ' if self.glass else ''}{'monitors ' if self.monitors else ''}{'IR ' if self.ir else ''}"
                f"standing queue {self.standing_queue:.0%}, {self.arrival_per_min:.1f} arrivals/min")


@dataclass(frozen=True)
class Chair:
    x: float
    y: float


@dataclass
class Hall:
    """World positions of everything in the hall, derived from a HallSpec."""

    spec: HallSpec
    staff_seats: list[Chair] = field(default_factory=list)
    service_seats: list[Chair] = field(default_factory=list)
    waiting_chairs: list[Chair] = field(default_factory=list)
    lane_y: float = 0.0
    near_y: float = 0.0  # nearest floor row visible at the image centre
    half_w: float = 0.0  # half the hall's width
    back_y: float = 0.0  # back wall

    @classmethod
    def of(cls, spec: HallSpec) -> Hall:
        cam = spec.camera
        hall = cls(spec)
        hall.near_y = cam.floor_y_range()[0]
        hall.back_y = spec.desk_y + STAFF_BACK_M + 1.0
        hall.half_w = max(cam.half_width_at(spec.desk_y) + 1.0, max(abs(x) for x in spec.counter_x) + 1.5)
        hall.lane_y = spec.desk_y - LANE_M
        hall.staff_seats = [Chair(x, spec.desk_y + STAFF_BACK_M) for x in spec.counter_x]
        hall.service_seats = [Chair(x, spec.desk_y - CITIZEN_FRONT_M) for x in spec.counter_x]
        for y in spec.rows:
            reach = cam.half_width_at(y) * 0.9
            n = int((reach - 0.7) / CHAIR_W_M)
            for i in range(max(n, 0)):
                off = 0.7 + (i + 0.5) * CHAIR_W_M
                hall.waiting_chairs += [Chair(-off, y), Chair(off, y)]
        hall.waiting_chairs.sort(key=lambda c: (-c.y, abs(c.x)))
        return hall

    def entrance(self) -> tuple[float, float]:
        """Where citizens come in: a door in the side wall, beside the walkway."""
        side = -1.0 if self.spec.door_left else 1.0
        return side * (self.spec.camera.half_width_at(self.lane_y) + 1.2), self.lane_y

    def staff_door(self) -> tuple[float, float]:
        """A door in the back wall, behind the last counter, where staff go when away."""
        return self.spec.counter_x[-1] + 1.2, self.back_y - 0.2

    def queue_spot(self, counter: int, place: int) -> tuple[float, float]:
        """Where the place-th person waiting standing for a counter stands: beside its service chair."""
        seat = self.service_seats[counter]
        side = 1.0 if counter % 2 == 0 else -1.0
        return seat.x + side * 0.85, seat.y - 0.25 - 0.55 * place

    def waiting_floor(self) -> list[tuple[float, float]]:
        """The waiting area's floor in world metres: the chair rows, from the near image edge to behind the first row."""
        top = self.spec.rows[0] + 0.7 if self.spec.rows else self.lane_y - 0.6
        near = max(0.3, self.near_y - 0.5)
        return [(-self.half_w, near), (self.half_w, near), (self.half_w, top), (-self.half_w, top)]

    def zones(self) -> list[dict]:
        """Zones in the development scenes' form: id, kind, counter, points (body area) and floor_points."""
        cam = self.spec.camera
        out = []
        for k, (staff, citizen) in enumerate(zip(self.staff_seats, self.service_seats), 1):
            for seat, kind, suffix in ((staff, "staff_seat", "staff"), (citizen, "service_spot", "citizen")):
                out.append({"id": f"counter{k}_{suffix}", "kind": kind, "counter": k,
                            "points": _body(cam, seat.x, seat.y, SEATED_TOP_M),
                            "floor_points": floor_polygon(cam, square(seat.x, seat.y, SEAT_ZONE_M))})
        rect = self.waiting_floor()
        corners = np.array([(x, y, z) for x, y in rect for z in (0.0, STANDING_M)])
        out.append({"id": "waiting", "kind": "waiting_area", "counter": None,
                    "points": clip_to_unit(convex_hull(cam.normalised(corners))),
                    "floor_points": floor_polygon(cam, rect)})
        return out


def square(x: float, y: float, r: float) -> list[tuple[float, float]]:
    return [(x - r, y - r), (x + r, y - r), (x + r, y + r), (x - r, y + r)]


def floor_polygon(cam: Pinhole, pts: list[tuple[float, float]]) -> list[list[float]]:
    return clip_to_unit([tuple(p) for p in cam.normalised(np.array([(x, y, 0.0) for x, y in pts]))])


def _body(cam: Pinhole, x: float, y: float, top: float) -> list[list[float]]:
    r = SEAT_ZONE_M + 0.05
    box = np.array([(x + dx, y + dy, z) for dx in (-r, r) for dy in (-r, r) for z in (0.0, top)])
    return clip_to_unit(convex_hull(cam.normalised(box)))


def _visible(cam: Pinhole, pts: list[tuple[float, float, float]], margin: float = 0.03) -> bool:
    uv = cam.normalised(np.array(pts))
    return bool(np.all(np.isfinite(uv)) and np.all((uv > margin) & (uv < 1 - margin)))


def draw_spec(seed: int, size: tuple[int, int] | None = None) -> HallSpec:
    """Scene parameters from a seed; redraws until the counters and at least one chair row are in view."""
    rng = np.random.default_rng([seed, 77])
    for _ in range(200):
        res = size or ((1280, 720) if rng.random() < 0.5 else (640, 360))
        cam = Pinhole(float(rng.uniform(2.8, 4.6)), float(rng.uniform(24, 46)), float(rng.uniform(44, 66)), res)
        spec = _try_layout(seed, cam, rng)
        if spec is not None:
            return spec
    raise ValueError(f"seed {seed}: no layout fits the camera")


def _try_layout(seed: int, cam: Pinhole, rng: np.random.Generator) -> HallSpec | None:
    near, _ = cam.floor_y_range()
    candidates = [y for y in np.arange(near + FIRST_ROW_M + 0.3, near + 14, 0.25)
                  if _visible(cam, [(0.0, y + STAFF_BACK_M, 1.45), (0.0, y - CITIZEN_FRONT_M, 0.0)], 0.04)]
    if not candidates:
        return None
    desk_y = float(rng.choice(candidates[: max(1, int(len(candidates) * 0.8))]))
    k = int(rng.integers(1, 5))
    spacing = float(rng.uniform(1.7, 2.6))
    x0 = float(rng.uniform(-0.6, 0.6))
    while k >= 1:
        xs = tuple(x0 + (i - (k - 1) / 2) * spacing for i in range(k))
        pts = [(x, desk_y + STAFF_BACK_M, 1.3) for x in xs] + [(x, desk_y - CITIZEN_FRONT_M, 0.0) for x in xs]
        if _visible(cam, pts, 0.05):
            break
        k, spacing = (k, spacing * 0.85) if spacing > 1.6 else (k - 1, float(rng.uniform(1.7, 2.4)))
    if k < 1:
        return None
    rows = tuple(float(y) for y in np.arange(desk_y - FIRST_ROW_M, near + 0.4, -ROW_GAP_M))
    if not rows:
        return None
    start = str(rng.choice(["open", "midmorning", "midmorning", "restart"]))
    return HallSpec(
        seed=seed, counters=k, camera=cam, desk_y=desk_y, counter_x=xs, rows=rows,
        glass=bool(rng.random() < 0.6), monitors=bool(rng.random() < 0.8), ir=bool(rng.random() < 0.15),
        start=start, standing_queue=float(rng.choice([0.0, 0.0, 0.3, 0.7])),
        arrival_per_min=float(rng.uniform(0.4, 0.9) * k), passers_per_min=float(rng.uniform(0.3, 1.5)),
        mean_service_s=float(rng.uniform(90, 200)), mean_absence_gap_s=float(rng.uniform(240, 720)),
        light_steps_per_10min=float(rng.uniform(0, 3)), flicker_per_10min=float(rng.uniform(0, 6)),
        door_left=bool(rng.random() < 0.5), palette=int(rng.integers(4)),
    )


def person_heights(cam: Pinhole, floor_points: list[list[float]]) -> list[float]:
    """[near, far] standing height / frame height at the floor polygon's lowest and highest rows."""
    vs = [p[1] for p in floor_points]
    return [round(cam.standing_height(max(vs)), 3), round(cam.standing_height(min(vs)), 3)]


def seat_distance(a: tuple[float, float], b: tuple[float, float]) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])
