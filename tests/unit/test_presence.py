"""The person detector, the tile plan and the person-based zone presence (PersonOccupancy)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from monitor.detect.occupancy import SecondAggregator, ZoneSpec
from monitor.detect.persons import PERSON_CLASS, Detection, PersonModel, suppress
from monitor.detect.looks import covers, flat_lut, likeness, same_look
from monitor.detect.presence import PersonOccupancy, PresenceParams
from monitor.detect.tiles import (FOOTPRINT_MAX, MIN_HEAD_SIGHTINGS, STAFF_HEAD_H, Perspective, body_drawn_zones,
                                  head_height_zones, height_factor, plan_tiles, scaled_heights, walker_factor)
from monitor.detect.walkers import WALKING_ZONE

SEAT = ZoneSpec("staff", "staff_seat", ((0.40, 0.30), (0.46, 0.30), (0.46, 0.33), (0.40, 0.33)))
SPOT = ZoneSpec("spot", "service_spot", ((0.40, 0.40), (0.46, 0.40), (0.46, 0.44), (0.40, 0.44)))
WAIT = ZoneSpec("wait", "waiting_area", ((0.0, 0.5), (1.0, 0.5), (1.0, 1.0), (0.0, 1.0)), (0.3, 0.22))
ASPECT = 16 / 9
SEATED = PresenceParams().area_seated_ratio


class FakeModel:
    """Stands in for the CNN: returns the people placed in the frame (normalised boxes) that fall in the crop."""

    def __init__(self) -> None:
        self.people: list[tuple[float, float, float, float]] = []
        self.crops: list[tuple[int, int]] = []
        self.calls = 0
        # people shorter than this share of the crop are too small for it (as for the real model's input)
        self.min_rel_height = 0.0
        self.flaky: set[int] = set()  # people (indices) each crop holding them finds only every other time
        # things it calls people only while they are small in its input (over this share of the crop: not)
        self.max_rel_height = math.inf
        self.seen: dict[tuple[int, int, int], int] = {}
        self.scores: dict[int, float] = {}  # people (indices) scoring other than 0.6

    def detect(self, rgb: np.ndarray, min_score: float) -> list[Detection]:
        return self.boxes(rgb, min_score)  # one box per person already

    def boxes(self, rgb: np.ndarray, min_score: float, mirrored: bool = False) -> list[Detection]:
        self.calls += 1
        # the crop's place is written into its first pixel row by the test frame (x0, y0 in pixels / 4)
        x0, y0 = int(rgb[0, 0, 0]) * 4, int(rgb[0, 0, 1]) * 4
        h, w = rgb.shape[:2]
        out = []
        for k, (bx0, by0, bx1, by1) in enumerate(self.people):
            px = (bx0 * W - x0, by0 * H - y0, bx1 * W - x0, by1 * H - y0)
            score = self.scores.get(k, 0.6)
            if (px[0] >= 0 and px[1] >= 0 and px[2] <= w and px[3] <= h and score >= min_score
                    and self.min_rel_height * h <= px[3] - px[1] <= self.max_rel_height * h):
                n = self.seen[k, x0, y0] = self.seen.get((k, x0, y0), 0) + 1
                if k not in self.flaky or n % 2:
                    out.append(Detection(px[0] / w, px[1] / h, px[2] / w, px[3] / h, score))
        return out


W, H = 640, 360


def _frame_for(occ: PersonOccupancy):
    """An RGB frame whose pixels tell the fake model where its crop came from."""
    img = np.zeros((H, W, 3), np.uint8)
    ys, xs = np.mgrid[0:H, 0:W]
    img[..., 0] = (xs // 4).clip(0, 255)
    img[..., 1] = (ys // 4).clip(0, 255)
    return lambda: img


def _seated(zone: ZoneSpec, persp: Perspective) -> tuple[float, float, float, float]:
    """A seated person's box whose lowest row is the desk edge, a little above the seat's footprint."""
    xs = [p[0] for p in zone.points]
    ys = [p[1] for p in zone.points]
    h = persp.height(max(ys))
    bottom = min(ys) - 0.1 * h
    return (min(xs), bottom - 0.5 * h, max(xs), bottom)


def _moving(box: tuple[float, float, float, float]) -> np.ndarray:
    """A change map with motion over a box (normalised): someone moving there."""
    motion = np.zeros((180, 320), np.uint8)
    x0, y0, x1, y1 = box
    motion[int(y0 * 180):int(np.ceil(y1 * 180)), int(x0 * 320):int(np.ceil(x1 * 320))] = 255
    return motion


def _run(
    occ: PersonOccupancy, t0: float, t1: float, fps: float = 5.0, moving: tuple[float, float, float, float] | None = None,
) -> list[tuple[float, dict]]:
    """Frames from t0 to t1; motion over `moving` during the first second (someone leaving it), else none."""
    frame = _frame_for(occ)
    still = np.zeros((180, 320), np.uint8)
    out = []
    for k in range(int(round((t1 - t0) * fps))):
        t = t0 + k / fps
        motion = _moving(moving) if moving is not None and t - t0 < 1.0 else still
        out.append((t, occ.update(t, motion, frame)))
    return out


def test_anchors_and_decoding_follow_the_graph() -> None:
    model = PersonModel()
    assert model.anchors.shape == (1917, 4)
    raw = np.zeros((1917, 4), np.float32)
    logit = np.full(1917, -10.0, np.float32)
    logit[0] = 10.0  # the first anchor of the 19x19 layer: centre (0.5/19, 0.5/19), size 0.1
    (d,) = model.decode(raw, logit, 0.5)
    assert (d.x0 + d.x1) / 2 == pytest.approx(0.5 / 19, abs=1e-6)
    assert d.y1 - d.y0 == pytest.approx(0.1, abs=1e-6) and d.score > 0.99
    assert PERSON_CLASS == 4


def test_mirrored_runs_average_each_anchor_with_its_mirror_anchor() -> None:
    model = PersonModel()
    a = model.anchors
    assert sorted(model.mirror.tolist()) == list(range(len(a)))
    assert np.allclose(a[model.mirror, 0], 1.0 - a[:, 0], atol=1e-5) and np.allclose(a[model.mirror, 1:], a[:, 1:])
    k = 3  # an anchor of the 19x19 layer's second column; its mirror anchor lies in the next-to-last
    m = int(model.mirror[k])
    assert a[k, 0] < 0.5 < a[m, 0]
    runs = []

    class Session:  # the model's outputs: anchor k scores logit 3 on the image, its mirror anchor 1 on the mirror image
        def run(self, _names, feed):  # noqa: ANN001, ANN202
            image = feed[model.input]
            runs.append(image)
            boxes = np.zeros((1, len(a), 4), np.float32)
            logits = np.full((1, len(a), 24), -10.0, np.float32)
            if len(runs) == 1:
                logits[0, k, PERSON_CLASS], boxes[0, k, 1] = 3.0, 1.0  # and its box 0.1 anchor widths right
            else:
                logits[0, m, PERSON_CLASS], boxes[0, m, 1] = 1.0, 3.0  # 0.3 widths right on the mirror: left here
            return boxes, logits

    model.session = Session()  # type: ignore[assignment]
    img = np.random.default_rng(1).integers(0, 255, (300, 300, 3), dtype=np.uint8)
    (d,) = model.boxes(img, 0.5, mirrored=True)
    assert np.array_equal(runs[1], runs[0][..., ::-1])  # the second run saw the mirror image
    assert d.score == pytest.approx(1 / (1 + math.exp(-2.0)), abs=1e-5)  # the mean logit, 2
    assert (d.x0 + d.x1) / 2 == pytest.approx(a[k, 0] + (0.1 - 0.3) / 2 * a[k, 2], abs=1e-5)  # the mean offset
    runs.clear()
    (d,) = model.boxes(img, 0.5)
    assert len(runs) == 1 and d.score == pytest.approx(1 / (1 + math.exp(-3.0)), abs=1e-5)


def test_only_the_seated_scale_tiles_run_the_model_mirrored_too() -> None:
    flags: dict[str, set[bool]] = {"seat": set(), "standing": set(), "seated": set()}
    current = ["seat"]  # the kind of tile running
    fake = FakeModel()
    occ = PersonOccupancy([SEAT, SPOT, WAIT], ASPECT, model=fake)  # type: ignore[arg-type]
    original = fake.boxes

    def boxes(rgb: np.ndarray, min_score: float, mirrored: bool = False) -> list[Detection]:
        flags[current[0]].add(mirrored)
        return original(rgb, min_score, mirrored)

    fake.boxes = boxes  # type: ignore[method-assign]
    run = occ._run_tile

    def run_tile(i: int, rgb: np.ndarray, now: float) -> None:
        ts = occ.tiles[i]
        current[0] = "seat" if ts.seats else "seated" if ts.seated_scale else "standing"
        run(i, rgb, now)

    occ._run_tile = run_tile  # type: ignore[method-assign]
    _run(occ, 0.0, 5.0)
    assert flags == {"seat": {False}, "standing": {False}, "seated": {True}}
    occ = PersonOccupancy([SEAT, SPOT, WAIT], ASPECT, PresenceParams(seated_mirrored=False), model=fake)  # type: ignore[arg-type]
    flags["seated"].clear()
    run = occ._run_tile
    occ._run_tile = run_tile  # type: ignore[method-assign]
    _run(occ, 0.0, 5.0)
    assert flags["seated"] == {False}


def test_the_model_finds_the_clerk_and_not_an_empty_wall(tmp_path) -> None:  # noqa: ANN001
    """The real model on the project's own renderer: the seated clerk is found where the layout puts them."""
    import av

    from monitor.simulate import SimConfig, simulate_office
    from monitor.simulate.model import OfficeModel

    cfg = SimConfig(minutes=0.05, seed=28, main_size=(640, 360), sub_size=(320, 180))
    sim = simulate_office(tmp_path, cfg)
    with av.open(str(sim.videos["quay-1"]["main"])) as c:
        rgb = next(c.decode(video=0)).to_ndarray(format="rgb24")
    layout = OfficeModel(cfg).counters["quay-1"].layout
    x, y = layout.staff_seat
    side = int(1.6 * layout.height(y) * 360)  # the seats' tile size (SEATED_RATIO)
    x0, y0 = int(x * 640 - side / 2), max(int(y * 360 - side), 0)
    model = PersonModel()
    found = model.detect(np.ascontiguousarray(rgb[y0:y0 + side, x0:x0 + side]), 0.3)
    centres = [(x0 + (d.x0 + d.x1) / 2 * side) / 640 for d in found]
    assert any(abs(cx - x) < 0.05 for cx in centres), (found, x)
    assert not model.detect(np.full((300, 300, 3), 200, np.uint8), 0.3)


@pytest.mark.parametrize(
    ("boxes", "kept"),
    [
        ([(0.1, 0.1, 0.3, 0.5, 0.9), (0.13, 0.2, 0.33, 0.55, 0.5)], [0.9]),  # duplicate
        ([(0.1, 0.1, 0.3, 0.5, 0.9), (0.15, 0.3, 0.25, 0.45, 0.5)], [0.9]),  # a part inside a person
        ([(0.1, 0.1, 0.2, 0.4, 0.9), (0.1, 0.1, 0.2, 0.2, 0.5)], [0.5]),  # same head: the shorter box wins
        ([(0.1, 0.2, 0.3, 0.6, 0.9), (0.12, 0.1, 0.28, 0.3, 0.5)], [0.9, 0.5]),  # a head above: someone behind
        ([(0.1, 0.1, 0.2, 0.4, 0.9), (0.5, 0.1, 0.6, 0.4, 0.5)], [0.9, 0.5]),  # apart
    ],
)
def test_suppress(boxes: list, kept: list) -> None:
    assert [d.score for d in suppress([Detection(*b) for b in boxes])] == kept


def test_suppress_with_groups_checks_boxes_only_against_other_groups() -> None:
    one, dup = Detection(0.1, 0.1, 0.3, 0.5, 0.9), Detection(0.13, 0.2, 0.33, 0.55, 0.5)
    assert suppress([one, dup], [0, 0]) == [one, dup]  # told apart by one run of the model: two people
    assert suppress([one, dup], [0, 1]) == [one]  # two tiles found the same person


def test_perspective_from_zones_and_default() -> None:
    p = Perspective.from_zones([WAIT])
    assert p.height(1.0) == pytest.approx(0.3) and p.height(0.5) == pytest.approx(0.22)
    assert Perspective.from_zones([SEAT]).height(1.0) == pytest.approx(0.45)


