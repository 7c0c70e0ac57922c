"""Who does what in the varied hall: staff, citizens (shared ticket queue, seated or standing), passers-by; planned once, queried by time."""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

import numpy as np

from monitor.simulate.figure import Pose
from monitor.simulate.hall import Chair, Hall

Pt = tuple[float, float]
STEP_S = 0.5  # planning resolution
STRIDE_M = 1.4  # floor covered by one walking cycle
CALL_REACT_S = (2.0, 6.0)  # from the call to standing up
WRAP_UP_S = (4.0, 12.0)  # staff between two citizens
AWAY_TOWARD = math.pi / 2  # heading of someone facing the counters (away from the camera)
TO_CAMERA = -math.pi / 2
AWAY_AT_START_P = 0.3  # per counter, when the video does not start with a restart
RESTART_MAX, MIDMORNING_MAX = 24, 12  # most people already waiting when the video starts (offices of 1-4 counters)


@dataclass
class Seg:
    """A stretch of one actor's time: walking a path at constant speed, or sitting/standing still."""

    t0: float
    t1: float
    kind: str  # "walk" | "sit" | "stand"
    path: tuple[Pt, ...]
    heading: float = AWAY_TOWARD
    desk: bool = False  # sitting with the hands on a desk (staff)


@dataclass
class Actor:
    id: str
    role: str  # "staff" | "citizen" | "passer"
    look: int
    segs: list[Seg] = field(default_factory=list)

    def walk(self, t0: float, path: tuple[Pt, ...], speed: float) -> float:
        length = sum(math.dist(a, b) for a, b in zip(path, path[1:]))
        t1 = t0 + max(length / speed, 0.5)
        self.segs.append(Seg(t0, t1, "walk", path))
        return t1

    def still(self, t0: float, kind: str, at: Pt, heading: float, desk: bool = False) -> None:
        self.segs.append(Seg(t0, math.inf, kind, (at,), heading, desk))

    def close(self, t: float) -> None:
        if self.segs and self.segs[-1].t1 == math.inf:
            self.segs[-1].t1 = t


@dataclass
class Citizen:
    actor: Actor
    ticket: str
    arrival_s: float
    seated: bool
    chair: Chair | None = None
    line: tuple[int, int] | None = None  # (counter, place) when waiting standing
    called_s: float | None = None
    counter: int | None = None  # 1-based
    service_start_s: float | None = None
    service_end_s: float | None = None
    exit_s: float | None = None


