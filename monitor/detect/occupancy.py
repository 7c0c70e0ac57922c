"""Zone presence and people estimates over small grey frames (pure: no I/O, the clock is passed in).

A reference background of the empty scene is compared with each frame after a global lighting
fit (gain and offset on pixels outside the zones), so lighting steps and drift neither create nor
remove people. The reference learns only pixels that match it and are still; pixels of an
occupied seat are never learned, so a person may sit still all morning.

Foreground that has stayed put for a moment ("stationary") is what counts: people walking past a
seat or through the waiting area do not. Seats turn on after a short confirmation and off only
after a longer quiet period; both transitions are reported with `since`, the time the raw signal
changed, so a caller that can wait (SecondAggregator) records them without the hysteresis lag.

The reference starts from the first frame, which may already show people. Two cues repair that:
- a "ghost": stationary foreground with no activity in it whose outline is in the reference, not
  in the frame (someone who was part of the reference has left). It is learned at once and
  reported as a Revision: the zone was occupied from the time the reference was taken until then.
- activity without foreground on a seat (the small, continual movement of a seated person who is
  part of the reference): the seat is occupied since the reference was taken.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from monitor.detect.motion import polygon_mask

__all__ = [
    "KINDS",
    "SEAT_KINDS",
    "OccupancyParams",
    "Revision",
    "SecondAggregator",
    "ZoneOccupancy",
    "ZoneSpec",
    "ZoneState",
]

SEAT_KINDS = ("staff_seat", "service_spot")
KINDS = (*SEAT_KINDS, "waiting_area", "motion")

# A waiting area configured without person_height: roughly a camera on the wall 3 m up looking
# down the room (standing person = 45 % of the frame height at the bottom, 25 % at the top).
DEFAULT_PERSON_HEIGHT = (0.45, 0.25)
# About 1000 grid samples fit the lighting model to a fraction of a grey level in ~40 us.
_LIGHTING_SAMPLES = 1000
# Gains outside this range are not a lighting change but a different scene.
_GAIN_LIMITS = (0.5, 2.0)
# 3x3 opening removes one-pixel edge flicker (sub-pixel sway, compression) from the foreground.
_KERNEL = np.ones((3, 3), np.uint8)
# Frames of the activity ring: enough for activity_lag_s at up to 15 fps.
_RING = 24
# Seconds between ghost searches of a waiting area (a labelling pass): ghosts wait seconds anyway.
_WAITING_GHOST_PERIOD_S = 2.0


@dataclass(frozen=True)
class ZoneSpec:
    """A zone as the detector needs it: normalised polygon, kind and perspective calibration."""

    id: str
    kind: str
    points: tuple[tuple[float, float], ...]
    person_height: tuple[float, float] | None = None

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
        return cls(zone.id, zone.kind, tuple(tuple(p) for p in zone.points), ph)  # type: ignore[arg-type]


@dataclass(frozen=True)
class OccupancyParams:
    """Tuned constants (tuned on the simulator at 320x180, 5 fps; see benchmarks/accuracy.py)."""

    fg_threshold: int = 18  # grey levels between frame and reference: clothes vs floor/chairs, above noise+codec
    settle_s: float = 1.2  # foreground must stay this long to count (walkers cover a pixel for < 1 s)
    seat_on: float = 0.035  # stationary-foreground fraction of a seat zone that means a person: a head's worth
    seat_off: float = 0.02  # ... below this the seat is quiet (hysteresis band against flicker)
    confirm_s: float = 2.0  # a seat turns on after this much continuous presence
    quiet_s: float = 4.0  # ... and off after this much quiet (bending for a bag; the next citizen takes >= 5 s)
    background_alpha: float = 0.03  # reference learning rate per frame where the scene matches it
    learn_band: int = 6  # ... i.e. differs by at most this (4 sigma of blurred noise), so people never creep in
    outside_alpha: float = 0.01  # learning rate of still foreground outside every zone (objects moved)
    activity_threshold: int = 8  # grey-level change over activity_lag_s that counts as movement (blurred noise ~1.5)
    activity_lag_s: float = 1.0  # compare with the frame this long ago: sway is slow, noise is not
    activity_min: float = 0.004  # fraction of a seat zone moving that counts as activity (a few edge pixels)
    burst_min: float = 0.1  # ... and as a burst (standing up, sitting down), not sway
    idle_s: float = 4.0  # no activity this long: nobody is on the seat (seated people: gaps < 3 s)
    motion_min: float = 0.01  # fraction of a motion zone moving that counts as motion
    motion_hold_s: float = 2.0  # a motion zone stays on this long after its last motion
    taint_window_s: float = 10.0  # seconds of activity history judged for a person inside the reference
    taint_active: float = 0.8  # fraction of those seconds with activity that means a seated person
    untaint_s: float = 10.0  # no activity for this long: the person seen only by activity has gone
    ghost_still_s: float = 4.0  # still foreground with no activity this long is a ghost (seated people: < 3 s)
    ghost_ratio: float = 1.5  # ... unless its outline is this much stronger in the frame than in the reference
    seated_area: float = 0.10  # foreground area of one seated person / (standing height in px)^2
    count_min_area: float = 0.25  # waiting-area blobs smaller than this many people are noise


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


# ---------------------------------------------------------------- per-zone state


@dataclass
class _Zone:
    spec: ZoneSpec
    sl: tuple[slice, slice]  # bounding box of the zone
    mask: np.ndarray  # uint8 255 inside the zone, within the box
    area: int
    row_weight: np.ndarray | None  # waiting area: people per foreground pixel, per box row
    occupied: bool = False
    since: float = 0.0
    run_start: float | None = None  # when the raw signal started disagreeing with `occupied`
    last_motion: float = -math.inf  # last frame with activity in the zone
    idle_end: float = -math.inf  # when activity resumed after the last idle stretch (seats)
    burst_start: float = -math.inf  # start of the last burst of strong activity: standing up, sitting down
    activity: deque = field(default_factory=deque)  # (second, active) of recent seconds
    tainted: bool = False  # a seated person is part of the reference
    last_test: float = -math.inf


def _box(mask: np.ndarray) -> tuple[slice, slice]:
    ys, xs = np.nonzero(mask)
    return slice(int(ys.min()), int(ys.max()) + 1), slice(int(xs.min()), int(xs.max()) + 1)


def _row_weights(spec: ZoneSpec, sl: tuple[slice, slice], shape: tuple[int, int], seated_area: float) -> np.ndarray:
    """People per foreground pixel in each row of the zone's box: 1 / (seated_area * (h(y) * H)^2)."""
    h = shape[0]
    near, far = spec.person_height or DEFAULT_PERSON_HEIGHT
    ys = np.array([p[1] for p in spec.points])
    top, bottom = float(ys.min()), float(ys.max())
    rows = (np.arange(sl[0].start, sl[0].stop, dtype=np.float64) + 0.5) / h
    frac = np.clip((rows - top) / max(bottom - top, 1e-6), 0.0, 1.0)  # 0 at the top (far), 1 at the bottom (near)
    person_px = (far + (near - far) * frac) * h
    return (1.0 / (seated_area * person_px**2)).astype(np.float64)


