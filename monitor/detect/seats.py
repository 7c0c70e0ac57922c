"""One seat's state (staff seat, service spot) from the sightings on it: occupied or not, and since when (pure).

The rules come from monitor.detect.presence's PresenceParams (its docstring gives the definitions);
`SeatRules` names the fields used here.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

import cv2
import numpy as np

from monitor.detect.looks import iou, same_look
from monitor.detect.occupancy import ZoneSpec
from monitor.detect.persons import Detection

__all__ = ["Seat", "SeatRules", "Sighting", "place_hits", "seat_cost", "seat_step", "turn_off", "turn_on"]


class SeatRules(Protocol):
    """The constants of a seat's rules (PresenceParams has them, with their reasons)."""

    on_s: float
    off_s: float
    window_s: float
    rejoin_s: float
    off_needs_motion: bool
    off_still_s: float
    side_h: float
    below_h: float
    above_h: float
    on_place_iou: float | None
    on_gap_misses: int | None


class Sighting(NamedTuple):
    """Someone found on a seat at one analysis."""

    t: float
    box: Detection | None  # None where the caller gave none
    look: np.ndarray | None  # its content then (looks.look); None where the caller gave none
    missed_before: int  # the analyses that found nobody on the seat just before it


@dataclass
class Seat:
    """A staff seat or service spot: its footprint, its sightings and its state."""

    spec: ZoneSpec
    poly: np.ndarray  # footprint in frame-height units (x * aspect, y), float32 for pointPolygonTest
    box: tuple[float, float, float, float]  # its bounding box in the same units
    h: float  # standing height at the footprint
    tiles: set[int] = field(default_factory=set)
    occupied: bool = False
    since: float = 0.0
    seen: bool = False  # analysed at least once
    missed: bool = False  # found empty once all its tiles had run (else occupied since observation began)
    last_hit: float = -math.inf
    misses_since_hit: int = 0
    hits: deque[Sighting] = field(default_factory=deque)  # recent sightings
    uncertain: bool = True
    score: float = 0.0
    last_box: Detection | None = None  # the person at the last sighting
    stirred: bool = True  # motion covered stirred_fraction of last_box since the last sighting
    last_look: np.ndarray | None = None  # last_box's content (looks.look)
    off_look: np.ndarray | None = None  # how its person looked when it last turned off (at `since`)
    on_look: np.ndarray | None = None  # last_look when it last turned on: who sat down


def seat_cost(s: Seat, x: float, y: float, p: SeatRules) -> float | None:
    """Distance (standing heights) from an anchor to a seat's footprint; None when too far."""
    if cv2.pointPolygonTest(s.poly, (x, y), False) >= 0:
        return 0.0
    x0, y0, x1, y1 = s.box
    dx = max(x0 - x, 0.0, x - x1) / s.h
    above = max(y0 - y, 0.0) / s.h
    below = max(y - y1, 0.0) / s.h
    if dx > p.side_h or below > p.below_h or above > p.above_h:
        return None
    return dx + below + 0.5 * above  # hidden legs are common: rows above cost less


def seat_step(s: Seat, now: float, hit: bool, p: SeatRules, look_kept: bool = False,
              box: Detection | None = None, seen: np.ndarray | None = None) -> None:
    """One analysis of a seat (hit: someone found on it): turns it on or off by the rules. look_kept: its
    person's last box still shows what it showed at their last sighting (PresenceParams.hold_look).
    box: the person found (hit), for the on rule's one place (on_place_iou); seen: its content now (looks.look),
    for the on rule's gaps (on_gap_misses)."""
    s.seen = True
    if hit:
        s.hits.append(Sighting(now, box, seen, s.misses_since_hit))
        s.last_hit, s.misses_since_hit = now, 0
    else:
        s.misses_since_hit += 1
    while s.hits and s.hits[0].t < now - p.window_s:
        s.hits.popleft()
    if not s.occupied:
        same = place_hits(s, p)
        if len(same) >= 2 and same[-1] - same[0] >= p.on_s:
            off = s.since
            turn_on(s, same[0])
            if (s.off_look is not None and s.last_look is not None and same[0] - off <= p.rejoin_s
                    and same_look(s.off_look, s.last_look)):
                s.since = off  # the same person lost for seconds: they never left
        s.uncertain = bool(s.hits)
    else:
        long_unseen = now - s.last_hit >= p.off_still_s
        left = long_unseen or ((s.stirred or not p.off_needs_motion) and not look_kept)
        if now - s.last_hit >= p.off_s and s.misses_since_hit >= 2 and left:
            turn_off(s)
            s.hits.clear()
        s.uncertain = not hit


def place_hits(s: Seat, p: SeatRules) -> list[float]:
    """The times of the recent sightings at the place of the last one: their boxes overlap its box by
    on_place_iou (IoU) or more. Sightings without a box count wherever they were, as all do with
    on_place_iou None. On a service spot, two of them with on_gap_misses analyses or more that missed
    between them, and that do not look alike (looks.same_look), are two people passing: only those after
    the last such gap count."""
    last = s.hits[-1].box if s.hits else None
    if last is None or p.on_place_iou is None:
        same = list(s.hits)
    else:
        same = [h for h in s.hits if h.box is None or h.box is last or iou(h.box, last) >= p.on_place_iou]
    if p.on_gap_misses is not None and s.spec.kind == "service_spot":
        for k in range(len(same) - 1, 0, -1):
            a, b = same[k - 1], same[k]
            missed = sum(h.missed_before for h in s.hits if a.t < h.t <= b.t)
            if (missed >= p.on_gap_misses and a.look is not None and b.look is not None
                    and not same_look(a.look, b.look)):
                same = same[k:]
                break
    return [h.t for h in same]


def turn_on(s: Seat, first: float) -> None:
    """Occupied from the first sighting (first); from the first frame when its first analyses found it occupied."""
    s.occupied, s.since = True, first if s.missed else 0.0
    s.on_look = s.last_look


def turn_off(s: Seat) -> None:
    """Empty from just after the last sighting; how its person looked then is kept (rejoin_s)."""
    s.occupied, s.since = False, s.last_hit + 0.5
    s.off_look = s.last_look