def test_a_calibration_with_heads_on_one_row_is_a_camera_at_head_height() -> None:
    """The height's slope against the feet row is a person's height over the camera's: 1 at head height."""
    street = ZoneSpec("street", "waiting_area", ((0.0, 0.53), (1.0, 0.53), (1.0, 1.0), (0.0, 1.0)), (0.863, 0.064))
    hall = ZoneSpec("hall", "waiting_area", ((0.0, 0.47), (1.0, 0.47), (1.0, 0.99), (0.0, 0.99)), (0.291, 0.229))
    walkway = ZoneSpec("walk", "waiting_area", ((0.0, 0.26), (1.0, 0.26), (1.0, 1.0), (0.0, 1.0)), (0.261, 0.092))
    assert Perspective.from_zones([street]).b == pytest.approx(1.70, abs=0.01)  # MOT15 ADL-Rundle-6's calibration
    assert Perspective.from_zones([street]).at_head_height
    assert not Perspective.from_zones([hall]).at_head_height  # the development offices' (slope 0.12)
    assert not Perspective.from_zones([walkway]).at_head_height  # PETS S2L1's (0.23)
    assert head_height_zones([street, hall, SEAT, walkway]) == ["street"]  # SEAT has no person_height


def test_a_seat_drawn_around_a_body_is_told_from_a_floor_footprint() -> None:
    """office-4c's counter 1 as score.py gives it: floor footprints 0.13 and 0.18 standing heights tall at their
    lowest rows, the bodies using them 0.53 (a clerk above the desk) and 0.90 (a seated citizen)."""
    hall = ZoneSpec("hall", "waiting_area", ((0.0, 0.47), (1.0, 0.47), (1.0, 0.99), (0.0, 0.99)), (0.291, 0.229))
    seat = ZoneSpec("seat", "staff_seat", ((0.2773, 0.2974), (0.3256, 0.2974), (0.3357, 0.2695), (0.2902, 0.2695)))
    spot = ZoneSpec("spot", "service_spot", ((0.25, 0.3554), (0.3, 0.3554), (0.31, 0.3157), (0.26, 0.3157)))
    seat_body = ZoneSpec("seat_body", "staff_seat", ((0.3237, 0.2242), (0.314, 0.2467), (0.2706, 0.2467),
                                                     (0.2551, 0.1417), (0.2687, 0.1236), (0.3124, 0.1236)))
    spot_body = ZoneSpec("spot_body", "service_spot", ((0.3082, 0.3352), (0.2898, 0.3849), (0.2408, 0.3849),
                                                       (0.2077, 0.2046), (0.2361, 0.1668), (0.286, 0.1668)))
    zones = [hall, seat, spot, seat_body, spot_body]
    persp = Perspective.from_zones(zones)
    tall = {z.id: (max(p[1] for p in z.points) - min(p[1] for p in z.points)) / persp.height(max(p[1] for p in z.points))
            for z in zones}
    assert tall["seat"] < 0.2 and tall["spot"] < 0.2 and tall["seat_body"] > 0.5 and tall["spot_body"] > 0.85
    assert body_drawn_zones(zones) == ["seat_body", "spot_body"]  # the waiting area is never one: it spans the hall
    assert body_drawn_zones([seat, spot, seat_body, spot_body]) == []  # no calibration: the standing height is a guess
    # just over and just under the line, at the footprint's own row
    row = 0.3
    band = lambda k: ZoneSpec(f"band{k}", "staff_seat", ((0.1, row - k * persp.height(row)), (0.2, row - k * persp.height(row)),  # noqa: E731
                                                          (0.2, row), (0.1, row)))
    assert body_drawn_zones([hall, band(FOOTPRINT_MAX * 1.02), band(FOOTPRINT_MAX * 0.98)]) == [f"band{FOOTPRINT_MAX * 1.02}"]


@pytest.mark.parametrize("factor", [1.0, 1.47, 0.77])
def test_the_clerks_head_tops_say_how_far_person_height_is_off(factor: float) -> None:
    """A clerk whose head top is STAFF_HEAD_H x factor standing heights (by the calibration) above the middle row of
    their seat's footprint: the height check finds factor once MIN_HEAD_SIGHTINGS looks have found them, and a
    citizen on the service spot adds nothing."""
    fake = FakeModel()
    occ = PersonOccupancy([SEAT, SPOT, WAIT], ASPECT, model=fake)  # type: ignore[arg-type]
    ys = [p[1] for p in SEAT.points]
    row = (min(ys) + max(ys)) / 2
    h = occ.persp.height(row)
    fake.people = [(0.40, row - STAFF_HEAD_H * factor * h, 0.46, min(ys) - 0.05 * h), _seated(SPOT, occ.persp)]
    _run(occ, 0.0, 6.0)
    n, found = occ.height_check()
    assert 0 < n < MIN_HEAD_SIGHTINGS and found is None  # too few looks yet
    _run(occ, 6.0, 120.0)
    n, found = occ.height_check()
    assert n >= MIN_HEAD_SIGHTINGS and found == pytest.approx(factor, abs=0.03)  # the fake model places crops to 4 px


@pytest.mark.parametrize("factor", [1.0, 1.4, 0.75])
def test_without_staff_seats_people_walking_say_how_far_person_height_is_off(factor: float) -> None:
    """A camera with only a waiting area: someone walking there, their box factor standing heights tall by the
    calibration, gives the height check factor once MIN_HEAD_SIGHTINGS sweeps have found them moving; standing
    still, nobody is measured; with a staff seat in view, the officers' head tops are measured instead."""
    fake = FakeModel()
    occ = PersonOccupancy([WAIT], ASPECT, model=fake)  # type: ignore[arg-type]
    bottom = 0.8
    box = (0.30, bottom - factor * occ.persp.height(bottom), 0.34, bottom)
    fake.people = [box]
    frame = _frame_for(occ)
    for k in range(150):  # 30 s at 5 fps, standing still
        occ.update(k / 5, np.zeros((180, 320), np.uint8), frame)
    assert occ.height_check() == (0, None) and occ.height_source() == "walkers"
    for k in range(150, 500):  # then walking on the spot for 70 s (a sweep every 2 s)
        occ.update(k / 5, _moving(box), frame)
    n, found = occ.height_check()
    assert n >= MIN_HEAD_SIGHTINGS and found == pytest.approx(factor, abs=0.03)
    officer = PersonOccupancy([SEAT, WAIT], ASPECT, model=fake)  # type: ignore[arg-type]
    for k in range(150):
        officer.update(k / 5, _moving(box), _frame_for(officer))
    assert officer.height_source() == "staff_seats" and officer.height_check() == (0, None)  # nobody at the desk


def test_walker_factor_is_the_median_box() -> None:
    assert walker_factor([1.0] * (MIN_HEAD_SIGHTINGS - 1)) is None
    assert walker_factor([0.6] * 10 + [1.3] * 40) == pytest.approx(1.3)  # a few seated people stirring do not move it


def test_the_correction_scales_the_calibration_or_the_default_camera() -> None:
    """scaled_heights: every person_height times the factor (at most 1); with none, the waiting area gets the default
    camera's heights at its edges times the factor, which puts the perspective on the default line times it."""
    assert scaled_heights([SEAT, SPOT, WAIT], 1.5) == {"wait": (0.45, 0.33)}
    assert scaled_heights([WAIT], 4.0) == {"wait": (1.0, 0.88)}
    bare = [SEAT, SPOT, ZoneSpec("wait", "waiting_area", WAIT.points)]
    heights = scaled_heights(bare, 0.68)
    default = Perspective.from_zones(bare)
    assert list(heights) == ["wait"]
    fixed = Perspective.from_zones([ZoneSpec("wait", "waiting_area", WAIT.points, heights["wait"])])
    for y in (0.0, 0.3, 0.75, 1.0):
        assert fixed.height(y) == pytest.approx(0.68 * default.height(y), abs=1e-3)
    assert scaled_heights([SEAT], 0.68) == {"staff": pytest.approx((0.68 * default.height(0.33), 0.68 * default.height(0.30)), abs=1e-4)}
    assert scaled_heights([], 0.68) == {}


def test_height_factor_is_the_median_head_top_over_the_staff_head_height() -> None:
    assert height_factor([0.66] * (MIN_HEAD_SIGHTINGS - 1)) is None
    assert height_factor([0.3] * 10 + [0.99] * 40) == pytest.approx(1.5)  # a few short boxes do not move it
    assert height_factor([STAFF_HEAD_H] * MIN_HEAD_SIGHTINGS) == 1.0


def test_tiles_cover_every_anchor_once_with_the_whole_person() -> None:
    persp = Perspective.from_zones([WAIT])
    tiles = plan_tiles([WAIT.points, SEAT.points], persp, ASPECT)
    assert tiles
    rng = np.random.default_rng(1)
    for x, y in rng.uniform([0.0, 0.3], [1.0, 1.0], (400, 2)):
        owners = [t for t in tiles if t.owns(x, y)]
        assert len(owners) == 1, (x, y)
        x0, y0, x1, y1 = owners[0].box
        assert y0 <= y - persp.height(y) + 1e-9 or y0 == 0.0  # the head fits
        assert y <= y1 + 1e-9 and x0 <= x <= x1


def test_seat_occupied_from_the_first_frame_reads_occupied_within_seconds_backdated() -> None:
    fake = FakeModel()
    occ = PersonOccupancy([SEAT, SPOT, WAIT], ASPECT, model=fake)  # type: ignore[arg-type]
    fake.people = [_seated(SEAT, occ.persp)]
    states = _run(occ, 100.0, 110.0)
    on = next(t for t, s in states if s["staff"].occupied)
    assert on - 100.0 <= 5.0
    assert next(s for t, s in states if s["staff"].occupied)["staff"].since == pytest.approx(100.0, abs=0.5)
    assert not any(s["spot"].occupied for _, s in states)  # the clerk is not the citizen
    assert all(s["wait"].count == 0 for _, s in states)


@pytest.mark.parametrize(("needs_motion", "stays"), [(True, True), (False, False)])
def test_a_clerk_the_detector_stops_finding_stays_until_motion_shows_them_leave(needs_motion: bool, stays: bool) -> None:
    """Missed for longer than off_s without any motion over them (a noisy picture): still there."""
    fake = FakeModel()
    occ = PersonOccupancy([SEAT, SPOT, WAIT], ASPECT, PresenceParams(off_needs_motion=needs_motion), model=fake)  # type: ignore[arg-type]
    clerk = _seated(SEAT, occ.persp)
    fake.people = [clerk]
    _run(occ, 0.0, 10.0)
    fake.people = []  # the detector loses them; nothing moves
    states = _run(occ, 10.0, 40.0)
    assert all(s["staff"].occupied for _, s in states) is stays
    if stays:  # then they do get up and go
        states = _run(occ, 40.0, 60.0, moving=clerk)
        assert not states[-1][1]["staff"].occupied


def test_a_seat_nobody_is_seen_on_for_long_turns_off_without_motion_backdated() -> None:
    """Someone left unseen by the change map (a dim picture): off after off_still_s, dated to the last sighting."""
    fake = FakeModel()
    p = PresenceParams()
    occ = PersonOccupancy([SEAT, SPOT, WAIT], ASPECT, model=fake)  # type: ignore[arg-type]
    fake.people = [_seated(SEAT, occ.persp)]
    _run(occ, 0.0, 10.0)
    fake.people = []
    states = _run(occ, 10.0, 10.0 + p.off_still_s + 10.0)
    off = next(t for t, s in states if not s["staff"].occupied)
    assert p.off_still_s <= off <= 10.0 + p.off_still_s + 2 * p.seat_period_s
    assert states[-1][1]["staff"].since == pytest.approx(10.0, abs=2 * 2 * p.seat_period_s)


def test_seat_found_at_its_first_analysis_is_occupied_from_the_first_frame() -> None:
    # a small budget: the seat's tile gets its first turn seconds after the worker (re)started
    fake = FakeModel()
    params = PresenceParams(calls_per_s=0.5, max_burst=1.0)
    occ = PersonOccupancy([SEAT, SPOT, WAIT], ASPECT, params, model=fake)  # type: ignore[arg-type]
    fake.people = [_seated(SEAT, occ.persp)]
    states = _run(occ, 100.0, 130.0)
    on = next(t for t, s in states if s["staff"].occupied)
    assert on - 100.0 > params.on_s + 1.0
    assert states[-1][1]["staff"].since == pytest.approx(100.0, abs=1e-6)


