"""Zone presence from a CNN person detector (pure: the frame and the clock are passed in).

Definitions (the zone editor and the README say the same):
- A zone is a floor footprint. A person is in a zone when their anchor lies in it: the bottom
  centre of their box (the feet), except where a desk, a monitor or a chair back hides the lower
  body: a box shorter than a seated person (SEATED_FIT standing heights) has its anchor lowered
  to where the seat of a person with that head row would be. Seats also accept anchors up to
  `above_h` standing heights above their footprint. For the waiting areas' count the seat lies
  `sitting_head_h` (0.73) standing heights below the head top, as measured on seated citizens; the
  tiles' cells and the seats keep SEATED_FIT (clerks lean to their desk, and the cells are sized so).
- Each person goes to at most one zone: seats take the nearest anchors first, one person each.
- A seat (staff_seat, service_spot) is occupied when someone has been found on it in at least
  two analyses over at least ON_S seconds; it is empty again when nobody has been found on it for
  OFF_S seconds (and at least two analyses), motion has crossed their last box and that box no
  longer shows what it showed when they were last found (`hold_look`, for a sighting that looked
  like the person who sat down). A sighting away from the last one that motion covers (someone rising
  and walking off) does not replace that last still box (`moving_keeps_stirred`). Transitions are
  backdated (`since`) to the first / last sighting, so per-second figures do not lag; a seat occupied
  at its first analyses is occupied from the first frame (a restarted worker does not date everyone
  seated from their tile's turn).
  A seat that turns on again within `rejoin_s` of turning off, with someone who looks like the
  person it lost, is dated back over the gap: it was never empty.
- count of a waiting area: the people whose anchor lies in it and who are not on a seat, walking
  or still. The area is searched at two scales: tiles sized for standing people, swept together,
  and tiles sized for seated ones (a seated crowd seen from behind is too small for the model in the
  first), which report only people shorter than STANDING_BOX standing heights, while the standing
  scale reports only boxes at least `standing_min_box` standing heights tall; a short box it leaves
  out makes the seated-scale tile of its place due next. Seated-scale boxes scoring from `low_score`
  up to `area_min_score` count too where their box differs from the hall's median picture of the last
  minutes (someone came in; an empty chair scoring as low was there all along, monitor.detect.reference),
  or where it differs from that picture and looks as a counted person did when a sweep took them for gone
  (`vacated_back`: someone had stood in front of them; they are still there),
  unless a person found already covers over `low_overlap` of them (up to `behind_overlap` when their
  head shows above that person's: someone in the row behind). The seated-scale tiles see the crop and its
  mirror image, each of the model's anchors scoring the mean of the two (`seated_mirrored`). In a full hall (the
  count at `full_per_tile` people per seated-scale tile) the seated-scale tiles are finer (`full_seated_ratio`),
  each taking over the sightings in its cell, until the count falls `full_hall_off` below. A seated-scale sighting that a
  sweep drops because its box changed makes its tile due again. An area marked as one where nobody sits
  (`seated` false) has no seated-scale tiles. Between two sweeps, the
  standing-scale boxes move with the optical flow of the points inside them (given the grey frame):
  a walker leaving the area stops counting when they leave, not at the next sweep. Someone a sweep
  loses is kept for a few seconds where a weaker box lies at the place they were followed to (`carry_score`),
  or while someone else found nearer the camera covers their box (`behind_cover`: they walked in front).
  Feet the picture cuts off at its bottom edge are taken to be at that edge.
- With a waiting area, WALKING_ZONE counts the people walking anywhere in the picture (moving blobs
  of a person's size outside the seats, monitor.detect.walkers): the start of a citizen's walk in.

Cost: the detector runs on at most `calls_per_s` tiles a second (see monitor.detect.tiles), plus
`seated_calls_per_s` for the seated-scale waiting-area tiles, which have their own budget so that
seats keep theirs (and all run once at start). A tile is due sooner when one of its seats is
uncertain (the last analysis disagreed with the state, or the seat has not been seen yet), or
when motion touched it since its last analysis.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from monitor.detect.occupancy import SEAT_KINDS, Revision, ZoneSpec, ZoneState
from monitor.detect.persons import Detection, PersonModel, suppress
from monitor.detect.looks import HOLD_IOU, covers, flat_lut, grey_box, iou, likeness, look, same_look
from monitor.detect.presence_params import PresenceParams
from monitor.detect.noise import NoisyMean
from monitor.detect.reference import HallMedian, Vacated
from monitor.detect.seats import Seat, place_hits, seat_cost, seat_step, turn_off, turn_on
from monitor.detect.tiles import (SEATED_FIT, SEATED_RATIO, Perspective, Tile, cell_overlaps, height_factor, plan_tiles,
                                  walker_factor)
from monitor.detect.walkers import WALKING_ZONE, Walkers

__all__ = ["PersonOccupancy", "PresenceParams"]

log = logging.getLogger(__name__)

# A box at least this many standing heights tall is a person standing: seated people show 0.5-0.65
# (SEATED_FIT), standing ones about 1.0, so 0.8 lies between with room for boxes cut a little short.
STANDING_BOX = 0.8
# The schedule, the token budget and the seat timers compare differences of frame times with periods
# that are whole multiples of a frame interval (2 s = 10 frames at 5 fps). Unix times (the live
# worker) carry ~2e-7 s of rounding, file times from 0 (`onestop analyze`) almost none, so the same
# frames fell on different sides of those boundaries and the two paths disagreed by seconds. Times
# are therefore taken from the first frame, rounded to this step: both paths compute the same.
CLOCK_STEP_S = 1e-3
# A seated-scale sighting counted for the first time is dated back (backdate_found) to the last time motion
# covered this share of its box: sitting down moves over the whole body, but a change map, of a dim or
# heavily compressed picture above all, catches only parts of it; a later motion over as much of the box
# (a passer-by, a fidget) only dates them later, never before they came.
BACKDATE_COVER = 0.25
# A standing-scale box in a waiting area counts for the height check of a camera without staff seats (walker_factor)
# when motion covered at least WALKER_COVER of it in the last WALKER_MOTION_S: someone walking, whose box is their
# whole standing body (seated people are still, or stir only in part of their box). The median of such boxes, in
# the calibration's standing heights, with the markers right: 1.04 and 1.02 in the development offices, 1.02 and
# 1.01 in two halls pasted from them, 1.04 on PETS S2L1, 1.08 in my 10-minute seed 2 (58-531 boxes each; with 0.2
# instead, 0.95 in office-4c and 0.91 in the pasted halls: seated people stirring).
WALKER_COVER = 0.4
WALKER_MOTION_S = 0.5
# head tops over the staff seats kept for height_check: the last ~15 minutes of one seat's tile at a look every 2 s,
# or a few minutes of a counter row's
HEADS_KEPT = 500


def _share(changed: np.ndarray, d: Detection) -> float:
    """The share of a box (normalised) that a change map (uint8 0/255) covers, in the map's pixels."""
    x0, y0, x1, y1 = grey_box(d, changed.shape)
    return cv2.countNonZero(changed[y0:y1, x0:x1]) / max((x1 - x0) * (y1 - y0), 1)


def _covered_since(times: np.ndarray) -> float:
    """The last time BACKDATE_COVER of a box's pixels were covered, from when each pixel last was (-inf: never)."""
    flat = times.ravel()
    k = flat.size - max(1, math.ceil(BACKDATE_COVER * flat.size))
    return float(np.partition(flat, k)[k])


