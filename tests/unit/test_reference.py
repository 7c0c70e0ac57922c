"""The hall's slow median picture (monitor.detect.reference)."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.detect.reference import HallMedian, Vacated


def _frame(value: int, shape: tuple[int, int] = (4, 6)) -> np.ndarray:
    return np.full(shape, value, np.uint8)


def test_it_samples_every_period_and_keeps_the_last_ones() -> None:
    hall = HallMedian(every_s=10.0, keep=3, min_samples=2)
    hall.add(0.0, _frame(10))
    hall.add(5.0, _frame(200))  # too soon: not taken
    assert hall.picture() is None  # one sample, two needed
    hall.add(10.0, _frame(20))
    assert hall.picture() is not None and int(hall.picture()[0, 0]) == 15
    hall.add(20.0, _frame(30))
    hall.add(30.0, _frame(40))  # the first (10) is dropped: 20, 30, 40
    assert int(hall.picture()[0, 0]) == 30


def test_the_median_leaves_out_what_passed_and_keeps_what_stayed() -> None:
    hall = HallMedian(every_s=1.0, keep=9, min_samples=9)
    for k in range(9):
        f = _frame(100)
        if k in (2, 3, 4, 5):  # someone seated for 4 of 9 samples at [0, 0]
            f[0, 0] = 250
        if k >= 4:  # a chair put down for good at [1, 1] (5 of 9)
            f[1, 1] = 30
        hall.add(float(k), f)
    pic = hall.picture()
    assert pic is not None and pic.dtype == np.uint8
    assert int(pic[0, 0]) == 100 and int(pic[1, 1]) == 30 and int(pic[2, 2]) == 100


def test_a_new_picture_size_starts_over() -> None:
    hall = HallMedian(every_s=1.0, keep=5, min_samples=2)
    hall.add(0.0, _frame(10))
    hall.add(1.0, _frame(10))
    hall.add(2.0, _frame(50, (8, 12)))
    assert hall.picture() is None
    hall.add(3.0, _frame(70, (8, 12)))
    assert hall.picture() is not None and hall.picture().shape == (8, 12) and int(hall.picture()[0, 0]) == 60


@pytest.mark.parametrize(("every_s", "keep", "min_samples"), [(0.0, 5, 2), (1.0, 0, 1), (1.0, 5, 6), (1.0, 5, 0)])
def test_bad_settings(every_s: float, keep: int, min_samples: int) -> None:
    with pytest.raises(ValueError, match="every_s"):
        HallMedian(every_s, keep, min_samples)


def test_vacated_places_are_remembered_for_hold_s() -> None:
    from monitor.detect.persons import Detection

    left = Vacated(hold_s=300.0)
    a, b = Detection(0.1, 0.5, 0.2, 0.7, 0.5), Detection(0.6, 0.5, 0.7, 0.7, 0.5)
    left.note(a, 10.0)
    assert left.places(100.0) == [a]
    left.note(b, 200.0)
    assert left.places(309.9) == [a, b]
    assert left.places(310.0) == [b]  # a left 300 s ago: the median no longer shows them
    assert left.places(600.0) == []
