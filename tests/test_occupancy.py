"""ZoneOccupancy and SecondAggregator on synthetic frames: a textured scene, seated "people", noise and lighting."""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np
import pytest

from monitor.detect.occupancy import (
    OccupancyParams,
    Revision,
    SecondAggregator,
    ZoneOccupancy,
    ZoneSpec,
    ZoneState,
)

H, W = 180, 320
SHAPE = (H, W)
FPS = 5


def rect(x0: float, y0: float, x1: float, y1: float) -> tuple[tuple[float, float], ...]:
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


SEAT = ZoneSpec("seat", "staff_seat", rect(0.40, 0.20, 0.52, 0.50))
SPOT = ZoneSpec("spot", "service_spot", rect(0.70, 0.20, 0.82, 0.50))
WAIT = ZoneSpec("wait", "waiting_area", rect(0.02, 0.55, 0.62, 0.98), person_height=(0.5, 0.3))
DOOR = ZoneSpec("door", "motion", rect(0.86, 0.05, 0.98, 0.45))
ZONES = [SEAT, SPOT, WAIT, DOOR]


def scene(seed: int = 3) -> np.ndarray:
    """A still textured office-like scene (float32 grey, values within 60..190)."""
    rng = np.random.default_rng(seed)
    img = np.full(SHAPE, 120.0, np.float32)
    for _ in range(20):
        x0, y0 = rng.integers(0, W - 40), rng.integers(0, H - 30)
        img[y0 : y0 + rng.integers(10, 50), x0 : x0 + rng.integers(10, 80)] = rng.integers(80, 170)
    img += rng.normal(0.0, 5.0, SHAPE).astype(np.float32)  # fixed texture, not noise
    img = cv2.GaussianBlur(img, (3, 3), 0)
    return np.clip(img, 60, 190)


def person(img: np.ndarray, x: float, foot_y: float, height: float, value: float) -> None:
    """Draw a seated person (torso and head, anti-aliased) with the seat at (x, foot_y); sizes in pixels."""
    s = 16  # fixed-point: 4 fractional bits, so sub-pixel sway moves edges
    c = (int(x * s), int((foot_y - 0.35 * height) * s))
    cv2.ellipse(img, c, (int(0.16 * height * s), int(0.26 * height * s)), 0, 0, 360, value, -1, cv2.LINE_AA, 4)
    head = (int(x * s), int((foot_y - 0.72 * height) * s))
    cv2.circle(img, head, int(0.09 * height * s), value * 0.8 + 20, -1, cv2.LINE_AA, 4)


class Camera:
    """Frames of the scene with sensor noise, optional seated people and a lighting function."""

    def __init__(self, noise: float = 2.0, seed: int = 5) -> None:
        self.base = scene()
        rng = np.random.default_rng(seed)
        # a bank of noise fields cycled with a random offset: fresh-looking noise at a tenth of the cost
        self.noise = rng.normal(0.0, noise, (8, H + 16, W + 16)).astype(np.float32) if noise else None
        self.rng = rng

    def frame(
        self,
        people: list[tuple[float, float, float, float]] = (),  # (x, foot_y, height, value) in pixels
        light: Callable[[np.ndarray], np.ndarray] = lambda img: img,
    ) -> np.ndarray:
        img = self.base.copy()
        for x, y, h, v in people:
            person(img, x, y, h, v)
        img = light(img)
        if self.noise is not None:
            k, dy, dx = self.rng.integers(0, 8), self.rng.integers(0, 16), self.rng.integers(0, 16)
            img = img + self.noise[k, dy : dy + H, dx : dx + W]
        return np.clip(img, 0, 255).astype(np.uint8)


def seated_at(zone: ZoneSpec, t: float = 0.0, sway: float = 0.8, value: float = 40.0) -> tuple[float, float, float, float]:
    """A person filling the zone, swaying by `sway` pixels (periods of 7 s and 2.3 s, like breathing and shifting)."""
    (x0, y0), _, (x1, y1), _ = zone.points
    dx = sway * (math.sin(2 * math.pi * t / 7.0) + 0.5 * math.sin(2 * math.pi * t / 2.3))
    return ((x0 + x1) / 2 * W + dx, y1 * H, (y1 - y0) * H * 1.1, value)


def run(occ: ZoneOccupancy, cam: Camera, t0: float, t1: float, people_at: Callable[[float], list], **kw) -> list[tuple[float, dict[str, ZoneState]]]:
    out = []
    for i in range(round((t1 - t0) * FPS)):
        t = t0 + i / FPS
        out.append((t, occ.update(cam.frame(people_at(t), **kw), t)))
    return out


# ---------------------------------------------------------------- seats


def test_person_sitting_still_for_ten_minutes_stays_occupied() -> None:
    cam, occ = Camera(), ZoneOccupancy(SHAPE, ZONES)
    run(occ, cam, 0, 10, lambda t: [])
    # walks in over 2 s, then sits nearly still for 10 minutes
    (x, y, h, v) = seated_at(SEAT)
    run(occ, cam, 10, 12, lambda t: [(x + 60 * (12 - t), y, h, v)])
    states = run(occ, cam, 12, 612, lambda t: [seated_at(SEAT, t, sway=0.4)])
    occupied = [s["seat"].occupied for t, s in states if t >= 16]
    assert all(occupied)
    assert not any(s["spot"].occupied for _, s in states)
    assert all(s["wait"].count < 0.3 for _, s in states)


