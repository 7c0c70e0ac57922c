"""What every zone detector shares (pure: no I/O, the clock is passed in): the zone as the detector sees
it (ZoneSpec), its state in one frame (ZoneState, with `since` backdating a change and Revisions of the
past), and SecondAggregator, which folds per-frame states into one sample per zone per second.

The detector itself is monitor/detect/presence.py (people found by a CNN on perspective-scaled tiles).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = ["KINDS", "SEAT_KINDS", "Revision", "SecondAggregator", "ZoneSpec", "ZoneState"]

SEAT_KINDS = ("staff_seat", "service_spot")
KINDS = (*SEAT_KINDS, "waiting_area", "motion")


@dataclass(frozen=True)
class ZoneSpec:
    """A zone as the detector needs it: normalised polygon, kind and perspective calibration."""

    id: str
    kind: str
    points: tuple[tuple[float, float], ...]
    person_height: tuple[float, float] | None = None
    seated: bool = True  # waiting areas and service spots: people sit there (see monitor.site.config.Zone.seated)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"zone {self.id!r}: kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        pts = tuple((float(x), float(y)) for x, y in self.points)
        if len(pts) < 3:
            raise ValueError(f"zone {self.id!r}: a polygon needs at least 3 points, got {len(pts)}")
        if not all(math.isfinite(v) and -0.01 <= v <= 1.01 for p in pts for v in p):
            raise ValueError(f"zone {self.id!r}: points must be normalised 0..1 coordinates")
        object.__setattr__(self, "points", pts)
        if self.person_height is not None:
            near, far = (float(v) for v in self.person_height)
            if not (0 < far <= 1 and 0 < near <= 1):
                raise ValueError(f"zone {self.id!r}: person_height values must be in (0, 1], got {self.person_height}")
            object.__setattr__(self, "person_height", (near, far))

    @classmethod
    def from_zone(cls, zone: Any) -> ZoneSpec:
        """Build from a monitor.site.config.Zone."""
        ph = tuple(zone.person_height) if zone.person_height is not None else None
        return cls(zone.id, zone.kind, tuple(tuple(p) for p in zone.points), ph,  # type: ignore[arg-type]
                   getattr(zone, "seated", True))


@dataclass(frozen=True)
class Revision:
    """A correction of the past: the zone held `count` more people during [start, end)."""

    start: float
    end: float
    count: float = 1.0


@dataclass(frozen=True)
class ZoneState:
    """One zone in one frame."""

    occupied: bool
    count: float  # seats: 0 or 1; waiting area: people estimate; motion: 0 or 1
    score: float  # seats: stationary-foreground fraction; waiting: people; motion: moving fraction
    since: float | None = None  # when `occupied` took its current value (backdated); None: not backdated
    revisions: tuple[Revision, ...] = ()  # corrections found this frame
    moved: float | None = None  # seats: the share of the seated body's place that motion covers; None: not measured


# ---------------------------------------------------------------- per-second samples


class SecondAggregator:
    """Folds per-frame ZoneStates into one sample per zone per whole second.

    `occupied` is the state at the end of the second and `count` the mean over it; `moved`, for zones
    that measure it, is its largest value in the second. Seconds are
    held for hold_s before they are returned, so transitions backdated by `since` and Revisions
    found within that time still reach them (math.inf: hold everything until flush()).

    A Revision that reaches further back than the held seconds corrects the seconds returned within the
    last correct_s too: corrections() gives them again, as they are now (a live worker sends them for the
    store to replace what it holds).
    """

    def __init__(self, hold_s: float = 15.0, correct_s: float = 0.0) -> None:
        if not hold_s >= 0:
            raise ValueError(f"hold_s must be >= 0, got {hold_s}")
        if not correct_s >= 0:
            raise ValueError(f"correct_s must be >= 0, got {correct_s}")
        self.hold_s = hold_s
        self.correct_s = correct_s
        self._seconds: dict[int, dict[str, list]] = {}  # second -> zone -> [occupied, count_sum, n, moved max]
        self._last: dict[str, bool] = {}
        self._emitted = -(2**62)  # seconds up to this one have been returned
        self._returned: dict[int, dict[str, list]] = {}  # the seconds returned within correct_s, as cells
        self._corrected: dict[int, set[str]] = {}  # of those, the zones a Revision changed since corrections()

    def add(self, now: float, states: dict[str, ZoneState]) -> list[tuple[int, dict[str, dict]]]:
        """Record one frame's states; returns the seconds now complete and out of the hold."""
        sec = int(math.floor(now))
        if sec > self._emitted:
            row = self._seconds.setdefault(sec, {})
            for zid, st in states.items():
                cell = row.setdefault(zid, [False, 0.0, 0, None])
                cell[0] = st.occupied
                cell[1] += st.count
                cell[2] += 1
                if st.moved is not None:
                    cell[3] = st.moved if cell[3] is None else max(cell[3], st.moved)
        for zid, st in states.items():
            if zid in self._last and st.occupied != self._last[zid] and st.since is not None:
                self._rewrite(zid, st.since, now, st.occupied)
            self._last[zid] = st.occupied
            for rev in st.revisions:
                self._revise(zid, rev)
        return self._emit(lambda s: s + 1 + self.hold_s <= now)

    def flush(self) -> list[tuple[int, dict[str, dict]]]:
        """Every second still held."""
        return self._emit(lambda s: True)

    def _rewrite(self, zid: str, since: float, now: float, occupied: bool) -> None:
        for s, row in self._seconds.items():
            if zid in row and since <= s + 0.5 <= now:
                cell = row[zid]
                cell[0], cell[1] = occupied, float(occupied) * cell[2]  # 0/1 zones: the count follows

    def _revise(self, zid: str, rev: Revision) -> None:
        for s, row in self._seconds.items():
            if zid in row and rev.start <= s + 0.5 < rev.end:
                _revise_cell(row[zid], rev)
        for s, row in self._returned.items():
            if zid in row and rev.start <= s + 0.5 < rev.end:
                _revise_cell(row[zid], rev)
                self._corrected.setdefault(s, set()).add(zid)

    def corrections(self) -> list[tuple[int, dict[str, dict]]]:
        """The seconds already returned that Revisions changed since the last call, each with the zones changed,
        as they are now (oldest first)."""
        out = [(s, {z: _sample(self._returned[s][z]) for z in sorted(zones)}) for s, zones in sorted(self._corrected.items())]
        self._corrected = {}
        return out

    def _emit(self, done) -> list[tuple[int, dict[str, dict]]]:  # noqa: ANN001 - predicate
        out = []
        for s in sorted(self._seconds):
            if not done(s):
                break
            row = self._seconds.pop(s)
            out.append((s, {z: _sample(c) for z, c in row.items()}))
            self._emitted = s
            if self.correct_s > 0:
                self._returned[s] = row
        # seconds go in ascending order: drop the oldest while out of correct_s (one awaiting corrections() stays)
        while self._returned and (s := next(iter(self._returned))) + self.correct_s <= self._emitted \
                and s not in self._corrected:
            del self._returned[s]
        return out


def _revise_cell(cell: list, rev: Revision) -> None:
    cell[1] = max(cell[1] + rev.count * cell[2], 0.0)
    cell[0] = True if rev.count > 0 else cell[1] / cell[2] >= 0.5


def _sample(cell: list) -> dict:
    """One zone's second as emitted: occupied, count, and moved where the zone measures it."""
    out = {"occupied": bool(cell[0]), "count": round(cell[1] / cell[2], 3)}
    if cell[3] is not None:
        out["moved"] = round(cell[3], 3)
    return out