def test_a_seats_state_gives_the_share_of_its_place_that_motion_covers() -> None:
    """`moved`: motion over the spot's footprint and the seated body above it (someone walking up and
    sitting down) counts; motion over the clerk's seat behind it does not."""
    fake = FakeModel()
    occ = PersonOccupancy([SEAT, SPOT, WAIT], ASPECT, model=fake)  # type: ignore[arg-type]
    frame = _frame_for(occ)
    still = np.zeros((180, 320), np.uint8)
    assert occ.update(0.0, still, frame)["spot"].moved == 0.0
    spot = (0.40, 0.40 - PresenceParams().sitting_head_h * occ.persp.height(0.44), 0.46, 0.44)
    assert occ.update(0.2, _moving(spot), frame)["spot"].moved > 0.9
    states = occ.update(0.4, _moving(_seated(SEAT, occ.persp)), frame)
    assert states["staff"].moved > 0.5 and states["spot"].moved < 0.5
    assert states["wait"].moved is None  # measured for seats only


@pytest.mark.parametrize(("seated", "limit", "taken"), [(True, 0.9, False), (False, 0.9, True), (True, None, True)])
def test_someone_standing_on_a_spot_where_citizens_sit_does_not_occupy_it(
        seated: bool, limit: float | None, taken: bool) -> None:
    """A queue beside the counter: a person standing with their feet on the spot's footprint. Where
    citizens sit (the default), that is not a citizen being served; at a standing counter (seated: false)
    it is. A seated citizen occupies it either way."""
    spot = ZoneSpec(SPOT.id, SPOT.kind, SPOT.points, seated=seated)
    fake = FakeModel()
    occ = PersonOccupancy([SEAT, spot, WAIT], ASPECT, PresenceParams(spot_standing=limit), model=fake)  # type: ignore[arg-type]
    h = occ.persp.height(0.43)
    fake.people = [(0.41, 0.43 - h, 0.45, 0.43)]  # standing, feet on the footprint
    assert {s["spot"].occupied for t, s in _run(occ, 0.0, 15.0) if t > 8.0} == {taken}
    fake.people = [(0.41, 0.43 - 0.6 * h, 0.45, 0.43)]  # seated there
    assert all(s["spot"].occupied for t, s in _run(occ, 15.0, 30.0) if t > 23.0)


def test_seat_turns_off_after_off_s_backdated() -> None:
    fake = FakeModel()
    occ = PersonOccupancy([SEAT, SPOT, WAIT], ASPECT, model=fake)  # type: ignore[arg-type]
    fake.people = [_seated(SEAT, occ.persp)]
    _run(occ, 0.0, 10.0)
    fake.people = []
    states = _run(occ, 10.0, 30.0, moving=_seated(SEAT, occ.persp))  # the clerk gets up and goes
    off = next(t for t, s in states if not s["staff"].occupied)
    assert off - 10.0 <= PresenceParams().off_s + 4.0
    # backdated to the last sighting (a tile not yet re-run still shows them: up to 2 seat periods)
    assert states[-1][1]["staff"].since == pytest.approx(10.0, abs=2 * 2 * PresenceParams().seat_period_s)


def test_waiting_count_and_the_budget() -> None:
    fake = FakeModel()
    occ = PersonOccupancy([SEAT, SPOT, WAIT], ASPECT, model=fake)  # type: ignore[arg-type]
    h = occ.persp.height(0.8)
    fake.people = [(0.2, 0.8 - h, 0.25, 0.8), (0.6, 0.9 - h, 0.66, 0.9)]
    states = _run(occ, 0.0, 60.0)
    # standing people: found by both scales' tiles, counted once each
    assert states[-1][1]["wait"].count == 2.0
    p = PresenceParams()
    seated_tiles = sum(ts.seated_scale for ts in occ.tiles)
    assert seated_tiles > 0
    # each budget's burst, 60 s of each budget, a sweep's debt, and the seated-scale pass at start
    assert fake.calls <= 2 * p.max_burst + 60 * (p.calls_per_s + p.seated_calls_per_s) + len(occ.tiles) + seated_tiles


def _seated_crowd(occ: PersonOccupancy) -> list[tuple[float, float, float, float]]:
    """Three people seated in the waiting area's rows: 0.55 standing heights of them show."""
    out = []
    for x, y in ((0.2, 0.7), (0.45, 0.8), (0.7, 0.9)):
        h = occ.persp.height(y)
        out.append((x, y - 0.55 * h, x + 0.05, y))
    return out


@pytest.mark.parametrize(("seated_ratio", "expected"), [(PresenceParams().area_seated_ratio, 3.0), (None, 0.0)])
def test_a_seated_crowd_is_counted_by_the_seated_scale_tiles(seated_ratio: float | None, expected: float) -> None:
    fake = FakeModel()
    fake.min_rel_height = 0.25  # seated people in a standing-scale tile are too small (0.55 / 2.5 = 0.22)
    params = PresenceParams(area_seated_ratio=seated_ratio)
    occ = PersonOccupancy([SEAT, SPOT, WAIT], ASPECT, params, model=fake)  # type: ignore[arg-type]
    fake.people = _seated_crowd(occ)
    states = _run(occ, 0.0, 20.0)
    # the seated-scale tiles all run once at start, and the next sweep of the area confirms what they found
    sweep = PresenceParams().area_period_s
    assert [s["wait"].count for t, s in states if t > sweep + 0.5] == [expected] * sum(t > sweep + 0.5 for t, _ in states)


def test_a_full_hall_is_searched_with_finer_seated_scale_tiles_without_losing_anyone() -> None:
    """Once the count reaches full_per_tile people per seated-scale tile, the finer plan's tiles take over the
    sightings and the count goes on; when the hall empties, the usual plan comes back."""
    fake = FakeModel()
    fake.min_rel_height = 0.25  # only the seated-scale tiles find them
    params = PresenceParams(full_per_tile=0.01, full_hall_off=1)  # full from one person on, until nobody is left
    occ = PersonOccupancy([SEAT, SPOT, WAIT], ASPECT, params, model=fake)  # type: ignore[arg-type]
    usual = [ts.tile for ts in occ.tiles if ts.seated_scale]
    fake.people = _seated_crowd(occ)
    states = _run(occ, 0.0, 60.0)
    finer = [ts.tile for ts in occ.tiles if ts.seated_scale]
    assert len(finer) > len(usual) and finer[0].box[2] - finer[0].box[0] < usual[0].box[2] - usual[0].box[0]
    first = next(t for t, s in states if s["wait"].count == 3.0)
    assert [s["wait"].count for t, s in states if t >= first] == [3.0] * sum(t >= first for t, _ in states)
    crowd, fake.people = fake.people, []
    states = _run(occ, 60.0, 120.0, moving=(0.0, 0.5, 1.0, 1.0))  # everyone stands up and leaves
    assert states[-1][1]["wait"].count == 0.0
    assert [ts.tile for ts in occ.tiles if ts.seated_scale] == usual
    quiet = PersonOccupancy([SEAT, SPOT, WAIT], ASPECT, PresenceParams(full_per_tile=None), model=fake)  # type: ignore[arg-type]
    fake.people = crowd
    _run(quiet, 0.0, 60.0)
    assert [ts.tile for ts in quiet.tiles if ts.seated_scale] == usual  # never finer


def test_seated_scale_tiles_do_not_slow_the_seats() -> None:
    """Seat tiles are analysed as often with a crowded waiting area as without one."""
    runs = {}
    for zones in ([SEAT, SPOT], [SEAT, SPOT, WAIT]):
        fake = FakeModel()
        occ = PersonOccupancy(zones, ASPECT, PresenceParams(area_seated_ratio=SEATED), model=fake)  # type: ignore[arg-type]
        seat_tiles = {i for i, ts in enumerate(occ.tiles) if ts.seats}
        counts = dict.fromkeys(seat_tiles, 0)
        original = occ._run_tile

        def counting(i: int, rgb: np.ndarray, now: float, original=original, counts=counts) -> None:  # noqa: ANN001
            if i in counts:
                counts[i] += 1
            original(i, rgb, now)

        occ._run_tile = counting  # type: ignore[method-assign]
        fake.people = _seated_crowd(occ)
        _run(occ, 0.0, 60.0)
        runs[len(zones)] = sum(counts.values())
    assert runs[3] >= 0.9 * runs[2] > 0


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="aspect"):
        PersonOccupancy([SEAT], 0.0, model=FakeModel())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unique"):
        PersonOccupancy([SEAT, SEAT], ASPECT, model=FakeModel())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="RGB"):
        PersonModel().detect(np.zeros((10, 10), np.uint8), 0.3)
    assert math.isfinite(PresenceParams().on_s)


def test_someone_leaving_a_seated_crowd_is_dropped_at_the_next_sweep() -> None:
    """A seated-scale sighting whose box no longer looks the same is dropped without waiting for its tile."""
    fake = FakeModel()
    fake.min_rel_height = 0.25
    # the seated-scale tiles run once at start and (almost) never again: only the sweeps can notice
    occ = PersonOccupancy([SEAT, SPOT, WAIT], ASPECT, PresenceParams(seated_calls_per_s=0.001), model=fake)  # type: ignore[arg-type]
    fake.people = _seated_crowd(occ)
    base = _frame_for(occ)()
    changed = base.copy()
    x0, y0, x1, y1 = fake.people[0]
    rng = np.random.default_rng(1)
    box = changed[int(y0 * H):int(y1 * H), int(x0 * W):int(x1 * W)]
    box[...] = rng.integers(0, 255, box.shape, dtype=np.uint8)  # the chair seen where they sat
    motion = np.zeros((180, 320), np.uint8)
    counts = []
    for k in range(40 * 5):
        t = k / 5
        if t == 20.0:
            fake.people = fake.people[1:]
        frame = base if t < 20.0 else changed
        counts.append((t, occ.update(t, motion, lambda f=frame: f)["wait"].count))
    sweep = PresenceParams().area_period_s
    assert {c for t, c in counts if sweep + 0.5 < t < 20.0} == {3.0}
    assert {c for t, c in counts if t > 20.0 + sweep + 0.5} == {2.0}