def test_perfectly_still_person_is_kept() -> None:
    """No sway at all: no activity, so the outline test alone must keep them."""
    cam, occ = Camera(), ZoneOccupancy(SHAPE, ZONES)
    run(occ, cam, 0, 5, lambda t: [])
    states = run(occ, cam, 5, 305, lambda t: [seated_at(SEAT, sway=0.0, value=220)])
    assert all(s["seat"].occupied for t, s in states if t >= 9)


@pytest.mark.parametrize("step", [25.0, -25.0])
def test_lighting_step_and_drift_never_occupy_empty_zones(step: float) -> None:
    cam, occ = Camera(), ZoneOccupancy(SHAPE, ZONES)

    def light_at(t: float) -> Callable[[np.ndarray], np.ndarray]:
        offset = 8.0 * math.sin(2 * math.pi * t / 120.0) + (step if 60 <= t < 150 else 0.0)
        gain = 1.0 + 0.05 * math.sin(2 * math.pi * t / 200.0)
        return lambda img: img * gain + offset

    for i in range(240 * FPS):
        t = i / FPS
        states = occ.update(cam.frame([], light=light_at(t)), t)
        assert not any(states[z].occupied for z in ("seat", "spot", "wait")), t
        assert states["wait"].count < 0.3


def test_hysteresis_timing_with_backdated_since() -> None:
    p = OccupancyParams()
    cam, occ = Camera(), ZoneOccupancy(SHAPE, ZONES, p)
    present = [(20, 60), (62, 100)]  # a 2 s gap (bending for a bag) does not end the stay

    def people(t: float) -> list:
        return [seated_at(SEAT, t)] if any(a <= t < b for a, b in present) else []

    states = run(occ, cam, 0, 130, people)
    on = [t for t, s in states if s["seat"].occupied]
    assert on[0] == pytest.approx(20 + p.settle_s + p.confirm_s, abs=0.5)
    assert on[-1] == pytest.approx(100 + p.quiet_s, abs=0.5)
    assert len(on) == pytest.approx((100 + p.quiet_s - on[0]) * FPS, abs=2)  # no gap at 60..62
    first = next(s["seat"] for t, s in states if s["seat"].occupied)
    assert first.since == pytest.approx(20, abs=0.5)
    last = next(s["seat"] for t, s in states if t > on[-1])
    assert not last.occupied and last.since == pytest.approx(100, abs=0.5)


def test_person_already_seated_in_the_first_frame() -> None:
    """The reference starts with them in it: their movement, then their ghost, put them back."""
    cam, occ = Camera(), ZoneOccupancy(SHAPE, ZONES)
    states = run(occ, cam, 0, 60, lambda t: [seated_at(SEAT, t), seated_at(SPOT, t, value=200)])
    assert all(s["seat"].occupied and s["spot"].occupied for t, s in states if t >= 15)
    since = states[-1][1]["seat"].since
    assert since == pytest.approx(0.0, abs=0.5)  # occupied since the reference was taken
    # the seat's person leaves: ghost at first, then learned; the seat is free from when they left
    states = run(occ, cam, 60, 100, lambda t: [seated_at(SPOT, t, value=200)])
    seat = [s["seat"] for _, s in states]
    assert not seat[-1].occupied
    assert seat[-1].since == pytest.approx(60, abs=1.0)
    assert all(s["spot"].occupied for _, s in states)
    # and an empty seat stays empty
    states = run(occ, cam, 100, 130, lambda t: [seated_at(SPOT, t, value=200)])
    assert not any(s["seat"].occupied for _, s in states)


def test_ghost_of_an_unseen_person_becomes_a_revision() -> None:
    """Perfectly still in the first frame, so never seen moving: reported when they leave."""
    cam, occ = Camera(), ZoneOccupancy(SHAPE, ZONES)
    run(occ, cam, 0, 30, lambda t: [seated_at(SEAT, sway=0.0)])
    states = run(occ, cam, 30, 60, lambda t: [])
    revisions = [r for _, s in states for r in s["seat"].revisions]
    assert len(revisions) == 1
    assert revisions[0].start == pytest.approx(0.0, abs=0.5) and revisions[0].end == pytest.approx(30, abs=1.0)
    assert not states[-1][1]["seat"].occupied


# ---------------------------------------------------------------- waiting area and motion


def wait_row(n: int, t: float = 0.0) -> list[tuple[float, float, float, float]]:
    """n people seated in the waiting area, bottom row, sized by its perspective calibration."""
    near, far = WAIT.person_height
    (x0, y0), _, (x1, y1), _ = WAIT.points
    foot = 0.93
    h_std = (far + (near - far) * (foot - y0) / (y1 - y0)) * H  # standing height at the seat row
    out = []
    for i in range(n):
        x = (x0 + (i + 0.5) * (x1 - x0) / 3) * W
        dx = 0.6 * math.sin(2 * math.pi * (t + i) / 5.0)
        out.append((x + dx, foot * H, 0.68 * h_std, (40.0, 215.0, 60.0)[i]))
    return out


