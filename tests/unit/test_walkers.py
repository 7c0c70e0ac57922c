"""Walkers: person-sized moving blobs outside the seated bodies, on synthetic change maps."""

import numpy as np

from monitor.detect.occupancy import ZoneSpec
from monitor.detect.tiles import Perspective
from monitor.detect.walkers import WALKER_AREA, Walkers

SHAPE = (180, 320)
PERSP = Perspective(0.2, 0.2)  # a standing person is 0.2 of the frame high at the top row, 0.4 at the bottom
SEAT = ZoneSpec("staff", "staff_seat", ((0.45, 0.40), (0.55, 0.40), (0.55, 0.45), (0.45, 0.45)))
AREA = ZoneSpec("wait", "waiting_area", ((0.0, 0.6), (1.0, 0.6), (1.0, 1.0), (0.0, 1.0)))


def _blob(change: np.ndarray, x: int, bottom: int, w: int, h: int) -> np.ndarray:
    change[bottom - h:bottom, x:x + w] = 255
    return change


def test_a_walking_person_counts_and_a_fidget_does_not() -> None:
    walkers = Walkers([SEAT, AREA], PERSP, SHAPE)
    tall = PERSP.height(150 / 180) * 180  # standing height in pixels at row 150
    person = _blob(np.zeros(SHAPE, np.uint8), 20, 150, int(0.3 * tall), int(tall))
    assert walkers.count(person) == 1
    side = int(np.ceil(np.sqrt(WALKER_AREA * tall * tall))) - 2  # just under the walker area
    fidget = _blob(np.zeros(SHAPE, np.uint8), 20, 150, side, side)
    assert walkers.count(fidget) == 0
    two = _blob(person.copy(), 250, 150, int(0.3 * tall), int(tall))
    assert walkers.count(two) == 2


def test_seated_bodies_are_left_out() -> None:
    walkers = Walkers([SEAT, AREA], PERSP, SHAPE)
    # the officer moving on the chair: a big blob just above the seat's footprint
    change = _blob(np.zeros(SHAPE, np.uint8), 150, 80, 18, 30)
    assert Walkers([AREA], PERSP, SHAPE).count(change) == 1  # without the seat it would be a walker
    assert walkers.count(change) == 0