class Story:
    """The plan of one hall for [0, duration): actors with segments, calls, absences."""

    def __init__(self, hall: Hall, duration_s: float, rng: np.random.Generator) -> None:
        self.hall, self.duration, self.rng = hall, duration_s, rng
        spec = hall.spec
        self.actors: list[Actor] = []
        self.citizens: list[Citizen] = []
        self.calls: list[tuple[float, str, int]] = []  # (t, ticket, counter)
        self.absences: list[dict] = []
        self.tickets = int(rng.integers(1, 80))
        k = spec.counters
        self.staff = [self._new_actor("staff", f"staff{i + 1}") for i in range(k)]
        for i, a in enumerate(self.staff):
            seat = hall.staff_seats[i]
            a.still(-1e4, "sit", (seat.x, seat.y), TO_CAMERA, desk=True)
        self.busy_until = [-math.inf] * k  # the service spot is taken (or walked to) until then
        self.away_until = [-math.inf] * k
        self.next_absence = [float(rng.uniform(10, spec.mean_absence_gap_s)) for _ in range(k)]
        self.chair_taken: set[int] = set()
        self.line_taken: set[tuple[int, int]] = set()
        self.waiting: list[Citizen] = []  # FIFO
        self._prefill()
        self._run()

    # ------------------------------------------------------------------ planning
    def _new_actor(self, role: str, name: str) -> Actor:
        a = Actor(name, role, int(self.rng.integers(1 << 30)))
        self.actors.append(a)
        return a

    def _speed(self) -> float:
        return float(self.rng.uniform(0.95, 1.35))

    def _ticket(self) -> str:
        self.tickets += 1
        return f"A{self.tickets:03d}"

    def _prefill(self) -> None:
        """People already in the hall at t=0: mid-morning some, after a restart at 10:00 everyone seated."""
        start = self.hall.spec.start
        away = set()
        if start != "restart":  # a staff member already away when the video starts (back within minutes)
            for k in range(self.hall.spec.counters):
                if self.rng.random() < AWAY_AT_START_P:
                    self._absence(k, -float(self.rng.uniform(5, 40)), float(self.rng.uniform(150, 420)))
                    away.add(k)
        if start == "open":
            return
        spot_p, share, most = (1.0, self.rng.uniform(0.5, 0.85), RESTART_MAX) if start == "restart" else (0.6, self.rng.uniform(0.1, 0.4), MIDMORNING_MAX)
        n = min(int(len(self.hall.waiting_chairs) * share), int(self.rng.integers(most // 3, most + 1)))
        for _ in range(n):
            c = self._arrive(-float(self.rng.uniform(10, 400)), enter=False, standing=False)
            if c.chair is None:
                break
        earliest = min((c.arrival_s for c in self.citizens), default=0.0)
        served = []
        for k in range(self.hall.spec.counters):  # those being served came before everyone still waiting (FIFO)
            if k not in away and self.rng.random() < spot_p:
                begun = -float(self.rng.uniform(5, 0.8 * self.hall.spec.mean_service_s))
                arrival = min(begun - float(self.rng.uniform(40, 300)), earliest - float(self.rng.uniform(5, 60)))
                c = self._arrive(arrival, enter=False, standing=False)
                c.called_s = begun - float(self.rng.uniform(8, 20))
                self._serve(c, k, begun, walk=False)
                served.append(c)
        # called in the order they came: the k-th earliest arrival got the k-th call (each still before its call)
        for c, arrival in zip(sorted(served, key=lambda c: c.called_s), sorted(c.arrival_s for c in served)):
            c.arrival_s = arrival
        self.waiting.sort(key=lambda c: c.arrival_s)
        first = self.tickets - len(self.citizens)
        for i, c in enumerate(sorted(self.citizens, key=lambda c: c.arrival_s)):  # tickets in arrival order
            c.ticket = f"A{first + i + 1:03d}"

    def _arrive(self, t: float, enter: bool = True, standing: bool | None = None) -> Citizen:
        c = self._new_citizen(t)
        actor = c.actor
        self.citizens.append(c)
        if standing is None:
            standing = self.rng.random() < self.hall.spec.standing_queue
        free = self._free_chairs(c)
        door = self.hall.entrance()
        if not standing and free:
            i = int(self.rng.choice(free))
            self.chair_taken.add(i)
            chair = self.hall.waiting_chairs[i]
            c.chair = chair
            gap = (chair.x, chair.y + 0.65)
            t1 = actor.walk(t, (door, (door[0] * 0.8, self.hall.lane_y), (chair.x, self.hall.lane_y), gap, (chair.x, chair.y)),
                            self._speed()) if enter else t
            actor.still(t1, "sit", (chair.x, chair.y), AWAY_TOWARD)
        else:
            c.seated = False
            k, place = self._line_place()
            c.line = (k, place)
            self.line_taken.add(c.line)
            spot = self.hall.queue_spot(k, place)
            t1 = actor.walk(t, (door, (spot[0], self.hall.lane_y), spot), self._speed()) if enter else t
            actor.still(t1, "stand", spot, AWAY_TOWARD)
        self.waiting.append(c)
        return c

    def _new_citizen(self, t: float) -> Citizen:
        """A citizen walking in at t with the next ticket (the office simulator also gives them a field)."""
        return Citizen(self._new_actor("citizen", f"c{len(self.citizens) + 1:04d}"), self._ticket(), t, True)

    def _free_chairs(self, c: Citizen) -> list[int]:
        """Indices of the waiting chairs c may take."""
        return [i for i in range(len(self.hall.waiting_chairs)) if i not in self.chair_taken]

    def _next_for(self, k: int, t: float) -> Citizen | None:
        """Whom counter k calls at t: the first in the queue who has reached their chair or place."""
        return next((c for c in self.waiting if c.actor.segs[-1].t0 <= t), None)

    def _line_place(self) -> tuple[int, int]:
        k = self.hall.spec.counters
        best = min(range(k), key=lambda i: (sum(1 for (j, _) in self.line_taken if j == i), self.rng.random()))
        place = next(p for p in range(100) if (best, p) not in self.line_taken)
        return best, place

    def _release(self, c: Citizen) -> None:
        if c.chair is not None:
            self.chair_taken.discard(self.hall.waiting_chairs.index(c.chair))
        if c.line is not None:
            self.line_taken.discard(c.line)

    def _serve(self, c: Citizen, k: int, t: float, walk: bool = True) -> None:
        """c walks (if walk) from where they wait to counter k's chair at t, is served, and leaves."""
        a, seat, hall = c.actor, self.hall.service_seats[k], self.hall
        c.counter = k + 1
        if c in self.waiting:
            self.waiting.remove(c)
        if walk:
            a.close(t)
            here = a.segs[-1].path[-1]
            t = a.walk(t, (here, (here[0], hall.lane_y - 0.2), (seat.x, hall.lane_y), (seat.x, seat.y)), self._speed())
        else:
            a.segs.clear()
        self._release(c)
        c.service_start_s = t
        end = t + float(self.rng.triangular(40, self.hall.spec.mean_service_s, 3 * self.hall.spec.mean_service_s))
        a.segs.append(Seg(t, end, "sit", ((seat.x, seat.y),), AWAY_TOWARD))
        c.service_end_s = end
        door = hall.entrance()
        c.exit_s = a.walk(end, ((seat.x, seat.y), (seat.x + 0.5, hall.lane_y), door), self._speed())
        self.busy_until[k] = end + float(self.rng.uniform(*WRAP_UP_S))

    def _absence(self, k: int, t: float, length: float | None = None) -> None:
        a, seat, door = self.staff[k], self.hall.staff_seats[k], self.hall.staff_door()
        a.close(t)
        behind = (seat.x, seat.y + 0.5)
        path = ((seat.x, seat.y), behind, (door[0], behind[1]), door)
        out_end = a.walk(t, path, 1.1)
        if length is None:
            length = float(self.rng.choice([self.rng.uniform(40, 110), self.rng.uniform(130, 480)]))
        back_start = max(out_end, t + length - (out_end - t))
        back_end = a.walk(back_start, path[::-1], 1.1)
        a.still(back_end, "sit", (seat.x, seat.y), TO_CAMERA, desk=True)
        # the staff member is invisible between out_end and back_start: their walk segments cover only the walks
        self.absences.append({"counter": k + 1, "start_s": round(t, 2), "end_s": round(back_end, 2)})
        self.away_until[k] = back_end + 2.0
        self.next_absence[k] = back_end + float(self.rng.exponential(self.hall.spec.mean_absence_gap_s))

    def _passer(self, t: float) -> None:
        a = self._new_actor("passer", f"p{sum(1 for x in self.actors if x.role == 'passer') + 1:03d}")
        hall, door = self.hall, self.hall.entrance()
        far = (-door[0], door[1])
        kind = self.rng.integers(3)
        if kind == 0:  # along the walkway in front of the service chairs
            path = (door, (door[0] * 0.5, hall.lane_y + 0.1), far)
        elif kind == 1:  # down the central aisle, out under the camera
            path = (door, (0.0, hall.lane_y), (0.0, hall.near_y - 1.2))
        else:  # across in front of the nearest row of chairs
            y = hall.spec.rows[-1] - 0.7 if hall.spec.rows else hall.lane_y
            left = -hall.spec.camera.half_width_at(y) - 1.0
            path = ((left, y), (-left, y)) if self.rng.random() < 0.5 else ((-left, y), (left, y))
        a.walk(t, path, self._speed())

    def _run(self) -> None:
        spec, rng = self.hall.spec, self.rng
        arrive_at = float(rng.exponential(60 / spec.arrival_per_min))
        pass_at = float(rng.exponential(60 / spec.passers_per_min))
        t = 0.0
        while t < self.duration:
            while arrive_at <= t:
                self._arrive(arrive_at)
                arrive_at += float(rng.exponential(60 / spec.arrival_per_min))
            while pass_at <= t:
                self._passer(pass_at)
                pass_at += float(rng.exponential(60 / spec.passers_per_min))
            for k in range(spec.counters):
                free = t >= self.busy_until[k] and t >= self.away_until[k]
                if free and t >= self.next_absence[k]:
                    self._absence(k, t)
                elif free:
                    c = self._next_for(k, t)
                    if c is not None:
                        self.waiting.remove(c)
                        c.called_s = t
                        self.calls.append((t, c.ticket, k + 1))
                        self._serve(c, k, t + float(rng.uniform(*CALL_REACT_S)))
            t += STEP_S
        for a in self.actors:
            a.close(math.inf)

    # ------------------------------------------------------------------ queries
    def poses(self, t: float) -> list[tuple[Actor, Pose]]:
        """Everyone visible at t with their pose."""
        out = []
        for a in self.actors:
            starts = [s.t0 for s in a.segs]
            i = bisect.bisect_right(starts, t) - 1
            if i < 0 or t >= a.segs[i].t1:
                continue
            out.append((a, _pose(a, a.segs[i], t)))
        return out

    def ticket_at(self, t: float) -> tuple[str, int, bool]:
        """The ticket on the display, its counter, and whether it blinks (called in the last 4 s)."""
        i = bisect.bisect_right([c[0] for c in self.calls], t) - 1
        if i < 0:
            return f"A{self.tickets - len(self.calls) :03d}", 1, False
        tc, ticket, k = self.calls[i]
        return ticket, k, t - tc < 4.0


def _pose(a: Actor, seg: Seg, t: float) -> Pose:
    if seg.kind != "walk":
        x, y = seg.path[0]
        lean = 0.0
        if seg.kind == "sit":
            ph = (a.look % 997) / 997 * 2 * math.pi
            lean = 0.02 * math.sin(2 * math.pi * t / 9.0 + ph) + 0.05 * max(0.0, math.sin(2 * math.pi * t / 47.0 + 2 * ph)) ** 8
        return Pose(x, y, seg.heading, seg.kind, hands_on_desk=seg.desk, lean=lean)
    legs = [math.dist(p, q) for p, q in zip(seg.path, seg.path[1:])]
    total = sum(legs) or 1.0
    d = total * min(max((t - seg.t0) / (seg.t1 - seg.t0), 0.0), 1.0)
    walked, j = d, 0
    while j < len(legs) - 1 and walked > legs[j]:
        walked -= legs[j]
        j += 1
    (ax, ay), (bx, by) = seg.path[j], seg.path[j + 1]
    f = walked / legs[j] if legs[j] > 0 else 1.0
    return Pose(ax + (bx - ax) * f, ay + (by - ay) * f, math.atan2(by - ay, bx - ax), "walk", 2 * math.pi * d / STRIDE_M)