def _seen_as(g: Detection, now_look: np.ndarray, known: Sequence[tuple[Detection, np.ndarray]]) -> bool:
    """True when g (looking now_look) is one of the known (box, look) pairs: overlapping it by HOLD_IOU, looking alike."""
    return any(iou(g, b) >= HOLD_IOU and same_look(then, now_look) for b, then in known)


def _once(frame: Callable[[], np.ndarray]) -> Callable[[], np.ndarray]:
    """frame, called at most once: later calls return the first call's picture."""
    got: list[np.ndarray] = []

    def get() -> np.ndarray:
        if not got:
            got.append(frame())
        return got[0]
    return get


@dataclass
class _TileState:
    tile: Tile
    seats: bool  # a tile of the seats' plan (else of the waiting areas')
    seated_scale: bool = False  # a waiting-area tile sized for seated people: it reports only them
    looks: list[np.ndarray] = field(default_factory=list)  # seated-scale: each found person's box as it looked
    counted: list[Detection] = field(default_factory=list)  # seated-scale: the sightings the last check kept
    misses: list[int] = field(default_factory=list)  # seated-scale: analyses in a row that missed each sighting
    stirred: list[bool] = field(default_factory=list)  # seated-scale: motion over each sighting since it was seen
    px: tuple[int, int, int, int] = (0, 0, 0, 0)  # the tile in motion-map pixels
    last_run: float = -math.inf
    moved: bool = True
    found: list[Detection] = field(default_factory=list)
    points: list[np.ndarray | None] = field(default_factory=list)  # standing scale: each box's points to follow (grey px)
    short: list[Detection] = field(default_factory=list)  # standing scale: the short boxes it left to the seated scale
    firm: list[float] = field(default_factory=list)  # standing scale: when each box's person last scored area_min_score
    weak: list[Detection] = field(default_factory=list)  # standing scale: the last run's boxes from carry_score up
    hinted: bool = False  # seated scale: a standing-scale sweep saw someone short appear in its cell

    def keep(self, d: Detection, firm: float) -> None:
        """Count a box this tile's last run did not find firmly (carried or taken after the sweep), unfollowed."""
        self.found.append(d)
        self.firm.append(firm)
        self.points.append(None)

    def unconfirmed(self) -> list[Detection]:
        """Seated scale: the sightings found that no counted one overlaps by HOLD_IOU (not checked by a sweep yet)."""
        return [d for d in self.found if not any(iou(d, c) >= HOLD_IOU for c in self.counted)]