class ZoneOccupancy:
    """Presence (seats), people estimate (waiting area) and motion per zone of one camera."""

    def __init__(
        self,
        shape: tuple[int, int],
        zones: Sequence[ZoneSpec],
        params: OccupancyParams = OccupancyParams(),
        mask: np.ndarray | None = None,
    ) -> None:
        if len(shape) != 2 or any(int(n) != n or n < 8 for n in shape):
            raise ValueError(f"shape must be (height, width) with both >= 8, got {shape!r}")
        self.shape = (int(shape[0]), int(shape[1]))
        self.params = params
        ignore = np.zeros(self.shape, bool) if mask is None else np.asarray(mask, bool)
        if ignore.shape != self.shape:
            raise ValueError(f"mask shape {ignore.shape} does not match {self.shape}")
        ids = [z.id for z in zones]
        if len(set(ids)) != len(ids):
            raise ValueError(f"zone ids must be unique, got {ids}")
        self.zones: list[_Zone] = []
        inside = np.zeros(self.shape, bool)
        for spec in zones:
            if not isinstance(spec, ZoneSpec):
                raise ValueError(f"expected ZoneSpec, got {type(spec).__name__}")
            m = polygon_mask(self.shape, [spec.points]) & ~ignore
            if not m.any():
                raise ValueError(f"zone {spec.id!r} covers no watched pixel at {self.shape[1]}x{self.shape[0]}")
            sl = _box(m)
            weights = _row_weights(spec, sl, self.shape, params.seated_area) if spec.kind == "waiting_area" else None
            self.zones.append(_Zone(spec, sl, np.where(m[sl], 255, 0).astype(np.uint8), int(m.sum()), weights))
            if spec.kind != "motion":
                inside |= m
        outside = ~inside & ~ignore
        if outside.sum() < 200:  # zones cover the frame: fit the lighting on everything watched
            outside = ~ignore
        self._samples = _grid(outside, _LIGHTING_SAMPLES)
        self._watched = np.where(ignore, 0, 255).astype(np.uint8)
        self._outside_u8 = np.where(~inside & ~ignore, 255, 0).astype(np.uint8)
        h, w = self.shape
        self._smooth = np.empty((h, w), np.uint8)
        self._norm = np.empty((h, w), np.uint8)
        self._ref = np.empty((h, w), np.float32)
        self._ref_u8 = np.empty((h, w), np.uint8)
        self._fg = np.zeros((h, w), np.uint8)
        self._prev_fg = np.zeros((h, w), np.uint8)
        self._tmp = np.empty((h, w), np.uint8)
        self._diff = np.empty((h, w), np.uint8)
        self._stationary = np.zeros((h, w), np.uint8)
        self._active = np.zeros((h, w), np.uint8)
        self._learn = np.empty((h, w), np.uint8)
        self._fg_start = np.zeros((h, w), np.float32)  # relative time each pixel became foreground
        self._seeded_at = np.zeros((h, w), np.float32)  # relative time each pixel of the reference was taken
        self._last_active = np.zeros((h, w), np.float32)  # relative time each pixel last showed activity
        self._ring: deque[tuple[float, np.ndarray]] = deque(maxlen=_RING)
        self._t0: float | None = None

    # -------------------------------------------------------------- public

    def reset(self) -> None:
        """Forget the reference: the next frame seeds it again (after a reconnect or a camera move)."""
        self._t0 = None

    @property
    def foreground(self) -> np.ndarray:
        """The last stationary-foreground map (uint8 0/255; overwritten by update)."""
        return self._stationary

    def update(self, grey: np.ndarray, now: float, motion: np.ndarray | None = None) -> dict[str, ZoneState]:
        """Compare one grey uint8 frame with the reference; the state of every zone at `now`."""
        if grey.shape != self.shape or grey.dtype != np.uint8:
            raise ValueError(f"expected a {self.shape} uint8 frame, got {grey.shape} {grey.dtype}")
        cv2.blur(grey, (3, 3), self._smooth)
        if self._t0 is None:
            return self._seed(now)
        rel = float(now - self._t0)
        self._normalise()
        self._foreground(rel)
        self._activity(rel, motion)
        states = {z.spec.id: self._zone_state(z, now, rel) for z in self.zones}
        self._learn_reference()
        self._ring.append((rel, self._norm.copy()))
        return states

    # -------------------------------------------------------------- steps

    def _seed(self, now: float) -> dict[str, ZoneState]:
        self._t0 = now
        self._ref[...] = self._smooth
        self._ref_u8[...] = self._smooth
        self._seeded_at.fill(0.0)
        self._last_active.fill(0.0)
        self._fg.fill(0)
        self._prev_fg.fill(0)
        self._stationary.fill(0)
        self._ring.clear()
        self._ring.append((0.0, self._smooth.copy()))
        out = {}
        for z in self.zones:
            z.occupied, z.since, z.run_start, z.tainted = False, now, None, False
            z.last_test = z.idle_end = z.burst_start = -math.inf
            # before the first frame is unknown, not an idle stretch of a seat (nor motion at a door)
            z.last_motion = -math.inf if z.spec.kind == "motion" else now
            z.activity.clear()
            out[z.spec.id] = ZoneState(False, 0.0, 0.0, now)
        return out

    def _normalise(self) -> None:
        """Map the frame into the reference's lighting: norm = gain * frame + offset."""
        f = self._smooth.reshape(-1)[self._samples]
        r = self._ref_u8.reshape(-1)[self._samples]
        gain, offset = _fit_lighting(f, r, self.params.fg_threshold)
        if abs(gain - 1.0) < 1e-3 and abs(offset) < 0.5:
            self._norm[...] = self._smooth
        else:
            cv2.convertScaleAbs(self._smooth, self._norm, gain, offset)

    def _foreground(self, rel: float) -> None:
        p = self.params
        self._prev_fg, self._fg = self._fg, self._prev_fg
        fg = self._fg
        cv2.absdiff(self._norm, self._ref_u8, self._diff)
        cv2.threshold(self._diff, p.fg_threshold, 255, cv2.THRESH_BINARY, fg)
        cv2.bitwise_and(fg, self._watched, fg)
        cv2.morphologyEx(fg, cv2.MORPH_OPEN, _KERNEL, fg)
        # pixels that just became foreground start their clock
        cv2.bitwise_not(self._prev_fg, self._tmp)
        cv2.bitwise_and(self._tmp, fg, self._tmp)
        np.copyto(self._fg_start, np.float32(rel), where=self._tmp.view(bool))
        cv2.compare(self._fg_start, rel - p.settle_s, cv2.CMP_LE, self._stationary)
        cv2.bitwise_and(self._stationary, fg, self._stationary)

    def _activity(self, rel: float, motion: np.ndarray | None) -> None:
        """Pixels that changed over the last activity_lag_s (and, if given, the caller's motion map)."""
        p = self.params
        old = None
        for t, frame in self._ring:
            if t <= rel - p.activity_lag_s:
                old = frame
            else:
                break
        if old is None:
            old = self._ring[0][1]
        cv2.absdiff(self._norm, old, self._active)
        cv2.threshold(self._active, p.activity_threshold, 255, cv2.THRESH_BINARY, self._active)
        np.copyto(self._last_active, np.float32(rel), where=self._active.view(bool))
        self._motion = self._active
        if motion is not None:
            m = np.asarray(motion)
            if m.shape != self.shape:
                raise ValueError(f"motion map shape {m.shape} does not match {self.shape}")
            self._motion = np.where(m.astype(bool), 255, 0).astype(np.uint8) if m.dtype != np.uint8 else m

    def _learn_reference(self) -> None:
        p = self.params
        learn = self._learn
        # Only pixels that match the reference closely: a person a little darker or lighter than
        # the chair behind them must not creep into it, and leave a ghost when they get up.
        cv2.threshold(self._diff, p.learn_band, 255, cv2.THRESH_BINARY, learn)
        cv2.bitwise_or(learn, self._active, learn)
        cv2.bitwise_or(learn, self._motion, learn)
        cv2.bitwise_not(learn, learn)  # still pixels that match the reference
        for z in self.zones:
            if z.spec.kind in SEAT_KINDS and (z.occupied or z.tainted):
                learn[z.sl] = 0  # a seated person is never learned, however still
        cv2.accumulateWeighted(self._norm, self._ref, p.background_alpha, learn)
        # other still pixels outside every zone (a moved bin, a standing visitor) fade in slowly
        cv2.bitwise_or(self._active, self._motion, learn)
        cv2.bitwise_not(learn, learn)
        cv2.bitwise_and(learn, self._outside_u8, learn)
        cv2.accumulateWeighted(self._norm, self._ref, p.outside_alpha, learn)
        cv2.convertScaleAbs(self._ref, self._ref_u8)

    # -------------------------------------------------------------- zones

    def _zone_state(self, z: _Zone, now: float, rel: float) -> ZoneState:
        kind = z.spec.kind
        if kind == "motion":
            frac = cv2.countNonZero(cv2.bitwise_and(self._motion[z.sl], z.mask)) / z.area
            if frac >= self.params.motion_min:
                z.last_motion = now
            occupied = now - z.last_motion <= self.params.motion_hold_s
            if occupied != z.occupied:
                z.occupied, z.since = occupied, now
            return ZoneState(occupied, float(occupied), frac, z.since)
        p = self.params
        active = cv2.countNonZero(cv2.bitwise_and(self._active[z.sl], z.mask)) / z.area
        if active >= p.burst_min and z.burst_start < z.last_motion - 1.0:
            z.burst_start = now  # strong activity after a calmer second
        if active >= p.activity_min:
            if now - z.last_motion >= p.idle_s:
                z.idle_end = now
            z.last_motion = now
        if kind == "waiting_area":
            return self._waiting_state(z, now, rel)
        return self._seat_state(z, now, rel, active)

    def _seat_state(self, z: _Zone, now: float, rel: float, active: float) -> ZoneState:
        p = self.params
        stationary = cv2.bitwise_and(self._stationary[z.sl], z.mask)
        score = cv2.countNonZero(stationary) / z.area
        revisions: list[Revision] = []
        ghost = self._ghost_check(z, now, rel, stationary, score >= p.seat_off)
        if ghost is not None:
            start, end = ghost
            if not z.tainted:  # the person inside the reference was never reported: report them now
                revisions.append(Revision(start, end))
            z.tainted = False
            z.occupied, z.since, z.run_start = False, min(end, now), None
            z.activity.clear()
            return ZoneState(False, 0.0, 0.0, z.since, tuple(revisions))
        self._update_taint(z, now, rel, active, score)
        if z.tainted:
            raw = True
        elif z.occupied:
            raw = score >= p.seat_off
        else:
            raw = score >= p.seat_on
        if raw == z.occupied:
            z.run_start = None
        else:
            if z.run_start is None:
                z.run_start = now
            if now - z.run_start >= (p.confirm_s if raw else p.quiet_s):
                # a stationary pixel had been foreground for settle_s already when it counted
                z.occupied, z.since = raw, z.run_start - (p.settle_s if raw else 0.0)
                z.run_start = None
                z.activity.clear()  # a person inside the reference must show up anew
        return ZoneState(z.occupied, float(z.occupied), score, z.since, tuple(revisions))

    def _update_taint(self, z: _Zone, now: float, rel: float, active: float, score: float) -> None:
        """Keep a per-second activity history; a seat busy with activity but no foreground holds a person of the reference."""
        p = self.params
        sec = int(math.floor(now))
        hist = z.activity
        is_active = active >= p.activity_min
        if hist and hist[-1][0] == sec:
            if is_active and not hist[-1][1]:
                hist[-1] = (sec, True)
        else:
            hist.append((sec, is_active))
        while hist and hist[0][0] <= sec - p.taint_window_s:
            hist.popleft()
        if z.tainted:
            if now - z.last_motion >= p.untaint_s:
                z.tainted = False
                z.occupied, z.since, z.run_start = False, z.last_motion, None
            return
        if z.occupied or score >= p.seat_off or len(hist) < p.taint_window_s:
            return
        if sum(a for _, a in hist) >= p.taint_active * len(hist):
            # someone has been there since the activity began, or since the reference was taken
            z.tainted = True
            z.occupied, z.run_start = True, None
            z.since = max(z.idle_end, self._t0 + self._zone_seeded(z))

    def _zone_seeded(self, z: _Zone) -> float:
        return float(np.median(self._seeded_at[z.sl][z.mask > 0]))

    def _ghost_check(
        self, z: _Zone, now: float, rel: float, stationary: np.ndarray, present: bool
    ) -> tuple[float, float] | None:
        """(reference time, departure time) when the seat's still foreground is a ghost; tested once a second."""
        p = self.params
        if not present or now - z.last_motion < p.ghost_still_s or now - z.last_test < 1.0:
            return None
        z.last_test = now
        if _outline_ratio(self._norm[z.sl], self._ref_u8[z.sl], stationary) >= p.ghost_ratio:
            return None  # a clear new outline: someone sitting perfectly still
        seeded, _ = self._absorb(z, stationary, rel)
        return seeded, max(z.burst_start, seeded)  # they left when they stood up

    def _absorb(self, z: _Zone, blob: np.ndarray, rel: float) -> tuple[float, float]:
        """Learn the blob into the reference at once; (reference time, departure time) as absolute times."""
        sel = cv2.dilate(blob, _KERNEL).view(bool)
        seeded = float(np.median(self._seeded_at[z.sl][sel]))
        revealed = self._fg_start[z.sl][sel & (self._fg[z.sl] > 0)]
        left = float(np.median(revealed)) if revealed.size else rel
        self._ref[z.sl][sel] = self._norm[z.sl][sel]
        self._ref_u8[z.sl][sel] = self._norm[z.sl][sel]
        self._seeded_at[z.sl][sel] = rel
        self._fg[z.sl][sel] = 0
        self._stationary[z.sl][sel] = 0
        return self._t0 + seeded, self._t0 + left

    def _waiting_state(self, z: _Zone, now: float, rel: float) -> ZoneState:
        stationary = cv2.bitwise_and(self._stationary[z.sl], z.mask)
        revisions = self._waiting_ghosts(z, now, rel, stationary)
        rows = cv2.reduce(stationary, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).reshape(-1)
        count = float(rows @ z.row_weight) / 255.0
        z.occupied = count >= 0.5
        # no `since`: here occupied follows the count, and that is never backdated
        return ZoneState(z.occupied, count, count, None, tuple(revisions))

    def _waiting_ghosts(self, z: _Zone, now: float, rel: float, stationary: np.ndarray) -> list[Revision]:
        """Ghost test per still blob of the waiting area, every few seconds; ghosts become Revisions."""
        p = self.params
        if now - z.last_test < _WAITING_GHOST_PERIOD_S or not cv2.countNonZero(stationary):
            return []
        z.last_test = now
        n, labels, stats, _ = cv2.connectedComponentsWithStats(stationary, connectivity=8)
        ghosts: list[tuple[float, float, float]] = []  # (reference time, departure time, people)
        last_active = self._last_active[z.sl]
        for i in range(1, n):
            x, y, w, h, area = (int(v) for v in stats[i])
            blob_sl = (slice(y, y + h), slice(x, x + w))
            blob = np.where(labels[blob_sl] == i, 255, 0).astype(np.uint8)
            people = float(blob.sum(axis=1, dtype=np.int64) @ z.row_weight[y : y + h]) / 255.0
            # A seated person's sway moves edges inside their outline; a ghost's inside is still.
            # (Its rim is not judged: a neighbour's sway touches it.)
            inner = cv2.erode(blob, _KERNEL).view(bool)
            if not inner.any() or float(last_active[blob_sl][inner].max()) > rel - p.ghost_still_s:
                continue
            # they left while moving over it: the last activity there, less the activity lag
            near = cv2.dilate(blob, _KERNEL, iterations=2).view(bool)
            moved = float(last_active[blob_sl][near].max()) - p.activity_lag_s
            if _outline_ratio(self._norm[z.sl][blob_sl], self._ref_u8[z.sl][blob_sl], blob) >= p.ghost_ratio:
                continue
            box = (slice(z.sl[0].start + y, z.sl[0].start + y + h), slice(z.sl[1].start + x, z.sl[1].start + x + w))
            start, _ = self._absorb(_Zone(z.spec, box, blob, area, None), blob, rel)
            ghosts.append((start, max(start, self._t0 + moved), people))
        total = sum(g[2] for g in ghosts)
        if total < p.count_min_area:
            return []  # nothing, or scraps of one person (already learned into the reference)
        # Pieces of one departure arrive together: one revision for all of them. There were these
        # people from the reference's time until they left; since then their ghost was counted.
        people = max(1.0, float(round(total)))
        start = min(g[0] for g in ghosts)
        left = float(np.median([g[1] for g in ghosts]))
        return [Revision(start, left, people), Revision(left + p.settle_s, now, -total)]


