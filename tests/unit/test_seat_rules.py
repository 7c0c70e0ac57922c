"""One seat's on rule (monitor.detect.seats.seat_step): sightings spanning on_s, at one place."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from monitor.detect.occupancy import ZoneSpec
from monitor.detect.persons import Detection
from monitor.detect.presence_params import PresenceParams
from monitor.detect.seats import Seat, seat_step


def _seat() -> Seat:
    spec = ZoneSpec("spot", "service_spot", ((0.4, 0.5), (0.5, 0.5), (0.5, 0.6), (0.4, 0.6)))
    poly = np.array([[0.4, 0.5], [0.5, 0.5], [0.5, 0.6], [0.4, 0.6]], np.float32)
    s = Seat(spec, poly, (0.4, 0.5, 0.5, 0.6), h=0.3)
    s.missed = True  # found empty once: it turns on from its first sighting
    return s


def _box(x: float) -> Detection:
    """A seated person's box, 0.05 wide, whose left edge is at x."""
    return Detection(x, 0.4, x + 0.05, 0.58, 0.5)


@pytest.mark.parametrize("between", [0.425, 0.49])
def test_sightings_at_one_place_spanning_on_s_turn_a_seat_on_from_the_first(between: float) -> None:
    """Between two sightings of the seated person 2 s apart, one of them again (0.425) or of someone queueing
    beside them (0.49: the seat's nearest box alternates): either way the seat is on from the first."""
    p = PresenceParams()
    s = _seat()
    seat_step(s, 10.0, True, p, box=_box(0.42))
    seat_step(s, 11.0, True, p, box=_box(between))
    assert not s.occupied
    seat_step(s, 12.0, True, p, box=_box(0.42))
    assert s.occupied and s.since == 10.0


def test_a_sighting_elsewhere_on_the_seat_does_not_count_towards_on_s() -> None:
    """Someone walking up past the spot (legs hidden by the row in front) and then sitting on it: the walk's
    sightings do not overlap the seated ones, so the seat turns on on_s after the first seated sighting."""
    p = PresenceParams()
    s = _seat()
    seat_step(s, 10.0, True, p, box=_box(0.49))  # walking, to the right of where they sit
    seat_step(s, 12.0, True, p, box=_box(0.42))  # sitting: 2 s after, at another place
    assert not s.occupied
    seat_step(s, 13.0, True, p, box=_box(0.421))
    assert not s.occupied
    seat_step(s, 14.0, True, p, box=_box(0.42))
    assert s.occupied and s.since == 12.0


def test_without_the_place_rule_any_two_sightings_spanning_on_s_turn_a_seat_on() -> None:
    p = dataclasses.replace(PresenceParams(), on_place_iou=None)
    s = _seat()
    seat_step(s, 10.0, True, p, box=_box(0.49))
    seat_step(s, 12.0, True, p, box=_box(0.42))
    assert s.occupied and s.since == 10.0


def test_sightings_without_boxes_count_wherever_they_were() -> None:
    p = PresenceParams()
    s = _seat()
    seat_step(s, 10.0, True, p)
    seat_step(s, 12.0, True, p, box=_box(0.42))
    assert s.occupied and s.since == 10.0


def test_an_occupied_seat_keeps_its_sightings_wherever_its_person_moves() -> None:
    p = PresenceParams()
    s = _seat()
    for t in (10.0, 12.0):
        seat_step(s, t, True, p, box=_box(0.42))
    assert s.occupied
    seat_step(s, 14.0, True, p, box=_box(0.49))  # leaning over to the side: still here
    assert s.occupied and s.since == 10.0 and len(s.hits) == 3


def test_a_miss_judges_the_sightings_at_the_place_of_the_last_one() -> None:
    p = PresenceParams()
    s = _seat()
    seat_step(s, 10.0, True, p, box=_box(0.42))
    seat_step(s, 12.5, True, p, box=_box(0.49))
    seat_step(s, 13.0, False, p)
    assert not s.occupied


_RNG = np.random.default_rng(7)
_ALICE = _RNG.uniform(0, 255, (16, 16)).astype(np.float32)  # two people's thumbnails (looks.look)
_BOB = _RNG.uniform(0, 255, (16, 16)).astype(np.float32)


@pytest.mark.parametrize("second, since", [(_BOB, 16.0), (_ALICE + 3.0, 10.0)])
def test_sightings_at_a_spot_far_apart_count_together_only_when_they_look_alike(second: np.ndarray, since: float) -> None:
    """In a full hall, people pass along the aisle by the spots: one is found on a spot, nobody in the next
    analyses, then someone else at the same place. Sightings with two misses or more between them are one person
    only when their boxes show the same thing; else the spot turns on on_s after the later one."""
    p = PresenceParams()
    s = _seat()
    seat_step(s, 10.0, True, p, box=_box(0.42), seen=_ALICE)
    for t in (12.0, 14.0):
        seat_step(s, t, False, p)
    seat_step(s, 16.0, True, p, box=_box(0.42), seen=second)
    assert s.occupied is (since == 10.0)
    seat_step(s, 18.0, True, p, box=_box(0.42), seen=second)
    assert s.occupied and s.since == since


def test_a_staff_seat_chains_its_sightings_across_gaps() -> None:
    """A clerk half hidden by a monitor is found now and then, and nobody passes behind the counter."""
    p = PresenceParams()
    s = _seat()
    s.spec = dataclasses.replace(s.spec, kind="staff_seat")
    seat_step(s, 10.0, True, p, box=_box(0.42), seen=_ALICE)
    seat_step(s, 16.0, True, p, box=_box(0.42), seen=_BOB)
    assert s.occupied and s.since == 10.0


def test_one_miss_between_sightings_at_a_spot_does_not_part_them_whatever_they_look_like() -> None:
    """A citizen sitting down looks unlike their seated self, and the detector misses them now and then."""
    p = PresenceParams()
    s = _seat()
    seat_step(s, 10.0, True, p, box=_box(0.42), seen=_ALICE)
    seat_step(s, 13.0, False, p)
    seat_step(s, 16.0, True, p, box=_box(0.42), seen=_BOB)
    assert s.occupied and s.since == 10.0