class LoggingModel(FakeModel):
    """FakeModel that notes which crop (x0, y0 / 4) it was given at which frame."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[tuple[int, int, int]] = []
        self.frame = 0

    def detect(self, rgb: np.ndarray, min_score: float) -> list[Detection]:
        self.log.append((self.frame, int(rgb[0, 0, 0]), int(rgb[0, 0, 1])))
        return super().detect(rgb, min_score)


def _replay(start: float) -> tuple[list[tuple[int, int, int]], list[tuple[bool, float | None]]]:
    """One scene stamped from `start` as a file source stamps it (start + frame position): calls and spot states."""
    fake = LoggingModel()
    occ = PersonOccupancy([SEAT, SPOT, WAIT], ASPECT, model=fake)  # type: ignore[arg-type]
    clerk, citizen = _seated(SEAT, occ.persp), _seated(SPOT, occ.persp)
    frame, still, moving = _frame_for(occ), np.zeros((180, 320), np.uint8), _moving(citizen)
    states = []
    for k in range(60 * 5):
        fake.frame = k
        fake.people = [clerk] + ([citizen] if 17.3 <= k / 5 < 41.1 else [])
        motion = moving if 16.3 <= k / 5 < 17.3 or 41.1 <= k / 5 < 42.1 else still  # the citizen comes and goes
        s = occ.update(start + k / 5, motion, frame)["spot"]
        states.append((s.occupied, None if s.since is None else round(s.since - start, 3)))
    return fake.log, states


def test_unix_frame_times_give_the_same_result_as_file_times_from_zero() -> None:
    """The live worker stamps frames with unix times, `onestop analyze` with seconds from 0: same frames, same answer."""
    calls, states = _replay(0.0)
    assert any(on for on, _ in states) and not states[-1][0]  # the citizen came and went: the test can fail
    for start in (1796412662.0, 1796412662.7, 1_000.1):
        assert _replay(start) == (calls, states), start


def test_walking_is_reported_with_a_waiting_area_only() -> None:
    occ = PersonOccupancy([SEAT, SPOT, WAIT], ASPECT, model=FakeModel())  # type: ignore[arg-type]
    still = np.zeros((180, 320), np.uint8)
    walking = still.copy()
    walking[100:170, 10:30] = 255  # a person-sized moving blob far from the seats
    frame = _frame_for(occ)
    assert occ.update(0.0, still, frame)[WALKING_ZONE].count == 0
    state = occ.update(0.2, walking, frame)[WALKING_ZONE]
    assert (state.occupied, state.count) == (True, 1.0)
    seats_only = PersonOccupancy([SEAT, SPOT], ASPECT, model=FakeModel())  # type: ignore[arg-type]
    assert WALKING_ZONE not in seats_only.update(0.0, walking, frame)


def test_finish_keeps_a_seat_whose_confirmation_the_end_cut_short() -> None:
    fake = FakeModel()
    occ = PersonOccupancy([SEAT, SPOT, WAIT], ASPECT, model=fake)  # type: ignore[arg-type]
    _run(occ, 0.0, 10.0)  # empty seats, analysed
    fake.people = [_seated(SEAT, occ.persp)]
    t = 10.0
    while not any(s.hits for s in occ.seats):  # the file ends right after the first sighting: not yet two
        t += 0.2
        state = occ.update(t, np.zeros((180, 320), np.uint8), _frame_for(occ))
        assert t < 20.0
    assert not state["staff"].occupied
    end = occ.finish(t, np.zeros((180, 320), np.uint8))
    assert end["staff"].occupied and end["staff"].since == pytest.approx(t, abs=1e-3)
    assert not end["spot"].occupied


def test_finish_does_not_keep_a_sighting_a_later_analysis_contradicted() -> None:
    fake = FakeModel()
    occ = PersonOccupancy([SEAT, SPOT, WAIT], ASPECT, model=fake)  # type: ignore[arg-type]
    _run(occ, 0.0, 10.0)
    fake.people = [_seated(SEAT, occ.persp)]
    _run(occ, 10.0, 10.6)
    fake.people = []  # someone passing: the next analyses find the seat empty
    _run(occ, 10.6, 13.0)
    assert not occ.finish(13.0, np.zeros((180, 320), np.uint8))["staff"].occupied


def _left_before_the_end(with_motion: bool) -> tuple[PersonOccupancy, float]:
    """A citizen seated on the spot for 20 s stands up and leaves (motion over them, or none); the file ends
    4 s later, before off_s (6 s) unseen has passed, after two analyses missed them."""
    fake = FakeModel()
    occ = PersonOccupancy([SEAT, SPOT, WAIT], ASPECT, model=fake)  # type: ignore[arg-type]
    fake.people = [_seated(SPOT, occ.persp)]
    assert _run(occ, 0.0, 20.0)[-1][1]["spot"].occupied
    box, fake.people = fake.people[0], []
    states = _run(occ, 20.0, 24.0, moving=box if with_motion else None)
    spot = next(s for s in occ.seats if s.spec.id == "spot")
    assert states[-1][1]["spot"].occupied and spot.misses_since_hit >= 2  # the premise: off_s not over yet
    return occ, spot.last_hit


def test_finish_ends_a_seat_its_person_was_seen_leaving_when_the_end_cut_off_s_short() -> None:
    occ, last_hit = _left_before_the_end(with_motion=True)
    end = occ.finish(23.8, np.zeros((180, 320), np.uint8))
    assert not end["spot"].occupied and end["spot"].since == pytest.approx(last_hit + 0.5, abs=1e-3)


def test_finish_keeps_a_seat_missed_with_nothing_moving_there() -> None:
    occ, _ = _left_before_the_end(with_motion=False)
    assert occ.finish(23.8, np.zeros((180, 320), np.uint8))["spot"].occupied


def _sat_down_after_the_last_look(with_motion: bool) -> tuple[PersonOccupancy, FakeModel, float, np.ndarray]:
    """Empty seats analysed for 10 s; then a citizen sits down on the spot, with motion over it (or none),
    in the frame right after one whose update ran the spot's tile, so its budget runs it no more: the file
    ends there."""
    fake = FakeModel()
    occ = PersonOccupancy([SEAT, SPOT, WAIT], ASPECT, model=fake)  # type: ignore[arg-type]
    _run(occ, 0.0, 10.0)
    spot = next(s for s in occ.seats if s.spec.id == "spot")
    still, t = np.zeros((180, 320), np.uint8), 10.0
    last = max(occ.tiles[i].last_run for i in spot.tiles)
    while max(occ.tiles[i].last_run for i in spot.tiles) == last:  # until the spot's tile runs again
        t += 0.01
        occ.update(t, still, _frame_for(occ))
        assert t < 20.0
    fake.people = [_seated(SPOT, occ.persp)]
    motion = _moving(fake.people[0]) if with_motion else still
    t += 0.01
    state = occ.update(t, motion, _frame_for(occ))
    assert all(occ.tiles[i].last_run < occ._clock(t) for i in spot.tiles)  # the premise: not looked at since
    assert not state["spot"].occupied
    return occ, fake, t, motion


def _showing(occ: PersonOccupancy, fake: FakeModel, people: list[tuple[float, float, float, float]]):
    """A picture of the file's end on which the fake model finds `people`."""
    img = _frame_for(occ)

    def get() -> np.ndarray:
        fake.people = list(people)
        return img()
    return get


def test_finish_looks_twice_at_an_empty_seat_that_motion_touched_since_its_last_look() -> None:
    occ, fake, t, motion = _sat_down_after_the_last_look(with_motion=True)
    seated = fake.people
    calls = fake.calls
    on_s = occ.params.on_s
    end = occ.finish(t + on_s, motion, [(t, _showing(occ, fake, seated)), (t + on_s, _showing(occ, fake, seated))])
    assert fake.calls > calls
    assert end["spot"].occupied and end["spot"].since == pytest.approx(t, abs=1e-3)
    assert not end["staff"].occupied


def test_finish_does_not_take_someone_walking_past_at_the_end_for_a_citizen() -> None:
    for first, last in (([], "seated"), ("seated", [])):  # on the spot in one of the two pictures only
        occ, fake, t, motion = _sat_down_after_the_last_look(with_motion=True)
        seated = fake.people
        pics = [seated if x == "seated" else x for x in (first, last)]
        end = occ.finish(t + 2.0, motion, [(t, _showing(occ, fake, pics[0])), (t + 2.0, _showing(occ, fake, pics[1]))])
        assert not end["spot"].occupied, (first, last)


def test_finish_without_the_last_pictures_or_motion_does_not_look_again() -> None:
    occ, fake, t, motion = _sat_down_after_the_last_look(with_motion=True)
    assert not occ.finish(t, motion)["spot"].occupied  # no picture given: nothing to look at
    occ, fake, t, motion = _sat_down_after_the_last_look(with_motion=False)
    seated = fake.people
    calls = fake.calls
    end = occ.finish(t + 2.0, motion, [(t, _showing(occ, fake, seated)), (t + 2.0, _showing(occ, fake, seated))])
    assert not end["spot"].occupied  # nothing moved there since its last look
    assert fake.calls == calls


def _textured(shape: tuple[int, int], box: tuple[int, int, int, int], seed: int = 3) -> np.ndarray:
    """A flat grey frame with a noise patch (a person with some texture) at box (x0, y0, x1, y1 pixels)."""
    img = np.full(shape, 100, np.uint8)
    x0, y0, x1, y1 = box
    img[y0:y1, x0:x1] = np.random.default_rng(seed).integers(0, 255, (y1 - y0, x1 - x0), dtype=np.uint8)
    return img


@pytest.mark.parametrize("follow", [True, False])
def test_a_walker_is_followed_out_of_the_area_between_sweeps(follow: bool) -> None:
    fake = FakeModel()
    params = PresenceParams(follow=follow, area_period_s=100.0, moved_period_s=100.0, area_seated_ratio=None)
    occ = PersonOccupancy([WAIT], ASPECT, params, model=fake)  # type: ignore[arg-type]
    h = occ.persp.height(0.9)
    fake.people = [(0.30, 0.9 - h, 0.36, 0.9)]  # only the first sweep runs (periods of 100 s)
    frame = _frame_for(occ)
    gh, gw = 180, 320
    x0, x1, y1 = int(0.30 * gw), int(0.36 * gw), int(0.9 * gh)
    top = y1 - int(h * gh)
    counts = []
    for k in range(20):  # walking up the picture 5 px a frame: the feet leave the area (y < 0.5) at frame 15
        dy = 5 * k
        grey = _textured((gh, gw), (x0, top - dy, x1, y1 - dy))
        motion = np.zeros((gh, gw), np.uint8)
        if k:
            motion[top - dy:y1 - dy + 5, x0:x1] = 255
        counts.append(occ.update(k / 5, motion, frame, grey)["wait"].count)
    assert fake.calls == len([ts for ts in occ.tiles if not ts.seats])  # one sweep: no detector after it
    assert counts[:14] == [1.0] * 14
    assert counts[16:] == ([0.0] * 4 if follow else [1.0] * 4)


@pytest.mark.parametrize("carry", [0.2, None])
def test_someone_a_sweep_finds_only_weakly_where_they_were_is_kept_for_a_while(carry: float | None) -> None:
    fake = FakeModel()
    params = PresenceParams(area_seated_ratio=None, area_period_s=2.0, carry_score=carry, carry_s=5.0)
    occ = PersonOccupancy([WAIT], ASPECT, params, model=fake)  # type: ignore[arg-type]
    h = occ.persp.height(0.9)
    fake.people = [(0.30, 0.9 - h, 0.36, 0.9), (0.60, 0.9 - h, 0.66, 0.9)]
    fake.scores = {1: 0.25}  # the second is only ever weak: nobody was there to carry
    counts = {t: s["wait"].count for t, s in _run(occ, 0.0, 1.0)}
    assert counts[0.0] == 1.0
    fake.scores = {0: 0.25, 1: 0.25}  # the first now hidden in part: the sweeps at 2 and 4 s find them weakly
    counts = {round(t, 1): s["wait"].count for t, s in _run(occ, 1.0, 7.0)}
    assert counts[2.0] == counts[4.0] == (1.0 if carry else 0.0)
    assert counts[6.0] == 0.0  # 6 s since they last scored 0.35: no longer carried
    fake.scores = {1: 0.25}
    fake.people[0] = (0.50, 0.9 - h, 0.56, 0.9)  # sure again, elsewhere; then weak where they are
    assert _run(occ, 7.0, 8.2)[-1][1]["wait"].count == 1.0
    fake.scores = {0: 0.25, 1: 0.25}
    fake.people[0] = (0.30, 0.9 - h, 0.36, 0.9)  # a weak box where they no longer are carries nobody
    assert _run(occ, 8.2, 10.2)[-1][1]["wait"].count == 0.0


@pytest.mark.parametrize(("cover", "moves", "beside", "count"), [
    (0.3, True, False, 1.0),  # a walker scoring low, motion over them: counted
    (None, True, False, 0.0),  # ... not without the rule
    (0.3, False, False, 0.0),  # a low box where nothing moves (a bag, a cone): nobody
    (0.3, True, True, 1.0),  # a low box beside a walker found, moving only with them: the walker alone
])
def test_a_weak_box_that_moves_counts_unless_someone_found_explains_its_motion(
        cover: float | None, moves: bool, beside: bool, count: float) -> None:
    fake = FakeModel()
    params = PresenceParams(area_seated_ratio=None, area_period_s=2.0, moving_cover=cover)
    occ = PersonOccupancy([WAIT], ASPECT, params, model=fake)  # type: ignore[arg-type]
    h = occ.persp.height(0.9)
    walker = (0.40, 0.9 - h, 0.46, 0.9)
    weak = (0.43, 0.9 - h, 0.49, 0.9) if beside else walker  # beside: half over the walker, not suppressed
    fake.people = [walker, weak] if beside else [weak]
    fake.scores = {len(fake.people) - 1: 0.25}
    frame = _frame_for(occ)
    motion = _moving(walker) if moves else np.zeros((180, 320), np.uint8)
    states = [occ.update(k / 5, motion, frame) for k in range(15)]
    assert states[-1]["wait"].count == count