class PersonOccupancy:
    """Presence (seats), people count (waiting areas) and motion per zone of one camera."""

    def __init__(
        self,
        zones: Sequence[ZoneSpec],
        aspect: float,
        params: PresenceParams = PresenceParams(),
        model: PersonModel | None = None,
        masks: Sequence[Sequence[tuple[float, float]]] = (),
    ) -> None:
        if not aspect > 0:
            raise ValueError(f"aspect must be > 0, got {aspect}")
        ids = [z.id for z in zones]
        if len(set(ids)) != len(ids):
            raise ValueError(f"zone ids must be unique, got {ids}")
        self.aspect = float(aspect)
        self.params = params
        self.zones = list(zones)
        self.persp = Perspective.from_zones(self.zones)
        self._calibrated = any(z.person_height is not None for z in self.zones)  # else persp is a default camera's
        seats = [self._search_region(z) for z in self.zones if z.kind in SEAT_KINDS]
        areas = [list(z.points) for z in self.zones if z.kind == "waiting_area"]
        seated_areas = [list(z.points) for z in self.zones if z.kind == "waiting_area" and z.seated]
        self.model = model if model is not None or not (seats or areas) else PersonModel()
        # seats and waiting areas get a plan each: seated people are smaller and need larger scales
        self.tiles = [_TileState(t, True) for t in plan_tiles(seats, self.persp, aspect, SEATED_RATIO, SEATED_FIT)]
        self.tiles += [_TileState(t, False) for t in plan_tiles(areas, self.persp, aspect, params.area_ratio)]
        # the seated-scale plans: the usual one (False) and, for full halls, the finer one (True; full_per_tile)
        self._seated_plans: dict[bool, list[Tile]] = {}
        # the waiting count that makes the hall full (full_per_tile people per tile of the usual plan); None: no finer plan
        self._full_at: int | None = None
        if params.area_seated_ratio is not None:
            seated = plan_tiles(seated_areas, self.persp, aspect, params.area_seated_ratio, SEATED_FIT)
            self.tiles += [_TileState(t, False, seated_scale=True) for t in seated]
            self._seated_plans[False] = seated
            if params.full_per_tile is not None and seated:
                self._seated_plans[True] = plan_tiles(seated_areas, self.persp, aspect, params.full_seated_ratio, SEATED_FIT)
                self._full_at = max(1, round(params.full_per_tile * len(seated)))
        self._full = False  # the finer plan in use
        self._waiting = 0  # the people counted in the waiting areas at the last states
        self._sweep = [i for i, ts in enumerate(self.tiles) if not ts.seats and not ts.seated_scale]  # swept together
        self.seats = [self._seat(z) for z in self.zones if z.kind in SEAT_KINDS]
        self.areas = {z.id: self._poly(z.points) for z in self.zones if z.kind == "waiting_area"}
        self._standing_only = [self.areas[z.id] for z in self.zones if z.kind == "waiting_area" and not z.seated]
        self._seated_areas = [self.areas[z.id] for z in self.zones if z.kind == "waiting_area" and z.seated]
        # standing-scale tiles leave short boxes to the seated scale, or where nobody sits drop them
        self._drop_short = params.area_seated_ratio is not None or bool(self._standing_only)
        self.masks = [self._poly(m) for m in masks]
        self.motion_zones = {z.id: -math.inf for z in self.zones if z.kind == "motion"}
        self._motion_masks: dict[str, np.ndarray] = {}
        self._walkers: Walkers | None = None  # with a waiting area: people walking anywhere (arrivals start there)
        self._shape: tuple[int, int] | None = None
        self._tokens = params.max_burst
        # one pass over the seated-scale tiles at start: a restarted worker learns the seated crowd at once
        self._seated_tokens = float(sum(ts.seated_scale for ts in self.tiles))
        self._last: float | None = None
        self._t0: float | None = None  # the first frame's time: internal times count from it (CLOCK_STEP_S)
        self._dets: list[Detection] = []  # the latest people found by the seats' tiles
        self._area_dets: list[Detection] = []  # ... and by the waiting areas' tiles
        self._hidden: list[Detection] = []  # the boxes the last sweep's _behind carried (left unfollowed)
        self._prev_grey: np.ndarray | None = None
        self._lut: np.ndarray | None = None  # flat_lut of the frame being analysed
        # the hall's usual picture, against which low-scoring seated-scale boxes are checked
        # (and against which a low sighting on an empty service spot is checked: spot_came_in)
        low_areas = params.low_score is not None and params.area_seated_ratio is not None and bool(seated_areas)
        sat_spots = params.spot_came_in and any(self._sits(j) for j in range(len(self.seats)))
        self._hall = (HallMedian(params.reference_every_s, params.reference_keep, params.reference_min)
                      if low_areas or sat_spots else None)
        self._grey: np.ndarray | None = None  # the grey frame of this update
        # in a noisy picture the seated-scale crops come from the mean of the last frames
        self._still = NoisyMean(params.noisy_level, params.noisy_alpha) if params.noisy_level is not None else None
        # where counted seated-scale sightings went: the median shows them there for half its window
        self._left = Vacated(params.reference_every_s * params.reference_keep / 2)
        # when motion last covered each pixel of the change map (backdate_found), and the seated-scale sightings
        # counted for the first time since the last states, each with the time it is dated back to
        self._motion_at: np.ndarray | None = None
        self._counted_at: np.ndarray | None = None  # ... and when a person counted in the waiting areas last covered it
        self._found_late: list[tuple[Detection, float, float]] = []
        # head tops over the staff seats, in standing heights above their footprints (height_check), the latest
        self._heads: deque[float] = deque(maxlen=HEADS_KEPT)
        # without staff seats, the heights of walkers' boxes in the waiting areas instead (WALKER_COVER), the latest
        self._staff_seats = any(z.kind == "staff_seat" for z in self.zones)
        self._walker_check = bool(self.areas) and not self._staff_seats
        self._walker_heights: deque[float] = deque(maxlen=HEADS_KEPT)

    # -------------------------------------------------------------- setup

    def _poly(self, points: Sequence[tuple[float, float]]) -> np.ndarray:
        return np.array([(x * self.aspect, y) for x, y in points], np.float32)

    def _search_region(self, z: ZoneSpec) -> list[tuple[float, float]]:
        """Where a zone's anchors may lie: its footprint, stretched upwards for seats (hidden legs)."""
        if z.kind not in SEAT_KINDS:
            return list(z.points)
        ys = [p[1] for p in z.points]
        up = self.params.above_h * self.persp.height(min(ys))
        return list(z.points) + [(x, y - up) for x, y in z.points]

    def _seat(self, z: ZoneSpec) -> Seat:
        poly = self._poly(z.points)
        box = (float(poly[:, 0].min()), float(poly[:, 1].min()), float(poly[:, 0].max()), float(poly[:, 1].max()))
        seat = Seat(z, poly, box, self.persp.height(box[3]))
        region = self._search_region(z)
        for i, ts in enumerate(self.tiles):
            if ts.seats and (any(ts.tile.owns(x, y) for x, y in region) or cell_overlaps(ts.tile, region)):
                seat.tiles.add(i)
        return seat

    def _fit_motion(self, shape: tuple[int, int]) -> None:
        self._shape = shape
        self._walkers = Walkers(self.zones, self.persp, shape) if self.areas else None
        h, w = shape
        for ts in self.tiles:
            ts.px = ts.tile.pixels(w, h)
        for z in self.zones:
            if z.kind == "motion":
                pts = np.array([[x * w, y * h] for x, y in z.points], np.int32)
                m = np.zeros(shape, np.uint8)
                cv2.fillPoly(m, [pts], 255)
                self._motion_masks[z.id] = m

    # -------------------------------------------------------------- per frame

    def update(
        self, now: float, motion: np.ndarray, frame: Callable[[], np.ndarray], grey: np.ndarray | None = None,
    ) -> dict[str, ZoneState]:
        """The state of every zone at `now`. motion: the change map (uint8 0/255); frame: the RGB frame, on
        demand; grey: the small grey frame the change map came from (the waiting areas' people are followed in it)."""
        if motion.ndim != 2:
            raise ValueError(f"motion must be a 2-D change map, got shape {motion.shape}")
        if self._shape != motion.shape:
            self._fit_motion(motion.shape)
        frame = _once(frame)  # the running mean of a noisy picture and the detector share one conversion
        if self._full_at is not None and self._full != self._hall_full():
            self._switch(not self._full, self._clock(now))
        if self._still is not None and grey is not None:
            self._still.add(grey, motion, frame)
        followed = self._follow(grey, motion) if grey is not None and self.params.follow else False
        p = self.params
        now = self._clock(now)
        self._grey = grey
        if self._hall is not None and grey is not None:
            self._hall.add(now, grey)
        dt = 0.0 if self._last is None else max(0.0, now - self._last)
        self._last = now
        self._tokens = min(p.max_burst, self._tokens + dt * p.calls_per_s)
        self._seated_tokens = min(max(p.max_burst, self._seated_tokens), self._seated_tokens + dt * p.seated_calls_per_s)
        self._note_motion(motion)
        self._note_stirred(motion)
        if (p.backdate_found and self._seated_areas) or self._walker_check:
            if self._motion_at is None or self._motion_at.shape != motion.shape:
                self._motion_at = np.full(motion.shape, -np.inf, np.float32)
                self._counted_at = np.full(motion.shape, -np.inf, np.float32)
            self._motion_at[motion > 0] = now
        rgb: np.ndarray | None = None
        ran: set[int] = set()
        while self._tokens >= 1.0:
            job = self._next_job(now)
            if not job:
                break
            if rgb is None:
                rgb = self._fetch(frame)
            if job is self._sweep:
                self._run_sweep(rgb, now, motion)
            else:
                for i in job:
                    self._run_tile(i, rgb, now)
            ran.update(job)
            self._tokens -= len(job)  # a sweep of the waiting areas may run into debt, paid back in quiet time
        while self._seated_tokens >= 1.0 and (i := self._next_seated(now)) is not None:
            rgb = self._fetch(frame) if rgb is None else rgb
            self._run_tile(i, rgb, now)
            ran.add(i)
            self._seated_tokens -= 1.0
        if self._check_due(now, ran):  # a sweep to check new seated-scale sightings, from their budget
            rgb = self._fetch(frame) if rgb is None else rgb
            self._run_sweep(rgb, now, motion)
            ran.update(self._sweep)
            self._seated_tokens -= len(self._sweep)
        if rgb is not None and not ran.isdisjoint(self._sweep):
            self._forget_departed(rgb, now)
        if ran and grey is not None and self.params.follow:
            self._seed(ran, grey)
        if ran:
            self._observe(now, ran, rgb, motion)
        if followed or any(not self.tiles[i].seats for i in ran):  # a sweep, a seated-scale tile, or people moved
            # one sweep found these together: a person seen by two tiles near a cell's edge counts once
            found = self._area_found()
            self._area_dets = suppress([d for d, _ in found], [g for _, g in found])
        return self._states(now, motion)

    def _hall_full(self) -> bool:
        """True when the waiting areas hold _full_at people (full_per_tile per seated-scale tile of the usual plan);
        once full, until they hold full_hall_off people fewer."""
        assert self._full_at is not None
        return self._waiting > self._full_at - self.params.full_hall_off if self._full else self._waiting >= self._full_at

    def _switch(self, full: bool, now: float) -> None:
        """The seated-scale tiles of the other plan (full: the finer one), each taking over the sightings (with their
        looks, misses and whether counted) whose anchors its cell owns; each due seated_period_s after `now`, as
        if touched by motion. Seat and standing-scale tiles come before them in self.tiles, so their indices stay."""
        old = [ts for ts in self.tiles if ts.seated_scale]
        new = [_TileState(t, False, seated_scale=True) for t in self._seated_plans[full]]
        h, w = self._shape
        for ts in new:
            ts.px = ts.tile.pixels(w, h)
            ts.last_run = now
        for o in old:
            for d, seen_as, n, stirred in zip(o.found, o.looks, o.misses, o.stirred, strict=True):
                ax, ay = self.anchor(d)
                to = next((ts for ts in new if ts.tile.owns(ax, ay)), None)
                if to is None:
                    continue
                to.found.append(d)
                to.looks.append(seen_as)
                to.misses.append(n)
                to.stirred.append(stirred)
                if any(d is c for c in o.counted):
                    to.counted.append(d)
        self.tiles = [ts for ts in self.tiles if not ts.seated_scale] + new
        self._full = full
        log.debug("waiting areas %s: %d people, %d seated-scale tiles", "full" if full else "no longer full", self._waiting,
                  len(new))

    def _fetch(self, frame: Callable[[], np.ndarray]) -> np.ndarray:
        """The RGB frame, and the stretch of its grey levels for the waiting areas' crops when it is flat."""
        rgb = frame()
        self._lut = flat_lut(rgb)
        return rgb

    def _seed(self, ran: set[int], grey: np.ndarray) -> None:
        """Points to follow inside each box the standing-scale tiles just found."""
        for i in ran:
            ts = self.tiles[i]
            if ts.seats or ts.seated_scale:
                continue
            ts.points = []
            for d in ts.found:
                x0, y0, x1, y1 = grey_box(d, grey.shape)
                pts = None
                hidden = any(d is h for h in self._hidden)  # their box shows whoever is in front
                if x1 - x0 >= 3 and y1 - y0 >= 3 and not hidden:
                    pts = cv2.goodFeaturesToTrack(np.ascontiguousarray(grey[y0:y1, x0:x1]), 12, 0.01, 2)
                    if pts is not None:
                        pts = (pts + np.array([x0, y0], np.float32)).astype(np.float32)
                ts.points.append(pts)

    def _follow(self, grey: np.ndarray, motion: np.ndarray) -> bool:
        """Move the standing-scale boxes with the optical flow of their points since the last frame; True if any moved."""
        prev, self._prev_grey = self._prev_grey, grey
        if prev is None or prev.shape != grey.shape:
            return False
        gh, gw = grey.shape
        jobs = []
        for ts in self.tiles:
            if ts.seats or ts.seated_scale:
                continue
            for k, (d, pts) in enumerate(zip(ts.found, ts.points, strict=True)):
                if pts is None or len(pts) < 3:
                    continue
                x0, y0, x1, y1 = grey_box(d, grey.shape)
                if x1 > x0 and y1 > y0 and cv2.countNonZero(motion[y0:y1, x0:x1]) > 0:
                    jobs.append((ts, k, pts))
        if not jobs:
            return False
        allpts = np.concatenate([p for _, _, p in jobs])
        nxt, status, _ = cv2.calcOpticalFlowPyrLK(prev, grey, allpts, None, winSize=(9, 9), maxLevel=2)
        moved = False
        at = 0
        for ts, k, pts in jobs:
            n = len(pts)
            ok = status[at:at + n, 0] == 1
            new, old = nxt[at:at + n][ok], pts[ok]
            at += n
            if len(new) < 3:
                ts.points[k] = None
                continue
            dx, dy = np.median((new - old).reshape(-1, 2), axis=0)
            d = ts.found[k]
            ts.found[k] = Detection(d.x0 + dx / gw, d.y0 + dy / gh, d.x1 + dx / gw, d.y1 + dy / gh, d.score)
            ts.points[k] = new.reshape(-1, 1, 2)
            moved = moved or abs(dx) + abs(dy) > 0.2
        return moved

    def _clock(self, t: float) -> float:
        """Seconds since the first frame, rounded to CLOCK_STEP_S (the same floats for unix and file times)."""
        if self._t0 is None:
            self._t0 = t
        return round((t - self._t0) / CLOCK_STEP_S) / round(1 / CLOCK_STEP_S)

    def _note_motion(self, motion: np.ndarray) -> None:
        for ts in self.tiles:
            if not ts.moved:
                x0, y0, x1, y1 = ts.px
                area = max((x1 - x0) * (y1 - y0), 1)
                ts.moved = cv2.countNonZero(motion[y0:y1, x0:x1]) >= self.params.moved_fraction * area

    def _note_stirred(self, motion: np.ndarray) -> None:
        """Mark the seated-scale sightings and seated people that motion covered (someone stood up, left or passed in front)."""
        for s in self.seats:
            if not s.stirred and s.last_box is not None:
                s.stirred = self._covered(s.last_box, motion)
        for ts in (ts for ts in self.tiles if ts.seated_scale):
            ts.stirred = [m or self._covered(d, motion) for d, m in zip(ts.found, ts.stirred, strict=True)]

    def _moved(self, s: Seat, motion: np.ndarray) -> float:
        """The share of a seat's place that motion covers: its footprint's columns, from a seated person's
        head height above it (sitting_head_h) down to its bottom. Someone sitting down moves over most of it."""
        x0, y0, x1, y1 = s.box
        place = Detection(x0 / self.aspect, y0 - self.params.sitting_head_h * s.h, x1 / self.aspect, y1, 0.0)
        return _share(motion, place)

    def _covered(self, d: Detection, motion: np.ndarray) -> bool:
        """True when motion covers stirred_fraction of a box."""
        x0, y0, x1, y1 = grey_box(d, motion.shape)
        area = max((x1 - x0) * (y1 - y0), 1)
        return cv2.countNonZero(motion[y0:y1, x0:x1]) >= self.params.stirred_fraction * area

    def _next_job(self, now: float) -> list[int]:
        """The most overdue job: one seat tile, or a sweep of the standing-scale area tiles; [] if none is due.

        The standing-scale tiles of the waiting areas are swept all at once, so that people walking
        from one tile's cell into another's between two analyses are neither counted twice nor
        missed. Seated-scale tiles report seated people only, who stay put: each runs on its own
        (`_next_seated`).
        """
        p = self.params
        best: list[int] = []
        best_late = 0.0
        uncertain = {i for s in self.seats if s.uncertain for i in s.tiles}
        sweep = self._sweep
        for i, ts in enumerate(self.tiles):
            if not ts.seats:
                continue
            if i in uncertain:
                period = p.uncertain_period_s
            else:
                period = p.seat_period_s if ts.moved else 2 * p.seat_period_s
            late = (now - ts.last_run) / period
            if late >= 1.0 and late > best_late:
                best, best_late = [i], late
        if sweep:
            moved = any(self.tiles[i].moved for i in sweep)
            period = p.moved_period_s if moved else p.area_period_s
            late = (now - min(self.tiles[i].last_run for i in sweep)) / period
            if late >= 1.0 and late > best_late:
                best = sweep
        return best

    def _check_due(self, now: float, ran: set[int]) -> bool:
        """True when a new seated-scale sighting waits for the sweep that checks it, and no sweep ran for
        moved_period_s: in a still picture (a restarted worker) it would wait area_period_s. Paid from the
        seated-scale budget (into debt), so the seats keep theirs."""
        if not self._sweep or self._seated_tokens < 1.0 or not ran.isdisjoint(self._sweep):
            return False
        if now - min(self.tiles[i].last_run for i in self._sweep) < self.params.moved_period_s:
            return False
        return any(ts.unconfirmed() for ts in self.tiles if ts.seated_scale and ts.last_run < now)

    def _next_seated(self, now: float) -> int | None:
        """The most overdue seated-scale waiting-area tile, or None when none is due."""
        best, best_late = None, 1.0
        p = self.params
        for i, ts in enumerate(self.tiles):
            if ts.seated_scale:
                period = p.seated_period_s * (1 if ts.moved else 2)
                late = (now - ts.last_run) / period
                if ts.hinted and now - ts.last_run >= p.moved_period_s:
                    late += p.seated_period_s  # ahead of every tile only overdue
                if late >= best_late:
                    best, best_late = i, late
        return best

    def _run_tile(self, i: int, rgb: np.ndarray, now: float) -> None:
        ts = self.tiles[i]
        h, w = rgb.shape[:2]
        x0, y0, x1, y1 = ts.tile.pixels(w, h)
        assert self.model is not None
        min_score = self.params.min_score if ts.seats else self.params.area_min_score
        still = self._still.crop(x0, y0, x1, y1) if ts.seated_scale and self._still is not None else None
        crop = still if still is not None else np.ascontiguousarray(rgb[y0:y1, x0:x1])
        if not ts.seats and self._lut is not None:  # a flat picture: the waiting areas' crops are stretched
            crop = cv2.LUT(crop, self._lut)
        fx, fy = (x1 - x0) / w, (y1 - y0) / h

        def in_frame(d: Detection) -> Detection:  # a box of the crop in normalised frame coordinates
            return Detection(x0 / w + d.x0 * fx, y0 / h + d.y0 * fy, x0 / w + d.x1 * fx, y0 / h + d.y1 * fy, d.score)

        low: list[Detection] = []
        low_score = self._low_score() if ts.seated_scale else None
        standing = not ts.seats and not ts.seated_scale
        carry = self.params.carry_score if standing else None
        floor = min(x for x in (min_score, low_score, carry) if x is not None)
        boxes = self.model.boxes(crop, floor, ts.seated_scale and self.params.seated_mirrored)
        weak = [d for d in boxes if d.score < min_score] if carry is not None else []
        if standing and self._walker_check:
            self._note_walkers(ts, [in_frame(d) for d in boxes if d.score >= min_score], now)
        if low_score is None:  # the weaker boxes are the standing scale's to carry people with (_carry)
            boxes = [d for d in boxes if d.score >= min_score]
        if not ts.seats and self._calibrated:  # before suppression: a box of the whole crop would hide the people in it
            boxes = [d for d in boxes if not self._too_tall(in_frame(d))]
        if low_score is not None:  # one run of the model gives both
            found = suppress([d for d in boxes if d.score >= min_score])
            low = [d for d in suppress(boxes) if d.score < min_score]
        elif ts.seats or ts.seated_scale or not self._drop_short:
            found = suppress(boxes)
        else:  # short boxes go before suppression (a walker's upper half would win over the whole body)
            short = [self._too_short(in_frame(d)) for d in boxes]
            found = suppress([d for d, s in zip(boxes, short, strict=True) if not s])
            if self.params.area_seated_ratio is not None:
                self._hint_seated(ts, [in_frame(d) for d in suppress([d for d, s in zip(boxes, short, strict=True) if s])])
        if weak:  # as the standing scale's own boxes: none too tall, none too short where those are left out
            weak = suppress([d for d in weak if not self._too_tall(in_frame(d))
                             and not (self._drop_short and self._too_short(in_frame(d)))])
        keep = [g for g in map(in_frame, found) if self._reports(ts, g)]
        low = [g for g in map(in_frame, low) if self._reports(ts, g)]
        if low:
            keep += self._came_in(low, ts, keep, rgb, now)
        looks = [look(rgb, d) for d in keep] if ts.seated_scale else []
        misses = [0] * len(keep)
        if ts.seated_scale:  # counted sightings this analysis missed, kept with their look for the check
            for d, seen_as, n, stirred in zip(ts.found, ts.looks, ts.misses, ts.stirred, strict=True):
                if (not stirred and n < self.params.seated_hold and d in ts.counted
                        and not any(iou(d, k) >= HOLD_IOU for k in keep)):
                    keep.append(d)
                    looks.append(seen_as)
                    misses.append(n + 1)
        last_look = {id(d): then for d, then in zip(ts.found, ts.looks, strict=True)} if ts.seated_scale else {}
        for d in ts.counted:  # only seated-scale tiles have counted sightings
            if not any(iou(d, k) >= HOLD_IOU for k in keep):
                self._left.note(d, now, last_look.get(id(d)))
        if ts.seats:
            self._note_heads(i, keep)
        ts.found, ts.last_run, ts.moved, ts.hinted = keep, now, False, False
        if standing:
            ts.firm = [now] * len(keep)
            ts.weak = [g for g in map(in_frame, weak) if self._reports(ts, g)]
        ts.points = [None] * len(keep)
        ts.looks, ts.misses, ts.stirred = looks, misses, [False] * len(keep)

    def _note_heads(self, i: int, found: list[Detection]) -> None:
        """The head tops of the people found over each staff seat tile i looks at: mostly across the columns of its
        footprint, the box ending no lower than just below it and starting above its middle row."""
        for s in self.seats:
            if s.spec.kind != "staff_seat" or i not in s.tiles:
                continue
            x0, y0, x1, y1 = s.box
            row = (y0 + y1) / 2
            for d in found:
                bx0, bx1 = d.x0 * self.aspect, d.x1 * self.aspect
                if min(bx1, x1) - max(bx0, x0) >= 0.5 * (bx1 - bx0) and d.y1 <= y1 + 0.1 * s.h and d.y0 < row:
                    self._heads.append((row - d.y0) / self.persp.height(row))

    def _note_walkers(self, ts: _TileState, found: list[Detection], now: float) -> None:
        """The heights (in the calibration's standing heights at their bottom rows) of the standing-scale boxes this
        tile reports, each before any size is left out, that motion covered at least WALKER_COVER of in the last
        WALKER_MOTION_S: people walking."""
        assert self._motion_at is not None
        for d in found:
            if not self._reports(ts, d):
                continue
            x0, y0, x1, y1 = grey_box(d, self._motion_at.shape)
            box = self._motion_at[y0:y1, x0:x1]
            if box.size and np.count_nonzero(box >= now - WALKER_MOTION_S) >= WALKER_COVER * box.size:
                self._walker_heights.append((d.y1 - d.y0) / self.persp.height(min(d.y1, 1.0)))

    def height_check(self) -> tuple[int, float | None]:
        """(sightings kept, factor): how many times person_height people are. From the head tops over the staff seats
        (tiles.height_factor); on a camera without staff seats, from the boxes of people walking in its waiting
        areas (tiles.walker_factor)."""
        if self._walker_check:
            return len(self._walker_heights), walker_factor(self._walker_heights)
        return len(self._heads), height_factor(self._heads)

    def height_source(self) -> str | None:
        """What height_check measures: "staff_seats", "walkers" (a camera without staff seats), or None (neither)."""
        if self._walker_check:
            return "walkers"
        return "staff_seats" if self._staff_seats else None

    def _reports(self, ts: _TileState, g: Detection) -> bool:
        """True for a box (frame coordinates) that this tile reports: its anchor in the tile's cell and in
        no mask; at the seated scale, only people shorter than STANDING_BOX (the standing-scale tiles of
        the same sweep report those standing)."""
        ax, ay = self.anchor(g)
        if ts.seated_scale and g.y1 - g.y0 >= STANDING_BOX * self.persp.height(ay):
            return False
        return ts.tile.owns(ax, ay) and not self._masked(ax * self.aspect, ay)

    def _low_score(self) -> float | None:
        """The lower score seated-scale boxes are taken at (checked against the hall's median), or None."""
        return self.params.low_score if self._hall is not None and self._grey is not None else None

    def _came_in(self, low: list[Detection], ts: _TileState, keep: list[Detection], rgb: np.ndarray,
                 now: float) -> list[Detection]:
        """The low-scoring boxes a seated-scale tile reports that are people: unlike the hall's median
        picture (someone came in), or like a counted sighting of theirs (the median has taken in someone
        seated for long). Where a counted person left less than half the median's window ago, the median
        still shows them: the empty chair there differs from it, and is not taken for someone new."""
        hall = self._hall.picture() if self._hall is not None else None
        vacated = self._left.places(now)
        left_looks = self._left.looks(now) if self.params.vacated_back else []
        found = keep + [d for t in self.tiles if not t.seats and t is not ts for d in t.found]  # every tile's people
        out: list[Detection] = []
        for g in low:
            if any(self._hides(k, g) for k in found + out):
                continue
            now_look = look(rgb, g)
            if _seen_as(g, now_look, [(c, then) for c, then in zip(ts.found, ts.looks, strict=True) if c in ts.counted]):
                out.append(g)  # a counted sighting of theirs
                continue
            if hall is None or self._grey is None or same_look(look(hall, g), look(self._grey, g)):
                continue  # the hall's usual picture: nobody came
            # where a counted person was taken for gone, a box unlike the hall's usual picture that looks as they
            # did is them, still there (their empty chair, once the median shows it, is the usual picture)
            if (not any(iou(g, b) >= HOLD_IOU for b in vacated)
                    or _seen_as(g, now_look, left_looks)):
                out.append(g)
        return out

    def _hides(self, k: Detection, g: Detection) -> bool:
        """True when a person found (k) covers the low-scoring box g enough for g to be a part of them: over
        low_overlap of it, unless g's top shows behind_h standing heights above k's (someone behind k)
        and k covers no more than behind_overlap of it."""
        share = covers(k, g)
        if share <= self.params.low_overlap:
            return False
        if self.params.behind_overlap is None or share > self.params.behind_overlap:
            return True
        return k.y0 - g.y0 < self.params.behind_h * self.persp.height(g.y1)

    def _run_sweep(self, rgb: np.ndarray, now: float, motion: np.ndarray) -> None:
        """Run the standing-scale tiles together, then carry the people they lost (_carry where a weak box
        lies, _behind where someone else came in front) and take the weak boxes that move (_moving)."""
        # the standing scale's people before the sweep (followed to this frame), with when they last scored firmly
        before = [(d, f) for i in self._sweep for d, f in zip(self.tiles[i].found, self.tiles[i].firm, strict=True)]
        tiles = [i for i in self._sweep for _ in self.tiles[i].found]  # each of them's tile
        for i in self._sweep:
            self._run_tile(i, rgb, now)
        self._carry(before, now)
        # one box each, as they were counted (a person two tiles found is one)
        firm_of = {id(d): f for d, f in before}
        self._behind([(d, firm_of[id(d)]) for d in suppress([d for d, _ in before], tiles)], now)
        self._moving(motion)

    def _moving(self, motion: np.ndarray) -> None:
        """Count a weak box that motion covers: someone walking, scored low because the one in front hides
        part of them. A cone, a bag or a chair scores as low, but does not move. The motion must be its own
        (outside everyone found), the box as tall as the standing scale reports (standing_min_box: a
        walker's head and shoulders are not someone else), and no part of anyone found, as for the seated
        scale's low boxes (_hides: over low_overlap of it covered, unless its top shows above theirs)."""
        p = self.params
        if p.moving_cover is None or p.carry_score is None:
            return
        found = [d for i in self._sweep for d in self.tiles[i].found]
        unexplained = motion.copy()  # motion outside everyone found: theirs explains the rest
        for d in found:
            x0, y0, x1, y1 = grey_box(d, motion.shape)
            unexplained[y0:y1, x0:x1] = 0
        for i in self._sweep:
            ts = self.tiles[i]
            for w in sorted(ts.weak, key=lambda w: -w.score):
                if (_share(unexplained, w) >= p.moving_cover
                        and w.y1 - w.y0 >= p.standing_min_box * self.persp.height(w.y1)
                        and not any(self._hides(k, w) for k in found)):
                    x0, y0, x1, y1 = grey_box(w, motion.shape)
                    unexplained[y0:y1, x0:x1] = 0
                    ts.keep(w, -math.inf)  # not carried on later: only motion keeps it
                    ts.weak.remove(w)
                    found.append(w)

    def _behind(self, before: list[tuple[Detection, float]], now: float) -> None:
        """Keep someone the sweep lost because another person came in front of them.

        The people before the sweep (one box each, as counted) are matched one to one with the boxes it
        found, the largest overlap first: a box overlapping someone lost would have been matched to them,
        unless it went to somebody else. Someone left without a match, who scored area_min_score less than
        carry_s ago, is hidden rather than gone when a box found nearer the camera (it ends lower) covers
        behind_cover of them. They stay where they were last seen: following their box would follow
        whoever is in front (_seed leaves it out).
        """
        p = self.params
        if p.behind_cover is None:
            self._hidden = []
            return
        found = [(k, i) for i in self._sweep for k in self.tiles[i].found]
        overlaps = ((iou(b, k), bi, ki) for bi, (b, _) in enumerate(before) for ki, (k, _) in enumerate(found))
        pairs = sorted((x for x in overlaps if x[0] > 0), key=lambda x: -x[0])
        matched: set[int] = set()  # the people before who were found again
        taken: set[int] = set()  # the found boxes that are they
        for _, bi, ki in pairs:
            if bi not in matched and ki not in taken:
                matched.add(bi)
                taken.add(ki)
        self._hidden = []
        for bi, (d, firm) in enumerate(before):
            if bi in matched or now - firm > p.carry_s:
                continue
            front = [(c, i) for k, i in found if k.y1 > d.y1 and (c := covers(k, d)) >= p.behind_cover]
            if front:
                self.tiles[max(front)[1]].keep(d, firm)
                self._hidden.append(d)

    def _carry(self, before: list[tuple[Detection, float]], now: float) -> None:
        """Keep someone the sweep lost where a weaker box lies at the place they were followed to.

        ByteTrack's second match: a walker partly hidden by the one in front scores under area_min_score
        for a few seconds. A box of this sweep from carry_score up, overlapping their followed box by
        carry_iou and no part or double of anyone found (suppress), carries them on, for at most carry_s
        since they last scored area_min_score. Nobody is carried without such a box, and a weak box
        where nobody was counts for nothing.
        """
        p = self.params
        if p.carry_score is None:
            return
        found = [d for i in self._sweep for d in self.tiles[i].found]
        for d, firm in sorted(before, key=lambda x: -x[1]):  # the most recently sure first
            if now - firm > p.carry_s or any(iou(d, n) >= p.carry_iou for n in found):
                continue
            best: tuple[float, int, Detection] | None = None
            for i in self._sweep:
                for w in self.tiles[i].weak:
                    v = iou(d, w)
                    if v >= p.carry_iou and (best is None or v > best[0]) and w in suppress(found + [w]):
                        best = (v, i, w)
            if best is not None:
                _, i, w = best
                ts = self.tiles[i]
                ts.keep(w, firm)
                ts.weak.remove(w)
                found.append(w)

    def _hint_seated(self, ts: _TileState, short: list[Detection]) -> None:
        """Make the seated-scale tiles due where a short box appeared since this tile's last analysis.

        Someone who has just sat down shows at the standing scale as a box too short for it to report;
        the seated-scale tile of their cell would otherwise come in its turn (tens of seconds with many
        tiles). A box there last time, or on a sighting the seated scale has, is no news: a cone does
        not make its tile run again and again.
        """
        known = ts.short + [d for t in self.tiles if t.seated_scale for d in t.found]
        for d in short:
            if any(iou(d, k) >= HOLD_IOU for k in known):
                continue
            ax, ay = self.anchor(d)
            for t in self.tiles:
                if t.seated_scale and t.tile.owns(ax, ay):
                    t.hinted = True
        ts.short = short

    def _forget_departed(self, rgb: np.ndarray, now: float) -> None:
        """Check seated-scale sightings against the picture of a sweep: unchanged ones count, changed ones go.

        A seated-scale sighting counts once a later sweep sees its box unchanged: someone seated stays
        put, while a walker's half-hidden body found at that scale has moved on. It is dropped when
        its box no longer looks as it did (they stood up or left): seated-scale tiles run seldom (their
        own small budget), and would otherwise keep them counted beside the same person walking away.
        """
        for ts in self.tiles:
            if ts.seated_scale and ts.last_run < now:  # a later picture than the sighting's
                same = [same_look(then, look(rgb, d)) for d, then in zip(ts.found, ts.looks, strict=True)]
                ts.hinted = ts.hinted or not all(same)  # someone there moved or left: look again soon
                for d, ok, then in zip(ts.found, same, ts.looks, strict=True):
                    if not ok and d in ts.counted:
                        self._left.note(d, now, then)
                ts.found, ts.looks, ts.misses, ts.stirred = (
                    [x for x, ok in zip(lst, same, strict=True) if ok] for lst in (ts.found, ts.looks, ts.misses, ts.stirred))
                if self.params.backdate_found and self._motion_at is not None:
                    self._date_back(ts.unconfirmed(), now)
                ts.counted = list(ts.found)

    def _date_back(self, new: list[Detection], now: float) -> None:
        """Date each sighting counted for the first time back to when motion last covered BACKDATE_COVER of its
        box (they sat down), but not before someone counted in the waiting area last covered as much of it (it
        may have been them, found standing or at another box) (backdate_found)."""
        assert self._motion_at is not None and self._counted_at is not None
        for d in new:
            x0, y0, x1, y1 = grey_box(d, self._motion_at.shape)
            if x1 <= x0 or y1 <= y0:
                continue
            sat = _covered_since(self._motion_at[y0:y1, x0:x1])
            if not math.isfinite(sat):
                continue  # no motion there since the analysis began: nothing to date them by
            since = max(sat, _covered_since(self._counted_at[y0:y1, x0:x1]))
            if since < now:
                self._found_late.append((d, since, now))

    def _area_found(self) -> list[tuple[Detection, int]]:
        """The waiting areas' people, each with a group for `suppress`: the last sweep's, grouped by their
        standing-scale tile, and the seated-scale sightings a sweep confirmed, each a group of its own.

        A standing-scale tile's boxes were told apart by one run of the model, and the optical flow moves
        them apart from that run: two people of one tile whose boxes come to overlap (one walking past the
        other) are still two. Only boxes of different tiles, or a seated-scale sighting (which may be a
        held one, or someone the standing scale found too), can be one person.
        """
        out = []
        for i, ts in enumerate(self.tiles):
            if ts.seated_scale:
                # until a sweep checks a new analysis, the last checked one counts
                out += [(d, -1 - len(out) - k) for k, d in enumerate(ts.counted)]
            elif not ts.seats:
                out += [(d, i) for d in ts.found]
        return out

    def _too_tall(self, d: Detection) -> bool:
        """True for a box far taller than anyone standing at its bottom row (max_box standing heights)."""
        return d.y1 - d.y0 > self.params.max_box * self.persp.height(min(d.y1, 1.0))

    def _too_short(self, d: Detection) -> bool:
        """True for a box shorter than a standing person that the standing scale does not report: any,
        with seated-scale tiles (they report seated people); without, only where nobody sits."""
        if d.y1 - d.y0 >= self.params.standing_min_box * self.persp.height(d.y1):
            return False
        if self.params.area_seated_ratio is not None:
            return True
        foot = ((d.x0 + d.x1) / 2 * self.aspect, d.y1)

        def inside(polys: list[np.ndarray]) -> bool:
            return any(cv2.pointPolygonTest(p, foot, False) >= 0 for p in polys)

        return inside(self._standing_only) and not inside(self._seated_areas)

    def _masked(self, x: float, y: float) -> bool:
        return any(cv2.pointPolygonTest(m, (x, y), False) >= 0 for m in self.masks)

    # -------------------------------------------------------------- zones

    def _assign(self, dets: list[Detection], seats: list[int]) -> tuple[dict[int, Detection], list[Detection]]:
        """Seat index -> its person, and the detections on no seat (nearest pairs first, one each)."""
        pairs = []
        for k, d in enumerate(dets):
            ax, ay = self.anchor(d)
            standing = self._standing(d)
            for j in seats:
                if standing and self._sits(j):
                    continue  # someone standing by a spot where citizens sit: queueing, passing, arriving or leaving
                cost = seat_cost(self.seats[j], ax * self.aspect, ay, self.params)
                if cost is not None:
                    pairs.append((cost, -d.score, k, j))
        pairs.sort()
        taken: dict[int, Detection] = {}
        used: set[int] = set()
        for _, _, k, j in pairs:
            if k not in used and j not in taken:
                taken[j] = dets[k]
                used.add(k)
        return taken, [d for k, d in enumerate(dets) if k not in used]

    def _sits(self, j: int) -> bool:
        """True for a service spot where citizens sit (its zone's `seated`)."""
        spec = self.seats[j].spec
        return spec.kind == "service_spot" and spec.seated

    def _standing(self, d: Detection) -> bool:
        """True for a box at least spot_standing standing heights tall at its bottom row: someone standing."""
        p = self.params.spot_standing
        return p is not None and d.y1 - d.y0 >= p * self.persp.height(min(d.y1, 1.0))

    def anchor(self, d: Detection, k: float = SEATED_FIT) -> tuple[float, float]:
        """Where a person stands or sits: the bottom centre, lowered to the seat row when the box is cut short."""
        # the row y whose seated person (k standing heights tall) has their head at d.y0
        a, b = self.persp.a, self.persp.b
        seat_row = (d.y0 + k * a) / max(1.0 - k * b, 1e-3)
        return (d.x0 + d.x1) / 2.0, max(d.y1, seat_row)

    def _observe(self, now: float, ran: set[int], rgb: np.ndarray, motion: np.ndarray) -> None:
        """One step of every seat the tiles in `ran` just looked at, from the people the seats' tiles found."""
        self._dets = [d for ts in self.tiles if ts.seats for d in ts.found]
        taken, _ = self._assign(self._dets, list(range(len(self.seats))))
        for j, s in enumerate(self.seats):
            if not (s.tiles & ran):
                continue
            hit = j in taken
            if hit and not s.occupied and s.missed and self._sits(j) and self._furniture(s, taken[j], rgb, now):
                hit = False  # the chair, scored as a person: nobody came (spot_came_in)
            s.score = taken[j].score if hit else 0.0
            seen = look(rgb, taken[j]) if hit else None
            if hit and any(taken[j] in self.tiles[i].found for i in ran):  # a fresh sighting, not a tile's old one
                # found elsewhere on the seat while motion covers them (rising, walking off): not seen still,
                # so their last still sighting, and the motion over it since, stay what the seat is judged by
                moving = (s.occupied and s.last_box is not None and self.params.moving_keeps_stirred
                          and iou(taken[j], s.last_box) < HOLD_IOU and self._covered(taken[j], motion))
                if not moving:
                    s.last_box, s.stirred, s.last_look = taken[j], False, seen
            if not hit and all(self.tiles[i].last_run > -math.inf for i in s.tiles):
                s.missed = True  # every tile it spans has looked
            seat_step(s, now, hit, self.params, look_kept=not hit and s.occupied and self._look_kept(s, rgb),
                      box=taken[j] if hit else None, seen=seen)

    def _furniture(self, s: Seat, d: Detection, rgb: np.ndarray, now: float) -> bool:
        """True for a low sighting (under area_min_score) on an empty seat whose box shows what the hall's
        median picture shows there: nobody came. Not while the median may still show the seat's last person
        (occupied less than half its span ago), nor for a box that looks like whoever last left it."""
        p = self.params
        if not p.spot_came_in or p.hold_look is None or d.score >= p.area_min_score or self._grey is None:
            return False
        if s.on_look is not None and now - s.since < 0.5 * p.reference_every_s * p.reference_keep:
            return False
        hall = self._hall.picture() if self._hall is not None else None  # a median of the samples, when stale
        if hall is None or hall.shape != self._grey.shape:
            return False
        c = likeness(look(hall, d), look(self._grey, d))
        if c is None or c < p.hold_look:
            return False
        return s.off_look is None or not same_look(s.off_look, look(rgb, d))

    def _look_kept(self, s: Seat, rgb: np.ndarray) -> bool:
        """True when a seat's last box still shows what it showed at its last sighting (hold_look), and that
        sighting looked like the person who sat down when it turned on (hold_same): an empty chair the
        detector scored as a person after they left looks like itself for as long as it stands."""
        p = self.params
        if p.hold_look is None or s.last_box is None or s.last_look is None or s.on_look is None:
            return False
        who = likeness(s.on_look, s.last_look)
        if who is None or who < p.hold_same:
            return False
        now = likeness(s.last_look, look(rgb, s.last_box))
        return now is not None and now >= p.hold_look

    def finish(self, now: float, motion: np.ndarray,
               frames: Sequence[tuple[float, Callable[[], np.ndarray]]] = ()) -> dict[str, ZoneState]:
        """The states when observation ends (the end of a file): a seat found occupied at its last
        analyses, with no miss since, is occupied from its first sighting: the end cut its
        confirmation short (a citizen sitting down in the last seconds), not an analysis.

        frames: (time, picture) of the file's last seconds, oldest first (`onestop analyze` gives the one
        `on_s` before the end and the last). Every empty seat whose tile motion touched since it last ran,
        before the first of them, is looked at on each (someone may have sat down after that run, and the
        file shows nobody again), by the usual rule: sightings spanning on_s turn it on, so someone walking
        past (under a second on a seat) does not.

        The mirror of the first rule: an occupied seat missed at its last two analyses or more, whose person
        motion covered (or whose look changed) since their last sighting, is empty from just after that
        sighting: they left, and the end cut off_s short (someone who walked up to a spot and went on)."""
        now = self._clock(now)
        pending = [s for s in self.seats if not s.occupied and s.hits and s.misses_since_hit == 0]
        if frames and self.model is not None:
            first = self._clock(frames[0][0])
            ran = {i for s in self.seats if not s.occupied for i in s.tiles
                   if self.tiles[i].moved and self.tiles[i].last_run < first}
            for t, frame in frames if ran else ():
                at = self._clock(t)
                rgb = self._fetch(_once(frame))
                for i in sorted(ran):
                    self._run_tile(i, rgb, at)
                self._observe(at, ran, rgb, motion)
        for s in pending:
            if not s.occupied:
                turn_on(s, place_hits(s, self.params)[0])
        left = [s for s in self.seats  # missed since its last sighting, and left: only off_s is not over yet
                if s.occupied and s.misses_since_hit >= 2 and (s.stirred or not self.params.off_needs_motion)]
        last = self._fetch(_once(frames[-1][1])) if frames and left else None
        for s in left:
            if not (last is not None and self._look_kept(s, last)):
                turn_off(s)
        return self._states(now, motion)

    def _states(self, now: float, motion: np.ndarray) -> dict[str, ZoneState]:
        out: dict[str, ZoneState] = {}
        for s in self.seats:
            since = None if self._t0 is None else self._t0 + s.since  # back to the caller's clock
            out[s.spec.id] = ZoneState(s.occupied, float(s.occupied), s.score, since, moved=self._moved(s, motion))
        if self.areas:
            # a person on an occupied seat is not waiting, whichever tile found them
            _, free = self._assign(self._area_dets, [j for j, s in enumerate(self.seats) if s.occupied])
            anchors = [self.anchor(d, self.params.sitting_head_h) for d in free]
            late = [(self.anchor(d, self.params.sitting_head_h), since, until) for d, since, until in self._found_late
                    if any(d is f for f in free)]
            self._found_late = []
            if self._counted_at is not None:
                for d in free:
                    x0, y0, x1, y1 = grey_box(d, self._counted_at.shape)
                    self._counted_at[y0:y1, x0:x1] = now
            self._waiting = 0
            for zid, poly in self.areas.items():
                def inside(x: float, y: float, poly: np.ndarray = poly) -> bool:
                    # feet the picture cuts off (the box runs past its bottom edge) are taken to stand at that
                    # edge: a waiting area drawn down to it goes on beyond it
                    return cv2.pointPolygonTest(poly, (x * self.aspect, min(y, 1.0)), False) >= 0
                n = sum(inside(x, y) for x, y in anchors)
                self._waiting += n
                back = tuple(Revision(self._t0 + since, self._t0 + until) for (x, y), since, until in late if inside(x, y))
                out[zid] = ZoneState(n > 0, float(n), float(n), None, back)
        if self._walkers is not None:
            n = self._walkers.count(motion)
            out[WALKING_ZONE] = ZoneState(n > 0, float(n), float(n), None)
        for zid, mask in self._motion_masks.items():
            frac = cv2.countNonZero(cv2.bitwise_and(motion, mask)) / max(cv2.countNonZero(mask), 1)
            if frac >= self.params.motion_min:
                self.motion_zones[zid] = now
            on = now - self.motion_zones[zid] <= self.params.motion_hold_s
            out[zid] = ZoneState(on, float(on), frac, None)
        return out


