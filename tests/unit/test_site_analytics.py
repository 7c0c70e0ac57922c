"""Office-level analytics: sessions across cameras, queues summed over waiting areas, FIFO waits per queue."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.counters.analytics import AnalyticsParams, counter_stats
from monitor.counters.office_now import queue_now
from monitor.counters.site import analyse_office, counter_window, field_window, queue_samples, queue_window
from monitor.records import Interval, ZoneSamples
from monitor.site.office import Office, OfficeCounter, OfficeQueue

T0, T1 = 0, 2000
ALL = Interval(T0, T1)


def samples(spans: list[tuple[int, int]], t0: int = T0, t1: int = T1, level: float = 1.0) -> ZoneSamples:
    """One sample a second over [t0, t1): occupied (count = level) inside the spans."""
    t = np.arange(t0, t1)
    on = np.zeros(t.shape, bool)
    for a, b in spans:
        on |= (t >= a) & (t < b)
    return ZoneSamples(t, on, np.where(on, level, 0.0))


def counts(values: dict[int, float], t0: int = T0, t1: int = T1) -> ZoneSamples:
    """A waiting area whose count steps to values[t] at each t (0 before the first)."""
    t = np.arange(t0, t1)
    c = np.zeros(t.shape)
    for at in sorted(values):
        c[t >= at] = values[at]
    return ZoneSamples(t, c > 0.5, c)


def test_queue_length_is_the_sum_over_the_seconds_all_areas_observed():
    a = ZoneSamples(np.array([1, 2, 3, 4]), np.ones(4, bool), np.array([1, 2, 1, 0]))
    b = ZoneSamples(np.array([2, 3, 5]), np.ones(3, bool), np.array([0.5, 3, 9]))
    q = queue_samples([a, b])
    assert q.t.tolist() == [2, 3]  # second 1 and 4 missed by b, 5 by a: left out, not summed short
    assert q.count.tolist() == [2.5, 4.0]
    assert queue_samples([]).t.size == 0


def test_a_counter_whose_seat_and_spot_are_on_two_cameras_has_sessions():
    office = Office((OfficeCounter("q1", "Quầy 1", None, ("cam-a", "seat"), ("cam-b", "spot"), None),), (), False)
    data = {("cam-a", "seat"): samples([(0, 2000)]), ("cam-b", "spot"): samples([(100, 400), (600, 700)])}
    a = analyse_office(office, data, [ALL])
    assert a.sessions["q1"] == [Interval(100, 400), Interval(600, 700)]
    s = counter_window(a, "q1", ALL)
    assert s.served == 2 and s.mean_service_s == pytest.approx(200)
    assert s.waits == [] and s.mean_queue == 0  # no queue feeds it


def test_a_counter_whose_officer_the_camera_never_sees_is_served_from_its_spot():
    """The office analysis follows analytics.staff_hidden: sessions from the spot, no absence, the counter listed."""
    office, data = _two_counter_office()
    data[("a", "seat1")] = samples([])  # counter 1's officer is behind a monitor all day
    a = analyse_office(office, data, [ALL])
    assert a.hidden == frozenset({"q1"})
    assert a.sessions["q1"] == [Interval(500, 800)] and a.absences["q1"] == []
    off = analyse_office(office, data, [ALL], AnalyticsParams(hidden_staff_s=None))
    assert off.hidden == frozenset() and off.sessions["q1"] == [] and off.absences["q1"] == [ALL]


def _two_counter_office() -> tuple[Office, dict]:
    office = Office(
        (OfficeCounter("q1", "Quầy 1", "tu-phap", ("a", "seat1"), ("a", "spot1"), "hall"),
         OfficeCounter("q2", "Quầy 2", "tu-phap", ("b", "seat2"), ("b", "spot2"), "hall")),
        (OfficeQueue("hall", "Sảnh", (("h", "left"), ("h2", "right")), ("q1", "q2")),),
        False,
    )
    data = {
        ("a", "seat1"): samples([(0, 2000)]), ("a", "spot1"): samples([(500, 800)]),
        ("b", "seat2"): samples([(0, 2000)]), ("b", "spot2"): samples([(300, 600)]),
        # citizen 1 arrives in the left area at 100, citizen 2 in the right area (another camera) at 200
        ("h", "left"): counts({100: 1, 300: 0}), ("h2", "right"): counts({200: 1, 500: 0}),
    }
    return office, data


def test_waits_are_fifo_across_all_the_counters_a_queue_feeds():
    office, data = _two_counter_office()
    a = analyse_office(office, data, [ALL])
    # q2 starts first (300) and takes the first arrival (100); q1 (500) the second (200)
    assert a.waits == {"q2": [200.0], "q1": [300.0]}
    s = queue_window(a, "hall", ALL)
    assert s.served == 2 and s.mean_wait_s == pytest.approx(250) and s.max_queue == 2


def test_a_citizen_waiting_from_before_the_first_sample_has_a_lower_bound_left_out_of_the_means():
    """Observation begins with citizen 1 already seated in the left area (found at the first sample, nobody
    seen walking in): their wait is only a lower bound (OfficeAnalysis.lower), left out of every mean
    wait; citizen 2, who came at 200, keeps theirs. With every wait a lower bound, the bounds are used."""
    office, data = _two_counter_office()
    data[("h", "left")] = counts({0: 1, 300: 0})
    a = analyse_office(office, data, [ALL])
    assert a.waits == {"q2": [300.0], "q1": [300.0]}  # q2 (300) takes the arrival at 0; q1 (500) the one at 200
    assert a.lower == {"q2": [True], "q1": [False]}
    assert a.wait_known("q2", 0) is None and a.wait_known("q1", 0) == 300.0
    assert queue_window(a, "hall", ALL).waits == [300.0]  # q1's alone
    assert counter_window(a, "q2", ALL).mean_wait_s == pytest.approx(300)  # only bounds: the bounds
    assert field_window(a, "tu-phap", ALL).waits == [300.0]
    # the overview's "wait now" (camera source) leaves the bound out too, and still counts both served
    now = queue_now(a, "hall", [], 900.0)
    assert (now.wait_s, now.served_recently) == (300.0, 2)
    # found 15 s in (the detector's first looks), still from before; found at 25 s, a whole wait
    data[("h", "left")] = counts({15: 1, 300: 0})
    assert analyse_office(office, data, [ALL]).lower["q2"] == [True]
    data[("h", "left")] = counts({25: 1, 300: 0})
    assert analyse_office(office, data, [ALL]).lower["q2"] == [False]


def test_a_citizen_who_leaves_a_queue_unserved_is_counted_and_matched_to_nobody():
    office, data = _two_counter_office()
    # a third citizen waits in the left area from 900 to 1200 and goes; a fourth sits there from 1500
    # and is served at q1 from 1600 (1500-1600 is their wait, not 700 from the leaver's arrival)
    data[("h", "left")] = counts({100: 1, 300: 0, 900: 1, 1200: 0, 1500: 1, 1600: 0})
    data[("a", "spot1")] = samples([(500, 800), (1600, 1900)])
    a = analyse_office(office, data, [ALL])
    assert a.left == {"hall": [1200.0]}
    assert a.left_unserved(["hall"], ALL) == 1 and a.left_unserved(["hall"], Interval(0, 1000)) == 0
    assert a.waits["q1"] == [300.0, 100.0]


def test_a_field_adds_up_its_counters():
    office, data = _two_counter_office()
    a = analyse_office(office, data, [ALL])
    f = field_window(a, "tu-phap", ALL)
    assert f.served == 2 and sorted(f.waits) == [200.0, 300.0]
    assert f.utilisation == pytest.approx((300 / 2000 + 300 / 2000) / 2)
    assert f.mean_queue == pytest.approx(queue_window(a, "hall", ALL).mean_queue)  # one queue, counted once


def test_hour_windows_count_a_session_in_the_window_it_starts():
    office, data = _two_counter_office()
    a = analyse_office(office, data, [ALL])
    assert counter_window(a, "q1", Interval(0, 499)).served == 0
    assert counter_window(a, "q1", Interval(499, 600)).service_times == [300.0]


def test_a_one_camera_office_gives_exactly_the_per_camera_figures():
    """The derived office must not change a single figure of today's per-camera analytics."""
    seat, spot = samples([(0, 900), (1100, 2000)]), samples([(50, 400), (450, 700), (1200, 1500)])
    queue = counts({10: 1, 30: 2, 60: 3, 420: 2, 460: 1, 1150: 2, 1210: 1, 1600: 0})
    office = Office((OfficeCounter("c", "C", None, ("cam", "seat"), ("cam", "spot"), "cam"),),
                    (OfficeQueue("cam", "cam", (("cam", "wait"),), ("c",)),), True)
    periods = [Interval(0, 1000), Interval(1100, 1900)]
    a = analyse_office(office, {("cam", "seat"): seat, ("cam", "spot"): spot, ("cam", "wait"): queue}, periods)
    for window in (ALL, Interval(0, 600), Interval(600, 2000)):
        mine = counter_window(a, "c", window)
        theirs = counter_stats(spot, seat, queue, periods, params=AnalyticsParams(), window=window)
        assert mine == theirs
