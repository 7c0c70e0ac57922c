"""The simulated office: one hall with five counters in two fields, seen by a hall camera and two counter cameras.

The world is the varied simulator's hall (monitor/simulate/hall.py, metres on the floor plan);
the story is its Story with fields: each citizen comes for one field, waits on that field's side
of the hall and is called by a free counter of that field. Three Pinhole cameras look at the same
world: the hall camera over the waiting chairs, one counter camera over counters 1-2 and one over
counters 3-5. Zones are floor footprints (a seat's square on the floor, the waiting chairs'
floor), as the person detector tests a person's feet or seat.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from monitor.simulate.camera3d import Pinhole
from monitor.simulate.hall import SEAT_ZONE_M, Hall, HallSpec, floor_polygon, person_heights, square
from monitor.simulate.story import Citizen, Story

__all__ = ["CAMERAS", "COUNTERS", "FIELDS", "OfficeCamera", "OfficeCounter", "OfficeStory", "SimField",
           "build_office", "camera_zones", "view_of", "waiting_rect"]

SIZE = (640, 360)  # every camera's one stream (a camera's sub-stream size: detection runs on it)
DESK_Y = 9.0  # floor distance of the counter desks from the hall camera
SPACING_M = 2.2  # between neighbouring counters
FIRST_CALL_S = (12.0, 40.0)
PREFILL = (4, 8)  # citizens already waiting at the start: a short video still has a service at every counter


@dataclass(frozen=True)
class SimField:
    """A field (lĩnh vực): its slug, names in Vietnamese and English, and the ticket letter."""

    id: str
    name: str
    name_en: str
    letter: str


@dataclass(frozen=True)
class OfficeCounter:
    """A counter of the simulated office: index in the hall (0-based), id, display name, field, camera."""

    index: int
    id: str
    name: str
    field: str
    camera: str


@dataclass(frozen=True)
class OfficeCamera:
    id: str
    name: str
    camera: Pinhole


FIELDS = (
    SimField("tu-phap", "Tư pháp – hộ tịch", "Justice – civil status", "A"),
    SimField("dia-chinh", "Địa chính – xây dựng", "Land – construction", "B"),
)
COUNTERS = (
    OfficeCounter(0, "quay-1", "Quầy 1 – Tư pháp", "tu-phap", "quay-a"),
    OfficeCounter(1, "quay-2", "Quầy 2 – Tư pháp", "tu-phap", "quay-a"),
    OfficeCounter(2, "quay-3", "Quầy 3 – Địa chính", "dia-chinh", "quay-b"),
    OfficeCounter(3, "quay-4", "Quầy 4 – Địa chính", "dia-chinh", "quay-b"),
    OfficeCounter(4, "quay-5", "Quầy 5 – Địa chính", "dia-chinh", "quay-b"),
)
COUNTER_X = tuple((c.index - 2) * SPACING_M for c in COUNTERS)
CAMERAS = (
    OfficeCamera("sanh", "Sảnh chờ", Pinhole(3.6, 33.0, 58.0, SIZE)),
    OfficeCamera("quay-a", "Camera quầy 1–2", Pinhole(3.0, 42.0, 62.0, SIZE, x_m=-3.3, y_m=DESK_Y - 2.9)),
    OfficeCamera("quay-b", "Camera quầy 3–5", Pinhole(3.0, 42.0, 62.0, SIZE, x_m=1.1, y_m=DESK_Y - 2.9)),
)
HALL_CAMERA = "sanh"
# The field's side of the hall: tu-phap waits left of the centre aisle, dia-chinh right of it.
SIDE = {"tu-phap": -1.0, "dia-chinh": 1.0}


def build_office(seed: int, duration_s: float) -> tuple[Hall, OfficeStory]:
    """The hall and its story for a seed (deterministic)."""
    rng = np.random.default_rng([seed, 31])
    cam = next(c.camera for c in CAMERAS if c.id == HALL_CAMERA)
    near, _ = cam.floor_y_range()
    rows = tuple(float(y) for y in np.arange(DESK_Y - 3.0, near + 0.4, -1.3))
    spec = HallSpec(
        seed=seed, counters=len(COUNTERS), camera=cam, desk_y=DESK_Y, counter_x=COUNTER_X, rows=rows,
        glass=False, monitors=False, ir=False, start="midmorning", standing_queue=0.0,
        arrival_per_min=float(rng.uniform(2.6, 3.2)), passers_per_min=0.3,
        mean_service_s=float(rng.uniform(45, 60)), mean_absence_gap_s=float(rng.uniform(400, 700)),
        light_steps_per_10min=1.0, flicker_per_10min=1.0, door_left=True, palette=int(rng.integers(4)),
    )
    hall = Hall.of(spec)
    return hall, OfficeStory(hall, duration_s, np.random.default_rng([seed, 32]))


def view_of(hall: Hall, camera_id: str) -> Hall:
    """The same hall as camera_id sees it (the renderer draws hall.spec.camera's picture)."""
    cam = next(c.camera for c in CAMERAS if c.id == camera_id)
    view = replace(hall)  # a shallow copy: the chairs are shared, only the camera differs
    view.spec = replace(hall.spec, camera=cam)
    return view


class OfficeStory(Story):
    """The varied Story with fields: a citizen waits on their field's side and only its counters call them."""

    def __init__(self, hall: Hall, duration_s: float, rng: np.random.Generator) -> None:
        self.field_of: dict[str, str] = {}  # citizen actor id -> field id
        super().__init__(hall, duration_s, rng)
        self._number_by_field()

    def _number_by_field(self) -> None:
        """Tickets per field in arrival order (A001.. and B001..), as a kiosk with one button per field prints them."""
        letters = {f.id: f.letter for f in FIELDS}
        count = dict.fromkeys(letters, 0)
        renamed = {}
        for c in sorted(self.citizens, key=lambda c: c.arrival_s):
            fid = self.field_of[c.actor.id]
            count[fid] += 1
            new = f"{letters[fid]}{count[fid]:03d}"
            renamed[c.ticket] = new
            c.ticket = new
        self.calls = [(t, renamed.get(ticket, ticket), k) for t, ticket, k in self.calls]

    def _prefill(self) -> None:
        """A few citizens already seated when the video starts, every officer at the desk: the counters call at once."""
        for _ in range(int(self.rng.integers(PREFILL[0], PREFILL[1] + 1))):
            self._arrive(-float(self.rng.uniform(10, 300)), enter=False, standing=False)
        self.waiting.sort(key=lambda c: c.arrival_s)
        # each officer finishes the previous citizen's papers first: the first calls come after the analysers'
        # 10 s in-progress grace (monitor/counters/analyze.py), so every service in the video counts as served
        self.busy_until = [float(self.rng.uniform(*FIRST_CALL_S)) for _ in COUNTERS]

    def _new_citizen(self, t: float) -> Citizen:
        weights = np.array([sum(1 for c in COUNTERS if c.field == f.id) for f in FIELDS], float)
        field = FIELDS[int(self.rng.choice(len(FIELDS), p=weights / weights.sum()))]
        actor = self._new_actor("citizen", f"c{len(self.citizens) + 1:04d}")
        self.field_of[actor.id] = field.id
        return Citizen(actor, f"t{len(self.citizens) + 1}", t, True)  # numbered per field once planned

    def _free_chairs(self, c: Citizen) -> list[int]:
        side = SIDE[self.field_of[c.actor.id]]
        return [i for i, ch in enumerate(self.hall.waiting_chairs) if i not in self.chair_taken and ch.x * side > 0]

    def _next_for(self, k: int, t: float) -> Citizen | None:
        field = COUNTERS[k].field
        return next((c for c in self.waiting if c.actor.segs[-1].t0 <= t and self.field_of[c.actor.id] == field), None)


def waiting_rect(hall: Hall, field: str) -> list[tuple[float, float]]:
    """A field's waiting floor in world metres: its side of the hall's chair rows."""
    (x0, y0), (x1, _), (_, y1), _ = hall.waiting_floor()
    side = SIDE[field]
    left, right = (x0, 0.0) if side < 0 else (0.0, x1)
    return [(left, y0), (right, y0), (right, y1), (left, y1)]


def camera_zones(hall: Hall, camera_id: str) -> list[dict]:
    """The cameras.yaml zones of one camera: floor footprints in its picture."""
    cam = next(c.camera for c in CAMERAS if c.id == camera_id)
    if camera_id == HALL_CAMERA:
        out = []
        for f in FIELDS:
            pts = floor_polygon(cam, waiting_rect(hall, f.id))
            out.append({"id": f"cho-{f.id}", "kind": "waiting_area", "points": pts, "person_height": person_heights(cam, pts)})
        return out
    out = []
    for c in COUNTERS:
        if c.camera != camera_id:
            continue
        staff, citizen = hall.staff_seats[c.index], hall.service_seats[c.index]
        out.append({"id": f"{c.id}-staff", "kind": "staff_seat",
                    "points": floor_polygon(cam, square(staff.x, staff.y, SEAT_ZONE_M))})
        out.append({"id": f"{c.id}-citizen", "kind": "service_spot",
                    "points": floor_polygon(cam, square(citizen.x, citizen.y, SEAT_ZONE_M))})
    return out


def inside(rect: list[tuple[float, float]], x: float, y: float) -> bool:
    """Whether floor point (x, y) lies in an axis-aligned world rectangle."""
    xs, ys = [p[0] for p in rect], [p[1] for p in rect]
    return min(xs) <= x < max(xs) and min(ys) <= y < max(ys)


def seconds(duration_s: float) -> range:
    return range(int(math.ceil(duration_s)))