def test_two_walkers_of_one_sweep_stay_two_when_one_passes_the_other() -> None:
    fake = FakeModel()
    params = PresenceParams(area_period_s=100.0, moved_period_s=100.0, area_seated_ratio=None)
    occ = PersonOccupancy([WAIT], ASPECT, params, model=fake)  # type: ignore[arg-type]
    h = occ.persp.height(0.9)
    # a tall one standing still and a shorter one (scoring lower) to their right; only the first sweep runs
    fake.people = [(0.30, 0.9 - h, 0.36, 0.9), (0.42, 0.9 - 0.7 * h, 0.46, 0.9)]
    fake.scores = {1: 0.5}
    frame = _frame_for(occ)
    gh, gw = 180, 320
    y1 = int(0.9 * gh)
    top, small_top = y1 - int(h * gh), y1 - int(0.7 * h * gh)
    counts, inside = [], []
    for k in range(14):  # the shorter one walks left, 3 px a frame, in front of the tall one
        dx = 3 * k
        grey = _textured((gh, gw), (96, top, 115, y1), seed=3)
        grey[small_top:y1, 134 - dx:147 - dx] = np.random.default_rng(4).integers(0, 255, (y1 - small_top, 13), dtype=np.uint8)
        motion = np.zeros((gh, gw), np.uint8)
        if k:
            motion[small_top:y1, 134 - dx:150 - dx] = 255
        counts.append(occ.update(k / 5, motion, frame, grey)["wait"].count)
        (tile,) = [ts for ts in occ.tiles if not ts.seats and ts.found]
        tall, short = tile.found
        inside.append(len(suppress([tall, short])) == 1)  # as one person seen twice, they would count once
    assert fake.calls == len([ts for ts in occ.tiles if not ts.seats])  # one sweep
    assert any(inside)
    assert counts == [2.0] * 14


def test_a_still_person_is_not_moved_by_following() -> None:
    fake = FakeModel()
    occ = PersonOccupancy([WAIT], ASPECT, PresenceParams(area_seated_ratio=None), model=fake)  # type: ignore[arg-type]
    h = occ.persp.height(0.9)
    fake.people = [(0.30, 0.9 - h, 0.36, 0.9)]
    frame = _frame_for(occ)
    grey = _textured((180, 320), (96, 162 - int(h * 180), 115, 162))
    noise = np.zeros((180, 320), np.uint8)
    noise[150:170, 90:120] = 255  # change-map noise over them (flicker): the picture itself has not moved
    for k in range(30):
        occ.update(k / 5, noise, frame, grey)
    (found,) = occ._area_dets
    assert (found.x0, found.y1) == pytest.approx((0.30, 0.9), abs=0.01)


def test_a_seated_crowd_keeps_counting_while_a_new_analysis_waits_for_its_check() -> None:
    fake = FakeModel()
    fake.min_rel_height = 0.25  # only the seated-scale tiles find them
    # seated-scale tiles re-run every 2 s, sweeps (which check them) every 8 s: most of the time some
    # tile's latest analysis has not been checked yet
    params = PresenceParams(seated_calls_per_s=4.0, seated_period_s=1.0)
    occ = PersonOccupancy([SEAT, SPOT, WAIT], ASPECT, params, model=fake)  # type: ignore[arg-type]
    fake.people = _seated_crowd(occ)
    states = _run(occ, 0.0, 40.0)
    sweep = params.area_period_s
    assert {s["wait"].count for t, s in states if t > sweep + 0.5} == {3.0}


@pytest.mark.parametrize(("hold", "stirred", "expected"), [(2, False, {3.0}), (0, False, {2.0, 3.0}), (2, True, {2.0, 3.0})])
def test_a_seated_person_the_detector_misses_now_and_then_keeps_counting_while_nothing_moves(
    hold: int, stirred: bool, expected: set[float],
) -> None:
    """A counted seated-scale sighting that an analysis misses is kept while no motion has covered its box."""
    fake = FakeModel()
    fake.min_rel_height = 0.25  # only the seated-scale tiles find them
    fake.flaky = {0}
    params = PresenceParams(seated_calls_per_s=4.0, seated_period_s=1.0, seated_hold=hold)
    occ = PersonOccupancy([SEAT, SPOT, WAIT], ASPECT, params, model=fake)  # type: ignore[arg-type]
    fake.people = _seated_crowd(occ)
    motion = np.zeros((180, 320), np.uint8)
    if stirred:  # someone moving about in front of them the whole time
        x0, y0, x1, y1 = fake.people[0]
        motion[int(y0 * 180):int(y1 * 180), int(x0 * 320):int(x1 * 320)] = 255
    frame = _frame_for(occ)
    counts = [(k / 5, occ.update(k / 5, motion, frame)["wait"].count) for k in range(60 * 5)]
    assert {c for t, c in counts if t > 2 * params.area_period_s + 0.5} == expected


@pytest.mark.parametrize("seated", [True, False])
def test_where_nobody_sits_only_standing_size_people_count(seated: bool) -> None:
    fake = FakeModel()
    wait = ZoneSpec("wait", "waiting_area", WAIT.points, WAIT.person_height, seated)
    occ = PersonOccupancy([wait], ASPECT, model=fake)  # type: ignore[arg-type]
    h = occ.persp.height(0.9)
    walker = (0.30, 0.9 - h, 0.36, 0.9)
    upper_half = (0.30, 0.9 - h, 0.36, 0.9 - 0.6 * h)  # the same head row: as the shorter box it wins in suppress
    c = occ.persp.height(0.7)
    cone = (0.70, 0.7 - 0.3 * c, 0.72, 0.7)  # an object the model takes for someone seated: 0.3 standing heights
    fake.people = [walker, upper_half, cone]
    states = _run(occ, 0.0, 12.0)
    if seated:  # where people sit, every size counts (the cone too) and the seated-scale tiles search it
        assert states[-1][1]["wait"].count == 2.0 and any(ts.seated_scale for ts in occ.tiles)
    else:  # only the walker, with the whole body, and no seated-scale tiles to pay for
        assert states[-1][1]["wait"].count == 1.0 and not any(ts.seated_scale for ts in occ.tiles)
        (found,) = occ._area_dets
        assert found.y1 - found.y0 == pytest.approx(h, abs=0.02)


def _cone(occ: PersonOccupancy) -> tuple[float, float, float, float]:
    """Something 0.4 standing heights tall in the waiting area (a traffic cone, a bollard)."""
    h = occ.persp.height(0.8)
    return (0.5, 0.8 - 0.4 * h, 0.53, 0.8)


@pytest.mark.parametrize(("seated_ratio", "expected"), [(SEATED, 0.0), (None, 1.0)])
def test_a_short_thing_only_the_standing_scale_calls_a_person_does_not_count(
    seated_ratio: float | None, expected: float,
) -> None:
    """Short boxes are the seated scale's to report: what it does not find at twice the size does not count.

    On walkway footage (PETS S2.L1) the standing-size tiles called cones, a tripod and a sign people;
    the seated-size tiles, which see them twice as large, did not. With one scale only, short boxes
    are all there is for seated people, so they count."""
    fake = FakeModel()
    fake.max_rel_height = 0.2  # the cone is ~0.4 / 4 = 0.10 of a standing-scale crop, ~0.4 / 1.6 = 0.25 of a seated one
    occ = PersonOccupancy([SEAT, SPOT, WAIT], ASPECT, PresenceParams(area_seated_ratio=seated_ratio), model=fake)  # type: ignore[arg-type]
    fake.people = [_cone(occ)]
    states = _run(occ, 0.0, 20.0)
    assert {s["wait"].count for t, s in states if t > 2.0} == {expected}


