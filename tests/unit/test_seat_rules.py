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