@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_waiting_area_counts_people_with_perspective(n: int) -> None:
    cam, occ = Camera(), ZoneOccupancy(SHAPE, ZONES)
    run(occ, cam, 0, 5, lambda t: [])
    states = run(occ, cam, 5, 25, lambda t: wait_row(n, t))
    counts = [s["wait"].count for t, s in states if t >= 10]
    assert np.mean(counts) == pytest.approx(n, abs=0.4)
    assert all(s["wait"].occupied == (n > 0) for t, s in states if t >= 10)


def test_motion_zone_follows_movement_with_a_short_hold() -> None:
    cam, occ = Camera(), ZoneOccupancy(SHAPE, ZONES)
    run(occ, cam, 0, 5, lambda t: [])
    walker = lambda t: [(0.92 * W, 0.45 * H + 10 * math.sin(4 * t), 60, 40)] if 10 <= t < 14 else []  # noqa: E731
    states = dict(run(occ, cam, 5, 25, walker))
    assert not states[9.0]["door"].occupied
    assert states[12.0]["door"].occupied and states[12.0]["door"].count == 1.0
    assert not states[20.0]["door"].occupied


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: ZoneSpec("a", "sofa", rect(0.1, 0.1, 0.3, 0.3)), "kind"),
        (lambda: ZoneSpec("a", "staff_seat", ((0.1, 0.1), (0.2, 0.2))), "at least 3"),
        (lambda: ZoneSpec("a", "staff_seat", ((0.1, 0.1), (0.2, float("nan")), (0.3, 0.1))), "normalised"),
        (lambda: ZoneSpec("a", "staff_seat", rect(0.1, 0.1, 1.5, 0.3)), "normalised"),
        (lambda: ZoneSpec("a", "waiting_area", rect(0.1, 0.1, 0.3, 0.3), person_height=(0.0, 0.2)), "person_height"),
        (lambda: ZoneOccupancy(SHAPE, [ZoneSpec("a", "staff_seat", rect(0.5, 0.5, 0.501, 0.501))]), "no watched pixel"),
        (lambda: ZoneOccupancy(SHAPE, [SEAT, SEAT]), "unique"),
        (lambda: ZoneOccupancy(SHAPE, [SEAT], mask=np.zeros((10, 10), bool)), "mask shape"),
        (lambda: ZoneOccupancy((2, 3), [SEAT]), "shape"),
        (lambda: ZoneOccupancy(SHAPE, [SEAT]).update(np.zeros((10, 10), np.uint8), 0.0), "expected"),
    ],
)
def test_bad_zones_and_frames_raise(make: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_zone_spec_from_config_zone() -> None:
    from monitor.site.config import Zone

    zone = Zone(id="wait", kind="waiting_area", points=[[0, 0.5], [1, 0.5], [1, 1]], person_height=[0.5, 0.3])
    spec = ZoneSpec.from_zone(zone)
    assert spec == ZoneSpec("wait", "waiting_area", ((0.0, 0.5), (1.0, 0.5), (1.0, 1.0)), (0.5, 0.3))


# ---------------------------------------------------------------- SecondAggregator


def st(occupied: bool, count: float | None = None, since: float | None = None, revisions=()) -> ZoneState:
    return ZoneState(occupied, float(occupied) if count is None else count, 0.0, since, tuple(revisions))


def test_aggregator_one_sample_per_second_after_the_hold() -> None:
    agg = SecondAggregator(hold_s=0)
    out = []
    for i in range(15):  # 100.0 .. 102.8 at 5 fps
        t = 100 + i / 5
        out += agg.add(t, {"w": st(i >= 4, count=float(i % 5)), "s": st(i >= 7)})
    out += agg.flush()
    assert [s for s, _ in out] == [100, 101, 102]
    assert out[0][1]["w"] == {"occupied": True, "count": 2.0}  # state at the end of the second, mean count
    assert out[1][1]["s"]["occupied"] is True
    assert agg.flush() == []


def test_aggregator_backdates_transitions_and_applies_revisions() -> None:
    agg = SecondAggregator(hold_s=10)
    out = []
    for i in range(100):  # 0..19.8 s
        t = i / 5
        occupied = t >= 12
        revs = [Revision(2.0, 5.0)] if i == 60 else []  # found at 12 s, while 2..5 is still held
        out += agg.add(t, {"s": st(occupied, since=8.0 if occupied else 0.0, revisions=revs)})
    assert [s for s, _ in out] == list(range(9))  # seconds up to 19.8 - 10 - 1
    out += agg.flush()
    occupied = [z["s"]["occupied"] for _, z in out]
    assert occupied == [False] * 2 + [True] * 3 + [False] * 3 + [True] * 12  # revision 2..5, since 8
    assert out[3][1]["s"]["count"] == 1.0


def test_aggregator_rejects_negative_hold() -> None:
    with pytest.raises(ValueError):
        SecondAggregator(hold_s=-1)