# ---------------------------------------------------------------- helpers


def _grid(valid: np.ndarray, n: int) -> np.ndarray:
    """Flat indices of about n valid pixels on a regular grid."""
    flat = np.flatnonzero(valid.reshape(-1))
    step = max(1, flat.size // n)
    while step > 1 and valid.shape[1] % step == 0:
        step += 1  # a step that does not divide the width spreads samples over all columns
    return np.ascontiguousarray(flat[::step])


def _fit_lighting(f_u8: np.ndarray, r_u8: np.ndarray, band: float) -> tuple[float, float]:
    """Robust (gain, offset) with r ~ gain * f + offset: median offset, then least squares on inliers."""
    d = r_u8.astype(np.int16) - f_u8
    counts = np.bincount(d + 255, minlength=511)  # median by histogram: several times faster than np.median
    offset = float(np.searchsorted(np.cumsum(counts), (d.size + 1) // 2) - 255)
    f, r = f_u8.astype(np.float32), r_u8.astype(np.float32)
    gain = 1.0
    for width in (2 * band, band):
        w = (np.abs(f * gain + (offset - r)) < width).astype(np.float32)
        n = float(w.sum())
        if n < max(32, f.size // 5):
            break
        wf = w * f
        sf, sr = float(wf.sum()), float(w @ r)
        var = float(wf @ f) - sf * sf / n
        if var < 4.0 * n:  # under 2 grey levels of spread: the gain cannot be seen
            gain, offset = 1.0, (sr - sf) / n
            continue
        gain = min(max((float(wf @ r) - sf * sr / n) / var, _GAIN_LIMITS[0]), _GAIN_LIMITS[1])
        offset = (sr - gain * sf) / n
    return gain, offset


def _gradient(img: np.ndarray) -> np.ndarray:
    gx = cv2.Sobel(img, cv2.CV_16S, 1, 0, ksize=3)
    gy = cv2.Sobel(img, cv2.CV_16S, 0, 1, ksize=3)
    return cv2.addWeighted(cv2.convertScaleAbs(gx), 0.5, cv2.convertScaleAbs(gy), 0.5, 0)


def _outline_ratio(frame: np.ndarray, ref: np.ndarray, blob: np.ndarray) -> float:
    """Edge strength of the frame over that of the reference along the blob's outline.

    A person in the frame puts an edge on the outline; a ghost's outline is an edge of the
    reference only, the frame being the continuous empty background there.
    """
    band = cv2.morphologyEx(blob, cv2.MORPH_GRADIENT, _KERNEL) > 0
    if not band.any():
        return math.inf
    gf = float(_gradient(frame)[band].sum())
    gr = float(_gradient(ref)[band].sum())
    return gf / max(gr, 1.0)


# ---------------------------------------------------------------- per-second samples


class SecondAggregator:
    """Folds per-frame ZoneStates into one sample per zone per whole second.

    `occupied` is the state at the end of the second and `count` the mean over it. Seconds are
    held for hold_s before they are returned, so transitions backdated by `since` and Revisions
    found within that time still reach them (math.inf: hold everything until flush()).
    """

    def __init__(self, hold_s: float = 15.0) -> None:
        if not hold_s >= 0:
            raise ValueError(f"hold_s must be >= 0, got {hold_s}")
        self.hold_s = hold_s
        self._seconds: dict[int, dict[str, list]] = {}  # second -> zone -> [occupied, count_sum, n]
        self._last: dict[str, bool] = {}
        self._emitted = -(2**62)  # seconds up to this one have been returned

    def add(self, now: float, states: dict[str, ZoneState]) -> list[tuple[int, dict[str, dict]]]:
        """Record one frame's states; returns the seconds now complete and out of the hold."""
        sec = int(math.floor(now))
        if sec > self._emitted:
            row = self._seconds.setdefault(sec, {})
            for zid, st in states.items():
                cell = row.setdefault(zid, [False, 0.0, 0])
                cell[0] = st.occupied
                cell[1] += st.count
                cell[2] += 1
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
                cell = row[zid]
                cell[1] = max(cell[1] + rev.count * cell[2], 0.0)
                cell[0] = True if rev.count > 0 else cell[1] / cell[2] >= 0.5

    def _emit(self, done) -> list[tuple[int, dict[str, dict]]]:  # noqa: ANN001 - predicate
        out = []
        for s in sorted(self._seconds):
            if not done(s):
                break
            row = self._seconds.pop(s)
            out.append((s, {z: {"occupied": bool(c[0]), "count": round(c[1] / c[2], 3)} for z, c in row.items()}))
            self._emitted = s
        return out