@pytest.mark.parametrize("hints", [True, False])
def test_someone_sitting_down_makes_their_seated_scale_tile_due(hints: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """A short box the standing scale leaves out makes the seated-scale tile of its cell run next, not in its turn."""
    if not hints:
        monkeypatch.setattr(PersonOccupancy, "_hint_seated", lambda self, ts, short: None)
    fake = FakeModel()
    # seated-scale tiles run once at start and then only when due for a reason: their turn is 1000 s away
    params = PresenceParams(seated_period_s=1000.0)
    occ = PersonOccupancy([SEAT, SPOT, WAIT], ASPECT, params, model=fake)  # type: ignore[arg-type]
    _run(occ, 0.0, 10.0)
    h = occ.persp.height(0.8)
    fake.people = [(0.3, 0.8 - 0.4 * h, 0.35, 0.8)]  # sits down at 10 s, 0.4 standing heights show: found at both scales
    states = _run(occ, 10.0, 40.0)
    counted = [t for t, s in states if s["wait"].count == 1.0]
    if hints:  # the next sweep (a still picture: area_period_s) sees them, their tile runs, the sweep after checks them
        assert counted and counted[0] <= 10.0 + params.area_period_s + 2 * params.moved_period_s + 1.0
        assert all(s["wait"].count == 1.0 for t, s in states if t >= counted[0])
    else:
        assert not counted


def test_a_seated_crowd_found_at_start_counts_at_the_next_sweep_due_for_it() -> None:
    """New seated-scale sightings make the sweep that checks them due as motion would: a restarted worker
    counts a still seated hall after seconds, not after the sweep period of a still picture."""
    fake = FakeModel()
    fake.min_rel_height = 0.25  # only the seated-scale tiles find them
    params = PresenceParams()
    occ = PersonOccupancy([WAIT], ASPECT, params, model=fake)  # type: ignore[arg-type]
    fake.people = _seated_crowd(occ)
    states = _run(occ, 0.0, params.area_period_s)  # no motion at all
    assert {s["wait"].count for t, s in states if t >= params.moved_period_s + 0.5} == {3.0}


def _sits_down_unseen(backdate: bool, seen_before: bool = False) -> list[tuple[float, dict]]:
    """Someone walks in and sits down at 10 s (motion over their seated box for that second); the detector finds
    them only from 60 s on (a half-hidden back). seen_before: a standing-size box is counted over their place
    until 30 s (as if found standing there after the motion)."""
    fake = FakeModel()
    fake.min_rel_height = 0.25  # only the seated-scale tiles find them
    occ = PersonOccupancy([WAIT], ASPECT, PresenceParams(backdate_found=backdate), model=fake)  # type: ignore[arg-type]
    person = _seated_crowd(occ)[1]
    h = occ.persp.height(person[3])
    standing = (person[0], person[3] - h, person[2], person[3])
    frame = _frame_for(occ)
    still = np.zeros((180, 320), np.uint8)
    out = []
    fake.min_rel_height = 0.0 if seen_before else 0.25
    if seen_before:
        fake.people = [standing]
    for k in range(90 * 5):
        t = k / 5
        if t == (30.0 if seen_before else 10.0):
            fake.people, fake.min_rel_height = [], 0.25
        if t == 60.0:
            fake.people = [person]
        out.append((t, occ.update(t, _moving(person) if 10.0 <= t < 11.0 else still, frame)))
    return out


@pytest.mark.parametrize("backdate", [True, False])
def test_a_seated_person_found_late_is_counted_from_when_they_sat_down(backdate: bool) -> None:
    """The waiting count gains them from the motion of their sitting down on (a Revision), not from when found."""
    states = _sits_down_unseen(backdate)
    found = min(t for t, s in states if s["wait"].count == 1.0)
    assert 60.0 <= found < 75.0
    revisions = [r for _, s in states for r in s["wait"].revisions]
    if not backdate:
        assert revisions == []
        return
    assert len(revisions) == 1
    assert revisions[0].start == pytest.approx(10.8, abs=0.3) and revisions[0].end == pytest.approx(found - 0.2, abs=0.5)
    seconds = SecondAggregator(hold_s=math.inf)
    for t, s in states:
        seconds.add(t, s)
    counts = {sec: row["wait"]["count"] for sec, row in seconds.flush()}
    assert all(counts[sec] == 1.0 for sec in range(12, 85)), counts
    assert all(counts[sec] == 0.0 for sec in range(0, 10))


def test_someone_counted_standing_before_they_sat_is_not_counted_twice() -> None:
    """Dated back no further than a box counted over their place: a person found standing there, then seated."""
    states = _sits_down_unseen(True, seen_before=True)
    assert [r.start for _, s in states for r in s["wait"].revisions] == [pytest.approx(30.0, abs=8.5)]
    seconds = SecondAggregator(hold_s=math.inf)
    for t, s in states:
        seconds.add(t, s)
    counts = [row["wait"]["count"] for _, row in seconds.flush()]
    assert max(counts) == 1.0 and counts[35:85] == [1.0] * 50


@pytest.mark.parametrize(("same", "rejoined"), [(True, True), (False, False)])
def test_a_citizen_lost_for_seconds_rejoins_their_session_when_they_look_the_same(same: bool, rejoined: bool) -> None:
    """A spot that went off for seconds (the citizen moved and the detector lost them) and comes back on
    with someone who looks like the one who left is dated back over the gap: one session, not two."""
    fake = FakeModel()
    params = PresenceParams()
    occ = PersonOccupancy([SEAT, SPOT], ASPECT, params, model=fake)  # type: ignore[arg-type]
    citizen = _seated(SPOT, occ.persp)
    play, states = _player(occ)
    still, moving = np.zeros((180, 320), np.uint8), _moving(citizen)

    fake.people = [citizen]
    play(0.0, 20.0, _painted(occ, citizen, 1), still)
    fake.people = []  # lost while they shift in their chair: the picture of them changes
    play(20.0, 28.0, _painted(occ, citizen, 3), moving)
    off = [st for t, st in states if t >= 20.0 and not st.occupied]
    assert off, "the spot never went off: the test would not show a rejoin"
    fake.people = [citizen]
    play(28.0, 40.0, _painted(occ, citizen, 1 if same else 2), still)
    last = states[-1][1]
    assert last.occupied
    if rejoined:
        assert last.since == pytest.approx(off[0].since)  # back to when it went off: no gap
    else:
        assert last.since >= 28.0  # someone else: a new session from their first sighting


@pytest.mark.parametrize(("hold_look", "held"), [(0.9, True), (None, False)])
def test_a_citizen_the_detector_loses_is_held_while_the_picture_of_them_is_unchanged(hold_look: float | None, held: bool) -> None:
    """Lost by the detector for longer than off_s while the clerk moves over them: the spot stays occupied
    as long as their last box still shows what it showed at their last sighting, and turns off, dated
    back to that sighting, once it shows something else (they got up and left)."""
    fake = FakeModel()
    params = PresenceParams(hold_look=hold_look)
    occ = PersonOccupancy([SEAT, SPOT], ASPECT, params, model=fake)  # type: ignore[arg-type]
    citizen = _seated(SPOT, occ.persp)
    there, gone = _painted(occ, citizen, 1), _painted(occ, citizen, 9)  # the citizen; the chair and desk where they sat
    play, states = _player(occ, _moving(citizen))  # motion: the clerk's arms, or the citizen's own gestures
    fake.people = [citizen]
    play(0.0, 20.0, there)
    assert states[-1][1].occupied
    fake.people = []  # the detector stops finding them; the picture of them does not change
    play(20.0, 60.0, there)
    assert all(st.occupied for t, st in states if t >= 20.0) is held
    if held:
        play(60.0, 75.0, gone)  # now they leave
        last = states[-1][1]
        assert not last.occupied
        assert abs(last.since - 20.0) <= params.seat_period_s  # their last sighting, not when the picture changed


@pytest.mark.parametrize(("hold_same", "held"), [(None, True), (0.8, False)])
def test_a_citizen_who_shifted_in_the_chair_is_still_the_one_who_sat_down(hold_same: float | None, held: bool) -> None:
    """The last sighting before the detector lost them shows the citizen shifted (its thumbnail correlates
    about 0.65 with the one that turned the spot on): the same person by SAME_LOOK, the default
    hold_same, so the spot is held while that picture stays; with the old 0.8 it was not."""
    fake = FakeModel()
    params = PresenceParams() if hold_same is None else PresenceParams(hold_same=hold_same)
    occ = PersonOccupancy([SEAT, SPOT], ASPECT, params, model=fake)  # type: ignore[arg-type]
    citizen = _seated(SPOT, occ.persp)
    sat, other = _painted(occ, citizen, 1).astype(np.float32), _painted(occ, citizen, 2).astype(np.float32)
    mixed = np.clip(0.65 * (sat - 128) + 0.76 * (other - 128) + 128, 0, 255)
    shifted = np.where(sat != other, mixed, sat).astype(np.uint8)  # the box's texture only
    play, states = _player(occ, _moving(citizen))
    fake.people = [citizen]
    play(0.0, 20.0, sat.astype(np.uint8))
    play(20.0, 26.0, shifted)  # sighted again, shifted in the chair
    assert states[-1][1].occupied
    fake.people = []  # then lost while the clerk's arms move over them; the picture of them stays
    play(26.0, 60.0, shifted)
    assert all(st.occupied for t, st in states if t >= 26.0) is held


def test_an_empty_chair_scored_as_a_person_after_the_citizen_left_is_not_held() -> None:
    """A sighting on the spot after its citizen left: the empty chair, scored as a person. It looks like
    itself for as long as it stands, not like the citizen who sat down, so its look holds nothing: once
    someone walks past, the spot turns off."""
    fake = FakeModel()
    params = PresenceParams()
    occ = PersonOccupancy([SEAT, SPOT], ASPECT, params, model=fake)  # type: ignore[arg-type]
    citizen = _seated(SPOT, occ.persp)
    there, gone = _painted(occ, citizen, 1), _painted(occ, citizen, 9)
    play, states = _player(occ)
    fake.people = [citizen]
    play(0.0, 20.0, there)
    fake.people = []
    play(20.0, 20.0 + params.window_s + 2.0, gone)  # they leave unseen by the change map
    assert states[-1][1].occupied  # held: nothing moved over them (off_needs_motion)
    fake.people = [citizen]  # the chair, found once
    t = start = states[-1][0] + 0.2
    while occ.seats[1].last_hit < start:  # until its tile next runs
        play(t, t + 0.2, gone)
        t += 0.2
    fake.people = []
    play(t, t + 30.0, gone, _moving(citizen))  # someone walks past
    assert not states[-1][1].occupied


@pytest.mark.parametrize(("keeps", "occupied"), [(True, False), (False, True)])
def test_a_citizen_found_as_they_rise_and_walk_off_leaves_the_spot(keeps: bool, occupied: bool) -> None:
    """Found once more on their way out (taller, a little aside, motion over them): that sighting does not
    replace the still picture of them seated, nor the motion seen over it, so once they are gone and their
    seat shows the empty chair the spot turns off, dated to that sighting. Taken as a still sighting, it
    cleared the motion and held the spot with nothing moving after (until off_still_s)."""
    fake = FakeModel()
    params = PresenceParams(moving_keeps_stirred=keeps)
    occ = PersonOccupancy([SEAT, SPOT], ASPECT, params, model=fake)  # type: ignore[arg-type]
    citizen = _seated(SPOT, occ.persp)
    x0, _, x1, y1 = citizen
    h = occ.persp.height(y1)
    rising = (x0 + 0.45 * (x1 - x0), y1 - 0.75 * h, x1 + 0.45 * (x1 - x0), y1)  # IoU 0.28 (0.25 in dim office-4c)
    both = (x0, rising[1], rising[2], y1)
    play, states = _player(occ)
    fake.people = [citizen]
    play(0.0, 20.0, _painted(occ, citizen, 1))
    assert states[-1][1].occupied
    fake.people = [rising]
    t = 20.0
    while occ.seats[1].last_hit < 20.0:  # rising, until the spot's tile next runs and finds them
        play(t, t + 0.2, _painted(occ, rising, 5), _moving(both))
        t += 0.2
    rose = occ.seats[1].last_hit
    fake.people = []
    play(t, t + 16.0, _painted(occ, citizen, 9))  # gone at once: the empty chair, nothing moving
    last = states[-1][1]
    assert last.occupied is occupied
    if not occupied:
        assert abs(last.since - rose) <= 1.0


SHORT_MEDIAN = {"reference_every_s": 2.0, "reference_keep": 10, "reference_min": 5}  # a 20 s median


@pytest.mark.parametrize(("came_in", "sat_down", "occupied"),
                         [(True, False, False), (False, False, True), (True, True, True)])
def test_a_chair_that_starts_scoring_as_a_person_on_an_empty_spot_does_not_occupy_it(
    came_in: bool, sat_down: bool, occupied: bool,
) -> None:
    """An empty spot's chair, found at 0.3 after a minute (an IR picture drifting): its box shows what the
    hall's median shows there, so nobody came. Someone who sits down there at 0.3 changes the picture."""
    fake = FakeModel()
    occ = PersonOccupancy([SEAT, SPOT, WAIT], ASPECT, PresenceParams(spot_came_in=came_in, **SHORT_MEDIAN),
                          model=fake)  # type: ignore[arg-type]
    chair = _seated(SPOT, occ.persp)
    fake.scores = {0: 0.3}
    frame = _frame_for(occ)
    still = np.zeros((180, 320), np.uint8)
    states = []
    for k in range(120 * 5):
        t = k / 5
        fake.people = [chair] if t >= 60.0 else []
        grey = _grey_with([chair], 7 if sat_down and t >= 60.0 else 3)
        motion = _moving(chair) if sat_down and 59.0 <= t < 60.0 else still
        states.append((t, occ.update(t, motion, frame, grey)["spot"]))
    assert not any(s.occupied for t, s in states if t < 60.0)
    assert states[-1][1].occupied is occupied


@pytest.mark.parametrize(("last_left_s", "occupied"), [(5.0, True), (60.0, False)])
def test_a_spot_just_left_takes_a_low_sighting_while_the_median_may_still_show_its_citizen(
    last_left_s: float, occupied: bool,
) -> None:
    """A citizen sat on the spot for a minute and left. A low sighting that shows what the median shows
    (it still holds them) and does not look like them is taken while less than half the median's span
    has passed since they left; later it is the chair."""
    fake = FakeModel()
    params = PresenceParams(reference_every_s=2.0, reference_keep=30, reference_min=5)  # a 60 s median
    occ = PersonOccupancy([SEAT, SPOT, WAIT], ASPECT, params, model=fake)  # type: ignore[arg-type]
    citizen = _seated(SPOT, occ.persp)
    grey = _grey_with([citizen], 3)  # the picture the median holds, unchanged throughout
    states: list[tuple[float, object]] = []
    still = np.zeros((180, 320), np.uint8)

    def run(t0: float, t1: float, img: np.ndarray, motion: np.ndarray = still) -> None:
        for k in range(int(round((t1 - t0) * 5))):
            states.append((t0 + k / 5, occ.update(t0 + k / 5, motion, lambda: img, grey)["spot"]))

    fake.people = [citizen]
    run(0.0, 60.0, _painted(occ, citizen, 1))
    fake.people = []
    run(60.0, 61.0, _painted(occ, citizen, 9), _moving(citizen))  # they leave
    run(61.0, 61.0 + last_left_s + 8.0, _painted(occ, citizen, 9))
    assert not states[-1][1].occupied
    fake.people, fake.scores = [citizen], {0: 0.3}
    start = states[-1][0]
    run(start + 0.2, start + 15.0, _painted(occ, citizen, 9))  # found low, unlike the one who left
    assert states[-1][1].occupied is occupied


def _painted(occ: PersonOccupancy, box: tuple[float, float, float, float], seed: int) -> np.ndarray:
    """A test frame with a texture of its own over a box and a little around it."""
    img = _frame_for(occ)()  # the fake model reads the crop's place from its corner pixel, never inside the box
    x0, y0 = int(box[0] * W) - 3, int(box[1] * H) - 3
    x1, y1 = int(np.ceil(box[2] * W)) + 3, int(np.ceil(box[3] * H)) + 3
    img = img.copy()
    img[y0:y1, x0:x1] = np.random.default_rng(seed).integers(0, 255, (y1 - y0, x1 - x0, 1), dtype=np.uint8)
    return img


def _player(occ: PersonOccupancy, motion: np.ndarray | None = None):  # noqa: ANN202 - (play, the spot's states)
    """play(t0, t1, frame[, motion]) updates occ at 5 fps; states gathers (time, the service spot's state)."""
    states: list[tuple[float, object]] = []
    still = np.zeros((180, 320), np.uint8)

    def play(t0: float, t1: float, img: np.ndarray, moving: np.ndarray | None = None) -> None:
        for k in range(int(round((t1 - t0) * 5))):
            m = moving if moving is not None else motion if motion is not None else still
            states.append((t0 + k / 5, occ.update(t0 + k / 5, m, lambda: img)["spot"]))

    return play, states


def test_likeness_ignores_light_and_gives_no_figure_for_a_flat_thumbnail() -> None:
    """A light step or exposure flicker (gain and offset) leaves a thumbnail's likeness to itself at 1;
    another texture falls near 0; a flat one (a dark wall) has no correlation, and same_look compares means."""
    rng = np.random.default_rng(3)
    a = rng.uniform(0, 255, (16, 16)).astype(np.float32)
    assert likeness(a, 0.6 * a + 40) == pytest.approx(1.0, abs=1e-5)
    assert abs(likeness(a, rng.uniform(0, 255, (16, 16)).astype(np.float32)) or 0.0) < 0.3
    flat = np.full((16, 16), 80, np.float32)
    assert likeness(a, flat) is None and likeness(flat, flat) is None
    assert same_look(flat, flat + 3) and not same_look(flat, flat + 20) and not same_look(a, flat)
    assert same_look(a, 0.6 * a + 40)


def test_a_flat_picture_is_stretched_for_the_waiting_areas_only() -> None:
    """A dim, grey picture's waiting-area crops reach the detector stretched; the seats' crops as they are."""
    rng = np.random.default_rng(5)
    flat = rng.integers(40, 120, (H, W, 3), dtype=np.uint8)  # levels spanning ~80 of 256
    normal = rng.integers(10, 250, (H, W, 3), dtype=np.uint8)
    assert flat_lut(normal) is None
    lut = flat_lut(flat)
    assert lut is not None and int(lut[118]) - int(lut[41]) >= 180  # the span stretched to ~200 levels

    class Recording:
        def __init__(self) -> None:
            self.spans: list[tuple[bool, float]] = []
            self.area = False

        def detect(self, rgb: np.ndarray, min_score: float, mirrored: bool = False) -> list[Detection]:
            self.spans.append((self.area, float(np.percentile(rgb, 99) - np.percentile(rgb, 1))))
            return []

        boxes = detect

    model = Recording()
    occ = PersonOccupancy([SEAT, SPOT, WAIT], ASPECT, PresenceParams(), model=model)  # type: ignore[arg-type]
    original = occ._run_tile

    def run(i: int, rgb: np.ndarray, now: float) -> None:
        model.area = not occ.tiles[i].seats
        original(i, rgb, now)

    occ._run_tile = run  # type: ignore[method-assign]
    occ.update(0.0, np.zeros((180, 320), np.uint8), lambda: flat)
    seats = [s for area, s in model.spans if not area]
    areas = [s for area, s in model.spans if area]
    assert seats and areas
    assert max(seats) < 90 and min(areas) > 150


def _grey_with(boxes: list[tuple[float, float, float, float]], seed: int = 0) -> np.ndarray:
    """The grey detection frame: flat, with a textured patch (someone, or a chair) over each box (the k-th
    box's texture drawn with seed + k)."""
    img = np.full((180, 320), 100, np.uint8)
    for k, (x0, y0, x1, y1) in enumerate(boxes):
        patch = img[int(y0 * 180):int(np.ceil(y1 * 180)), int(x0 * 320):int(np.ceil(x1 * 320))]
        patch[...] = np.random.default_rng(seed + k).integers(0, 255, patch.shape, dtype=np.uint8)
    return img


@pytest.mark.parametrize(("low_score", "there_all_along", "expected"),
                         [(0.25, False, 1.0), (None, False, 0.0), (0.25, True, 0.0)])
def test_a_low_scoring_seated_person_counts_where_the_hall_looked_different(
    low_score: float | None, there_all_along: bool, expected: float,
) -> None:
    """A seated-scale box scoring under area_min_score counts when the hall's median picture shows
    something else there (someone sat down), not when it was there all along (an empty chair)."""
    fake = FakeModel()
    fake.min_rel_height = 0.25  # only the seated-scale tiles find them
    params = PresenceParams(low_score=low_score)
    occ = PersonOccupancy([SEAT, SPOT, WAIT], ASPECT, params, model=fake)  # type: ignore[arg-type]
    seated = _seated_crowd(occ)
    fake.scores = {1: 0.3}
    frame = _frame_for(occ)
    still = np.zeros((180, 320), np.uint8)
    sits = 90.0  # after the median's first minute
    counts = []
    for k in range(180 * 5):
        t = k / 5
        here = there_all_along or t >= sits
        fake.people = seated[:2] if here else seated[:1]
        grey = _grey_with(fake.people)
        motion = _moving(seated[1]) if sits <= t < sits + 1 else still
        counts.append((t, occ.update(t, motion, frame, grey)["wait"].count))
    assert {c for t, c in counts if 20.0 < t < sits} == {1.0}  # the one scoring 0.6
    assert {c for t, c in counts if t > sits + 45.0} == {1.0 + expected}


def test_a_low_scoring_person_seated_for_long_keeps_counting() -> None:
    """Once the median has taken in someone seated for long, their low-scoring box still counts while it
    looks as it did when they were counted."""
    fake = FakeModel()
    fake.min_rel_height = 0.25
    params = PresenceParams(reference_every_s=2.0, reference_keep=10, reference_min=5)  # a 20 s median
    occ = PersonOccupancy([SEAT, SPOT, WAIT], ASPECT, params, model=fake)  # type: ignore[arg-type]
    person = _seated_crowd(occ)[1]
    fake.scores = {0: 0.3}
    frame = _frame_for(occ)
    still = np.zeros((180, 320), np.uint8)
    counts = []
    for k in range(240 * 5):
        t = k / 5
        fake.people = [person] if t >= 30.0 else []
        motion = _moving(person) if 30.0 <= t < 31.0 else still
        counts.append((t, occ.update(t, motion, frame, _grey_with(fake.people))["wait"].count))
    assert occ._hall is not None and occ._hall.picture() is not None
    assert np.array_equal(occ._hall.picture(), _grey_with([person]))  # taken in by now
    assert {c for t, c in counts if t > 90.0} == {1.0}


def test_a_seated_sighting_that_changed_makes_its_tile_due() -> None:
    """When a sweep drops a seated-scale sighting whose box changed, its tile runs again soon (someone
    there moved: they may still be there), not in its turn."""
    fake = FakeModel()
    fake.min_rel_height = 0.25
    params = PresenceParams(seated_period_s=60.0)  # seated-scale tiles come in their turn after minutes
    occ = PersonOccupancy([SEAT, SPOT, WAIT], ASPECT, params, model=fake)  # type: ignore[arg-type]
    fake.people = _seated_crowd(occ)
    runs: list[tuple[int, float]] = []
    original = occ._run_tile

    def logging(i: int, rgb: np.ndarray, now: float) -> None:
        runs.append((i, now))
        original(i, rgb, now)

    occ._run_tile = logging  # type: ignore[method-assign]
    base = _frame_for(occ)()
    changed = base.copy()
    x0, y0, x1, y1 = fake.people[0]
    box = changed[int(y0 * H):int(y1 * H), int(x0 * W):int(x1 * W)]
    box[...] = np.random.default_rng(1).integers(0, 255, box.shape, dtype=np.uint8)  # they shifted in the chair
    motion = np.zeros((180, 320), np.uint8)
    mine = {i for i, ts in enumerate(occ.tiles) if ts.seated_scale and ts.tile.owns(*occ.anchor(Detection(*fake.people[0], 0.6)))}
    for k in range(60 * 5):
        t = k / 5
        frame = base if t < 20.0 else changed
        occ.update(t, motion, lambda f=frame: f)
    again = [now for i, now in runs if i in mine and now > 20.0]
    assert again and again[0] <= 20.0 + params.area_period_s + params.moved_period_s + 1.0


def _repainted(frame: np.ndarray, box: tuple[float, float, float, float], seed: int = 5) -> np.ndarray:
    """A copy of the RGB frame with random texture over box (what shows there has changed)."""
    out = frame.copy()
    x0, y0, x1, y1 = box
    patch = out[int(y0 * H):int(y1 * H), int(x0 * W):int(x1 * W)]
    patch[...] = np.random.default_rng(seed).integers(0, 255, patch.shape, dtype=np.uint8)
    return out


def test_the_empty_chair_someone_left_is_not_taken_for_someone_new() -> None:
    """After a long-seated person leaves, the median still shows them for a while: their empty chair,
    scoring low, differs from it but is not counted."""
    fake = FakeModel()
    fake.min_rel_height = 0.25
    params = PresenceParams(reference_every_s=2.0, reference_keep=30, reference_min=5)  # a 60 s median
    occ = PersonOccupancy([SEAT, SPOT, WAIT], ASPECT, params, model=fake)  # type: ignore[arg-type]
    place = _seated_crowd(occ)[1]
    fake.people = [place]
    base = _frame_for(occ)()
    empty = _repainted(base, place)  # the chair, seen once they left
    x0, y0, x1, y1 = place
    person_grey = _grey_with([place])
    chair_grey = person_grey.copy()
    gy0, gy1, gx0, gx1 = int(y0 * 180), int(np.ceil(y1 * 180)), int(x0 * 320), int(np.ceil(x1 * 320))
    chair_grey[gy0:gy1, gx0:gx1] = np.random.default_rng(9).integers(0, 255, (gy1 - gy0, gx1 - gx0), dtype=np.uint8)
    still = np.zeros((180, 320), np.uint8)
    leaves = 120.0
    counts = []
    for k in range(200 * 5):
        t = k / 5
        if t >= leaves:
            fake.scores = {0: 0.3}  # the empty chair scores low
        frame, grey = (base, person_grey) if t < leaves else (empty, chair_grey)
        motion = _moving(place) if leaves <= t < leaves + 1 else still
        counts.append((t, occ.update(t, motion, lambda f=frame: f, grey)["wait"].count))
    assert {c for t, c in counts if 20.0 < t < leaves} == {1.0}
    assert {c for t, c in counts if t > leaves + 30.0} == {0.0}


@pytest.mark.parametrize(("vacated_back", "expected"), [(True, 1.0), (False, 0.0)])
def test_someone_taken_for_gone_while_covered_counts_again_when_they_look_as_before(vacated_back: bool, expected: float) -> None:
    """A citizen sits down and is counted; someone stands in front of them for a few seconds (their box changes,
    so a sweep takes them for gone); then they show again as before but score low. Their box still differs from
    the hall's usual picture (a 5-minute median: they have not sat long enough to be in it) and looks as they did
    when last counted: they are still there, and count."""
    fake = FakeModel()
    fake.min_rel_height = 0.25
    params = PresenceParams(reference_every_s=2.0, reference_keep=150, reference_min=5, vacated_back=vacated_back)
    occ = PersonOccupancy([SEAT, SPOT, WAIT], ASPECT, params, model=fake)  # type: ignore[arg-type]
    place = _seated_crowd(occ)[1]
    fake.people = [place]
    base = _frame_for(occ)()
    covered = _repainted(base, place)  # someone standing in front
    person_grey, empty_grey = _grey_with([place]), _grey_with([])
    still = np.zeros((180, 320), np.uint8)
    sits, covers_from, covers_to = 120.0, 170.0, 174.0  # the median has two minutes of the empty hall
    counts = []
    for k in range(230 * 5):
        t = k / 5
        fake.people = [place] if t >= sits else []
        if t >= covers_from:
            fake.scores = {0: 0.3}  # from then on they score low
        frame = covered if covers_from <= t < covers_to else base
        motion = _moving(place) if covers_from <= t < covers_to or sits <= t < sits + 1 else still
        counts.append((t, occ.update(t, motion, lambda f=frame: f, person_grey if t >= sits else empty_grey)["wait"].count))
    assert {c for t, c in counts if sits + 30.0 < t < covers_from} == {1.0}
    assert any(c == 0.0 for t, c in counts if covers_from <= t < covers_to + 10.0)  # taken for gone
    assert {c for t, c in counts if t > covers_to + 30.0} == {expected}


@pytest.mark.parametrize(("max_box", "counted"), [(PresenceParams().max_box, "walker"), (100.0, "giant")])
def test_a_box_far_taller_than_a_person_is_not_one(max_box: float, counted: str) -> None:
    """A waiting-area box of about three standing heights (the model calling a whole crop a person) is
    dropped before suppression, and does not hide the person standing inside it."""
    fake = FakeModel()
    occ = PersonOccupancy([WAIT], ASPECT, PresenceParams(max_box=max_box, area_seated_ratio=None), model=fake)  # type: ignore[arg-type]
    h = occ.persp.height(0.9)
    walker = (0.45, 0.9 - h, 0.5, 0.9)
    (tile,) = [ts.tile for ts in occ.tiles if ts.tile.owns(0.475, 0.9)]
    x0, y0, x1, y1 = tile.box
    giant = (max(x0, 0.0) + 0.01, max(y0, 0.0) + 0.01, min(x1, 1.0) - 0.01, min(y1, 1.0) - 0.01)  # the whole crop
    assert (giant[3] - giant[1]) / occ.persp.height(giant[3]) > 2.5
    fake.people = [walker, giant]
    fake.scores = {1: 0.7}  # above the walker's: it would win in suppress
    counts = [s["wait"].count for t, s in _run(occ, 0.0, 12.0) if t > 1.0]
    assert set(counts) == {1.0}
    (found,) = occ._area_dets
    box = {"walker": walker, "giant": giant}[counted]
    assert (found.x0, found.y0, found.x1, found.y1) == pytest.approx(box, abs=0.01)


@pytest.mark.parametrize(("level", "averaged"), [(0.8, True), (None, False)])
def test_a_noisy_pictures_seated_scale_crops_come_from_its_running_mean(level: float | None, averaged: bool) -> None:
    """In a noisy picture the seated-scale tiles see the mean of the last frames; the seats and the
    standing scale (people moving) see the frame itself."""
    rng = np.random.default_rng(9)
    scene = rng.integers(30, 220, (H, W, 3)).astype(np.float32)

    class Recording:
        def __init__(self) -> None:
            self.errors: dict[str, list[float]] = {"seat": [], "standing": [], "seated": []}
            self.kind = "seat"
            self.box = (0, 0, W, H)

        def boxes(self, rgb: np.ndarray, min_score: float, mirrored: bool = False) -> list[Detection]:
            x0, y0, x1, y1 = self.box
            self.errors[self.kind].append(float(np.abs(rgb - scene[y0:y1, x0:x1]).mean()))
            return []

        detect = boxes

    model = Recording()
    occ = PersonOccupancy([SEAT, SPOT, WAIT], ASPECT, PresenceParams(noisy_level=level), model=model)  # type: ignore[arg-type]
    original = occ._run_tile

    def run(i: int, rgb: np.ndarray, now: float) -> None:
        ts = occ.tiles[i]
        model.kind = "seat" if ts.seats else "seated" if ts.seated_scale else "standing"
        model.box = ts.tile.pixels(W, H)
        original(i, rgb, now)

    occ._run_tile = run  # type: ignore[method-assign]
    still = np.zeros((180, 320), np.uint8)
    for k in range(300):  # 60 s at 5 fps
        rgb = np.clip(scene + rng.normal(0, 12, scene.shape), 0, 255).astype(np.uint8)
        grey = np.ascontiguousarray(rgb[::2, ::2].mean(axis=2).astype(np.uint8))
        occ.update(k / 5, still, lambda rgb=rgb: rgb, grey)
    late = {kind: e[len(e) // 2:] for kind, e in model.errors.items()}  # once the noise level has settled
    assert all(late.values())
    assert min(late["seat"]) > 8 and min(late["standing"]) > 8  # a frame: the noise as it is (sigma 12)
    if averaged:
        assert max(late["seated"]) < 5
    else:
        assert min(late["seated"]) > 8


@pytest.mark.parametrize(("above", "aside", "share", "hidden"), [
    (0.2, 0.0, 0.6, False),  # their head shows 0.2 standing heights above the one in front: someone behind
    (0.0, 0.4, 0.6, True),  # as much of them covered, their top on the same row: a part of the one in front
    (0.05, 0.0, 0.9, True),  # mostly inside the one in front
    (0.0, 0.8, 0.2, False),  # barely touching: someone beside
])
def test_a_low_box_half_behind_someone_counts_when_its_head_shows_above_theirs(
    above: float, aside: float, share: float, hidden: bool,
) -> None:
    """A low-scoring seated-size box partly covered by a person found already is a part of that person,
    unless its top lies behind_h standing heights above theirs (someone in the row behind, half hidden by
    the one in front); covered over behind_overlap, it is a part of them wherever it starts."""
    occ = PersonOccupancy([SEAT, SPOT, WAIT], ASPECT, PresenceParams(), model=FakeModel())  # type: ignore[arg-type]
    h = occ.persp.height(0.8)
    w, tall = 0.1, 0.5 * h
    front = Detection(0.40, 0.6, 0.40 + w, 0.6 + tall, 0.6)
    behind = Detection(0.40 + aside * w, 0.6 - above * h, 0.40 + (1 + aside) * w, 0.6 - above * h + tall, 0.3)
    assert covers(front, behind) == pytest.approx(share)
    assert occ._hides(front, behind) is hidden


@pytest.mark.parametrize(("head_h", "counted"), [(None, 1.0), (0.6, 0.0)])
def test_a_back_row_citizen_whose_head_alone_shows_counts_by_their_seat(head_h: float | None, counted: float) -> None:
    """Someone seated in the row nearest the area's far edge, shown only from the head to the shoulders
    (the person in front hides the rest): their seat lies inside the area, `sitting_head_h` standing heights
    below their head top. Put only SEATED_FIT (0.6) below it, they would fall just outside."""
    fake = FakeModel()
    params = PresenceParams() if head_h is None else PresenceParams(sitting_head_h=head_h)
    occ = PersonOccupancy([WAIT], ASPECT, params, model=fake)  # type: ignore[arg-type]
    seat_y = 0.52  # the area starts at 0.5
    h = occ.persp.height(seat_y)
    top = seat_y - PresenceParams().sitting_head_h * h
    fake.people = [(0.30, top, 0.35, top + 0.35 * h)]
    states = _run(occ, 0.0, params.area_period_s)
    assert {s["wait"].count for t, s in states if t >= params.moved_period_s + 0.5} == {counted}


@pytest.mark.parametrize("place_iou, taken", [(PresenceParams().on_place_iou, False), (None, True)])
def test_someone_walking_along_a_spot_with_their_legs_hidden_does_not_occupy_it(
        place_iou: float | None, taken: bool) -> None:
    """A citizen found short (the row in front hides their legs) on a wide spot, at one place and then
    another for 4 s of walking along it: not seated. Once they sit, the spot is occupied from their first
    sighting there. Without the one-place rule (place_iou None) the walk's sightings turn it on."""
    wide = ZoneSpec("spot", "service_spot", ((0.36, 0.40), (0.52, 0.40), (0.52, 0.44), (0.36, 0.44)))
    fake = FakeModel()
    occ = PersonOccupancy([SEAT, wide, WAIT], ASPECT, dataclasses.replace(PresenceParams(), on_place_iou=place_iou),
                          model=fake)  # type: ignore[arg-type]
    frame = _frame_for(occ)
    h = occ.persp.height(0.43)
    box = lambda x: (x, 0.43 - 0.6 * h, x + 0.04, 0.43)  # noqa: E731 - a short box, feet on the spot's row
    _run(occ, 0.0, 6.0)  # nobody: the spot is found empty
    walked = []
    for k in range(20):  # 6-10 s: walking along the spot at 0.03 frame widths a second
        t = 6.0 + k / 5
        fake.people = [box(0.36 + 0.03 * (t - 6.0))]
        walked.append(occ.update(t, _moving(fake.people[0]), frame)["spot"].occupied)
    assert any(walked) is taken
    fake.people = [box(0.47)]  # sits down at 10 s where the walk ended
    states = [occ.update(t, np.zeros((180, 320), np.uint8), frame) for t in np.arange(10.0, 20.0, 0.2)]
    assert states[-1]["spot"].occupied
    if not taken:  # from their first sighting at the place they sat: at the walk's end at the earliest
        assert states[-1]["spot"].since >= 9.0


@pytest.mark.parametrize("same_person, gap_misses, taken", [
    (False, PresenceParams().on_gap_misses, False),  # two passers-by at one place, nobody between: not seated
    (True, PresenceParams().on_gap_misses, True),  # one citizen the detector missed for seconds: seated
    (False, None, True),  # without the rule, any two sightings at one place spanning on_s
])
def test_people_passing_a_spot_one_after_another_do_not_occupy_it(
        same_person: bool, gap_misses: int | None, taken: bool) -> None:
    """In a full hall people pass along the aisle in front of the spots: one is found on a spot, nobody in
    the next analyses, another at the same place seconds later. Their boxes show different people (the
    picture's blue channel: a texture of each); a citizen sitting still and missed in between shows the same."""
    fake = FakeModel()
    occ = PersonOccupancy([SEAT, SPOT, WAIT], ASPECT, dataclasses.replace(PresenceParams(), on_gap_misses=gap_misses),
                          model=fake)  # type: ignore[arg-type]
    base = _frame_for(occ)()
    h = occ.persp.height(0.43)
    box = (0.41, 0.43 - 0.6 * h, 0.45, 0.43)
    x0, y0, x1, y1 = int(box[0] * W), int(box[1] * H), int(np.ceil(box[2] * W)), int(np.ceil(box[3] * H))
    rng = np.random.default_rng(3)
    looks = [rng.integers(0, 256, (y1 - y0, x1 - x0), dtype=np.uint8) for _ in range(2)]
    if same_person:
        looks[1] = looks[0]
    empty = np.zeros((180, 320), np.uint8)
    _run(occ, 0.0, 6.0)  # nobody: the spot is found empty
    seen = []
    for t in np.arange(6.0, 20.0, 0.2):
        who = 0 if t < 7.2 else 1 if 11.0 <= t < 12.2 else None  # found 6-7 s and 11-12 s, missed between
        fake.people = [box] if who is not None else []
        img = base.copy()
        if who is not None or same_person:  # the citizen missed in between is still there
            img[y0:y1, x0:x1, 2] = looks[who or 0]
        motion = _moving(box) if who is not None else empty  # found while moving (the same either way)
        seen.append(occ.update(float(t), motion, lambda img=img: img)["spot"].occupied)
    assert any(seen) is taken


@pytest.mark.parametrize(("cover", "newcomer", "hidden_count"), [
    (0.5, False, 2.0),  # the walker in front hides the one behind: still two
    (None, False, 1.0),  # ... not without the rule
    (0.5, True, 1.0),  # the one behind left as someone new stepped in front: the new box is taken for them
])
def test_someone_hidden_by_a_walker_in_front_is_kept_for_a_while(
        cover: float | None, newcomer: bool, hidden_count: float) -> None:
    fake = FakeModel()
    params = PresenceParams(area_seated_ratio=None, moved_period_s=0.4, calls_per_s=20.0, max_burst=20.0,
                            behind_cover=cover, carry_s=4.0, moving_cover=None)
    occ = PersonOccupancy([WAIT], ASPECT, params, model=fake)  # type: ignore[arg-type]
    ha, hb = occ.persp.height(0.80), occ.persp.height(0.90)
    back = (0.40, 0.80 - ha, 0.46, 0.80)  # standing still, farther from the camera
    front_x = 0.60  # the nearer one walks left in front of them, slowly (their box is not followed here)
    frame = _frame_for(occ)
    counts: list[tuple[float, float]] = []
    t, hidden_since = 0.0, None
    while t < 13.0:
        front = (front_x, 0.90 - hb, front_x + 0.06, 0.90)
        hidden = covers(Detection(*front, 0.6), Detection(*back, 0.6)) >= 0.5
        if hidden and hidden_since is None:
            hidden_since = t
        if newcomer:  # nobody walked over: someone new is found in front as the one behind goes
            fake.people = [front] if hidden else [back]
        else:
            fake.people = [back, front]
            fake.scores = {0: 0.05} if hidden else {}  # under carry_score: no weak box of theirs either
        counts.append((t, occ.update(t, _moving(front), frame)["wait"].count))
        if front_x > 0.40 and not newcomer:
            front_x = round(front_x - 0.005, 3)
        elif newcomer:
            front_x = 0.40
        t = round(t + 0.2, 1)
    assert hidden_since is not None
    assert all(c == (1.0 if newcomer else 2.0) for s, c in counts if s < hidden_since)
    # a sweep after they were hidden, within carry_s of their last firm sighting
    window = [c for s, c in counts if hidden_since + 0.7 < s < hidden_since + 3.1]
    assert len(window) >= 10 and set(window) == {hidden_count}
    assert counts[-1][1] == 1.0  # carry_s after they were last seen firmly, only the one in front


@pytest.mark.parametrize(("bottom", "count"), [(1.0, 1.0), (0.95, 0.0)])
def test_someone_cut_off_by_the_bottom_edge_stands_in_an_area_drawn_down_to_it(bottom: float, count: float) -> None:
    area = ZoneSpec("wait", "waiting_area", ((0.0, 0.5), (1.0, 0.5), (1.0, bottom), (0.0, bottom)), (0.3, 0.22))
    occ = PersonOccupancy([area], ASPECT, PresenceParams(area_seated_ratio=None), model=FakeModel())  # type: ignore[arg-type]
    h = occ.persp.height(1.0)
    occ._area_dets = [Detection(0.40, 1.08 - h, 0.46, 1.08, 0.6)]  # the model puts their feet below the picture
    assert occ._states(0.0, np.zeros((180, 320), np.uint8))["wait"].count == count
