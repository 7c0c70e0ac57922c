"""Counter analytics: hand-made per-second occupancy timelines in, sessions, absences and waits out."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from monitor.counters.analytics import (
    AnalyticsParams,
    QueueStats,
    absences,
    counter_day,
    counter_stats,
    drop_short,
    fifo_waits,
    intersect,
    littles_law_wait,
    presence_intervals,
    queue_flow,
    queue_stats,
    seen_or_all,
    service_sessions,
    session_starts,
    shared_waits,
    staff_hidden,
    still_waiting,
    utilisation,
    wait_bounds,
    walked_in,
    walked_in_flow,
)
from monitor.records import Interval, ZoneSamples, merge_intervals
from monitor.site.config import OpeningHours

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def seq(timeline: str, t0: int = 0) -> ZoneSamples:
    """Seat samples from a timeline of 'CHAR*N' tokens, one char per second: '1' occupied, '0' empty, '.' missing.

    "1*30 .*8 0*5" is 30 occupied seconds, 8 unobserved ones, 5 empty ones; a bare "10" is 1 then 0.
    """
    chars = "".join(tok.split("*")[0] * int(tok.split("*")[1]) if "*" in tok else tok for tok in timeline.split())
    t = [t0 + i for i, c in enumerate(chars) if c != "."]
    occupied = [c == "1" for c in chars if c != "."]
    return ZoneSamples(np.array(t, np.int64), np.array(occupied, bool), np.array(occupied, np.float32))


def queue(counts: list[float], t0: int = 0) -> ZoneSamples:
    """Waiting-area samples: one people estimate per second from t0."""
    c = np.asarray(counts, np.float32)
    return ZoneSamples(np.arange(t0, t0 + c.size, dtype=np.int64), c > 0, c)


def spans(intervals: list[Interval]) -> list[tuple[float, float]]:
    return [(iv.start, iv.end) for iv in intervals]


def ivs(*pairs: tuple[float, float]) -> list[Interval]:
    return [Interval(a, b) for a, b in pairs]


def local(day: date, hh: int, mm: int = 0) -> int:
    return int(datetime(day.year, day.month, day.day, hh, mm, tzinfo=VN).timestamp())


def day_window(day: date) -> Interval:
    return Interval(local(day, 0), local(day + timedelta(days=1), 0))


# ---------------------------------------------------------------- ZoneSamples


def test_from_records_sorts_and_window_is_half_open() -> None:
    s = ZoneSamples.from_records([(12, True, 1.0), (10, False, 0.0), (11, True, 2.5)])
    assert s.t.dtype == np.int64 and s.occupied.dtype == bool and s.count.dtype == np.float32
    assert s.t.tolist() == [10, 11, 12]
    assert s.count.tolist() == [0.0, 2.5, 1.0]
    w = s.window(11, 12)
    assert w.t.tolist() == [11] and w.occupied.tolist() == [True]
    assert len(s.window(13, 20)) == 0


def test_from_records_empty() -> None:
    s = ZoneSamples.from_records([])
    assert len(s) == 0 and s.t.dtype == np.int64


@pytest.mark.parametrize(
    ("t", "occupied", "count"),
    [
        pytest.param([1, 1], [True, True], [1, 1], id="repeated-second"),
        pytest.param([2, 1], [True, True], [1, 1], id="decreasing"),
        pytest.param([1, 2], [True], [1, 1], id="length-mismatch"),
    ],
)
def test_zone_samples_rejects_bad_arrays(t: list, occupied: list, count: list) -> None:
    with pytest.raises(ValueError):
        ZoneSamples(np.array(t), np.array(occupied), np.array(count))


def test_interval_rejects_negative_length() -> None:
    with pytest.raises(ValueError):
        Interval(5, 4)
    assert Interval(3, 10).duration == 7


# ---------------------------------------------------------------- presence


@pytest.mark.parametrize(
    ("timeline", "max_gap_s", "expected"),
    [
        pytest.param("", 5, [], id="no-samples"),
        pytest.param("0*10", 5, [], id="never-occupied"),
        pytest.param("0 1*4 0*2", 5, [(1, 5)], id="end-is-last-second-plus-one"),
        pytest.param("1*2 0 1*3", 5, [(0, 2), (3, 6)], id="empty-second-breaks"),
        pytest.param("1*2 .*2 1*2", 5, [(0, 6)], id="short-gap-bridged"),
        pytest.param("1*2 .*5 1*2", 5, [(0, 9)], id="gap-of-exactly-max-bridged"),
        pytest.param("1*2 .*6 1*2", 5, [(0, 2), (8, 10)], id="long-gap-breaks"),
        pytest.param("1 . 1", 0, [(0, 1), (2, 3)], id="no-gap-allowed"),
        pytest.param(".*3 1*3 .*3", 5, [(3, 6)], id="gaps-at-the-edges-add-nothing"),
        pytest.param("1*2 .*2 0 .*2 1", 5, [(0, 2), (7, 8)], id="empty-inside-gap-breaks"),
    ],
)
def test_presence_intervals(timeline: str, max_gap_s: float, expected: list) -> None:
    assert spans(presence_intervals(seq(timeline), max_gap_s)) == expected


def test_presence_intervals_keep_unix_times() -> None:
    t0 = 1_717_380_000
    assert spans(presence_intervals(seq("0 1*3", t0))) == [(t0 + 1, t0 + 4)]


# ---------------------------------------------------------------- interval algebra


@pytest.mark.parametrize(
    ("intervals", "gap_s", "expected"),
    [
        pytest.param([], 10, [], id="empty"),
        pytest.param([(0, 10), (5, 20)], 0, [(0, 20)], id="overlapping"),
        pytest.param([(0, 10), (10, 20)], 0, [(0, 20)], id="adjacent"),
        pytest.param([(0, 30), (5, 10)], 0, [(0, 30)], id="contained"),
        pytest.param([(30, 40), (0, 10)], 0, [(0, 10), (30, 40)], id="unsorted-input"),
        pytest.param([(0, 10), (19, 30)], 10, [(0, 30)], id="gap-under-limit-merged"),
        pytest.param([(0, 10), (20, 30)], 10, [(0, 10), (20, 30)], id="gap-at-limit-kept"),
        pytest.param([(0, 10), (15, 20), (28, 40)], 10, [(0, 40)], id="chain"),
    ],
)
def test_merge_intervals(intervals: list, gap_s: float, expected: list) -> None:
    assert spans(merge_intervals(ivs(*intervals), gap_s)) == expected


def test_drop_short_keeps_exact_minimum() -> None:
    assert spans(drop_short(ivs((0, 19), (30, 50), (60, 100)), 20)) == [(30, 50), (60, 100)]


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        pytest.param([], [(0, 10)], [], id="empty"),
        pytest.param([(0, 10)], [(5, 20)], [(5, 10)], id="overlap"),
        pytest.param([(0, 10)], [(10, 20)], [], id="touching-is-empty"),
        pytest.param([(0, 100)], [(10, 20), (30, 40)], [(10, 20), (30, 40)], id="one-covers-many"),
        pytest.param([(0, 15), (25, 50)], [(10, 30)], [(10, 15), (25, 30)], id="straddle"),
        pytest.param([(0, 10), (5, 15)], [(0, 20)], [(0, 15)], id="overlapping-input-normalised"),
    ],
)
def test_intersect(a: list, b: list, expected: list) -> None:
    assert spans(intersect(ivs(*a), ivs(*b))) == expected
    assert spans(intersect(ivs(*b), ivs(*a))) == expected


# ---------------------------------------------------------------- service sessions


@pytest.mark.parametrize(
    ("spot", "staff", "expected"),
    [
        pytest.param("", "", [], id="no-samples"),
        pytest.param("1*60", "1*60", [(0, 60)], id="one-session"),
        pytest.param("1*60", "0*60", [], id="staff-absent-citizen-seated"),
        pytest.param("1*60", ".*60", [], id="staff-camera-offline"),
        pytest.param("0*60", "1*60", [], id="officer-alone"),
        pytest.param("0*10 1*30 0*20", "1*60", [(10, 40)], id="starts-when-citizen-sits"),
        pytest.param("1*30 0*5 1*30", "1*65", [(0, 65)], id="short-citizen-break-merged"),
        pytest.param("1*30 0*30 1*30", "1*90", [(0, 30), (60, 90)], id="long-break-splits"),
        pytest.param("1*30 0*10 1*30", "1*70", [(0, 30), (40, 70)], id="break-of-exactly-merge-gap-splits"),
        pytest.param("1*60", "1*25 0*5 1*30", [(0, 60)], id="officer-turns-away-briefly"),
        pytest.param("1*15 0*30 1*40", "1*85", [(45, 85)], id="short-session-dropped"),
        pytest.param("1*10 0*5 1*15", "1*30", [(0, 30)], id="two-short-pieces-merge-past-minimum"),
        pytest.param("1*30 .*60 1*30", "1*30 .*60 1*30", [(0, 30), (90, 120)], id="offline-gap-splits"),
        pytest.param("1*30 .*3 1*30", "1*63", [(0, 63)], id="dropped-seconds-bridged"),
        pytest.param("0*10 1*30 0*60", "0*20 1*80", [(20, 40)], id="overlap-only"),
        # observation began during a service: the officer, found only later, was there
        pytest.param("1*40 0*60", "0*20 1*80", [(0, 40)], id="officer-found-late-citizen-from-the-start"),
        pytest.param("1*40 0*60", "0*50 1*50", [(0, 40)], id="officer-found-after-the-citizen-left"),
        pytest.param(".*2 1*40 0*60", ".*2 0*20 1*80", [(2, 42)], id="from-the-first-sample"),
        pytest.param("0*10 1*40 0*50", "0*60 1*40", [], id="citizen-sat-down-after-the-start"),
        pytest.param("1*40 0*60", "1*25 0*75", [(0, 25)], id="officer-seen-first-then-left"),
    ],
)
def test_service_sessions(spot: str, staff: str, expected: list) -> None:
    assert spans(service_sessions(seq(spot), seq(staff))) == expected


@pytest.mark.parametrize(
    ("spot", "staff", "joined", "apart"),
    [
        pytest.param("1*30 .*20 1*30", "1*30 .*20 1*30", [(0, 80)], [(0, 30), (50, 80)], id="camera-reconnects"),
        pytest.param("1*30 .*20 1*30", "1*80", [(0, 80)], [(0, 30), (50, 80)], id="spot-camera-blind-staff-seen"),
        pytest.param("1*30 .*40 1*30", "1*30 .*40 1*30", [(0, 30), (70, 100)], [(0, 30), (70, 100)], id="too-long-blind"),
        pytest.param("1*30 .*8 0*4 .*8 1*30", "1*80", [(0, 30), (50, 80)], [(0, 30), (50, 80)], id="spot-seen-empty-between"),
        pytest.param("1*30 .*20 1*30", "1*32 0*16 1*32", [(0, 30), (50, 80)], [(0, 30), (50, 80)], id="clerk-seen-away-between"),
    ],
)
def test_a_session_broken_only_by_unobserved_seconds_is_one(spot: str, staff: str, joined: list, apart: list) -> None:
    """A camera reconnecting or a worker restarting mid-service: up to blind_join_s without either zone
    seen empty, the service went on (one served, not two)."""
    p = AnalyticsParams()
    assert spans(service_sessions(seq(spot), seq(staff), blind_join_s=p.blind_join_s)) == joined
    assert spans(service_sessions(seq(spot), seq(staff))) == apart
    assert session_starts(seq(spot), seq(staff)) == [a for a, _ in joined]


@pytest.mark.parametrize(
    ("spot", "staff", "hidden", "sessions", "absent"),
    [
        # an officer behind a monitor, never found: two citizens served, one after the other
        pytest.param("0*20 1*60 0*40 1*80 0*100", "0*300", True, [(20, 80), (120, 200)], [], id="never-seen-two-served"),
        pytest.param("0*20 1*60 0*220", ".*10 0*290", True, [(20, 80)], [], id="seat-unobserved-at-first"),
        # nobody stayed at the counter: an empty seat, not a hidden one
        pytest.param("0*300", "0*300", False, [], [(0, 300)], id="nobody-at-the-spot"),
        pytest.param("0*100 1*15 0*185", "0*300", False, [], [(0, 300)], id="a-stay-too-short"),
        # seen once: the seat is in view, and stays without the officer are not services
        pytest.param("0*20 1*60 0*220", "0*200 1*30 0*70", False, [], [(0, 200), (230, 300)], id="officer-seen-once"),
        pytest.param("1*300", "", False, [], [], id="seat-without-samples"),
    ],
)
def test_a_staff_seat_hidden_from_the_camera(spot: str, staff: str, hidden: bool, sessions: list, absent: list) -> None:
    """A staff seat never seen occupied while a citizen stayed at the spot at least hidden_staff_s: the officer is
    hidden from the camera, the sessions are the spot's stays, and the seat's emptiness gives no absence."""
    p = AnalyticsParams()
    assert staff_hidden(seq(spot), seq(staff), p.hidden_staff_s) is hidden
    got = service_sessions(seq(spot), seq(staff), p.min_session_s, p.merge_gap_s, p.max_gap_s,
                           hidden_staff_s=p.hidden_staff_s)
    assert spans(got) == sessions
    assert session_starts(seq(spot), seq(staff), p) == [a for a, _ in sessions]
    assert spans(absences(seq(staff), [Interval(0, 300)], 60, 5, seq(spot), p.hidden_staff_s)) == absent
    if hidden:  # the rule off: the seat is taken as empty, nobody is served and the officer is absent
        assert service_sessions(seq(spot), seq(staff), p.min_session_s, p.merge_gap_s, p.max_gap_s) == []
        assert absences(seq(staff), [Interval(0, 300)], 60, 5, seq(spot)) != []


def test_service_sessions_parameters() -> None:
    spot, staff = seq("1*10 0*30 1*10"), seq("1*50")
    assert spans(service_sessions(spot, staff, min_s=5, merge_gap_s=10)) == [(0, 10), (40, 50)]
    assert spans(service_sessions(spot, staff, min_s=5, merge_gap_s=31)) == [(0, 50)]


# ---------------------------------------------------------------- absences


OPEN = [Interval(100, 1000)]


@pytest.mark.parametrize(
    ("staff", "periods", "expected"),
    [
        pytest.param("", OPEN, [], id="no-samples"),
        pytest.param("1*1100", OPEN, [], id="always-present"),
        pytest.param("1*200 0*120 1*780", OPEN, [(200, 320)], id="two-minute-absence"),
        pytest.param("1*200 0*59 1*841", OPEN, [], id="under-a-minute-ignored"),
        pytest.param("1*200 0*60 1*840", OPEN, [(200, 260)], id="exactly-a-minute"),
        pytest.param(
            "1*200 0*100 .*400 0*100 1*300", OPEN, [(200, 300), (700, 800)], id="offline-gap-not-absence"
        ),
        pytest.param("1*200 .*700 1*200", OPEN, [], id="camera-offline-all-day"),
        pytest.param("0*190 1*910", OPEN, [(100, 190)], id="clipped-to-opening"),
        pytest.param("1*970 0*130", OPEN, [], id="left-30s-before-closing"),
        pytest.param("0*1100", [], [], id="closed-day"),
        pytest.param(
            "1*300 0*400 1*400", ivs((100, 400), (600, 1000)), [(300, 400), (600, 700)], id="split-by-lunch-break"
        ),
    ],
)
def test_absences(staff: str, periods: list[Interval], expected: list) -> None:
    assert spans(absences(seq(staff), periods)) == expected


@pytest.mark.parametrize(
    ("spot", "staff", "expected"),
    [
        # a citizen served from the start while the officer is not yet found: not absent then
        pytest.param("1*100 0*200", "0*200 1*100", [(100, 200)], id="serving-then-unseen"),
        pytest.param("1*100 0*200", "0*90 1*210", [], id="found-during-the-service"),
        pytest.param("0*10 1*90 0*200", "0*150 1*150", [(0, 150)], id="citizen-came-later"),
        pytest.param("0*300", "0*150 1*150", [(0, 150)], id="nobody-at-the-spot"),
        pytest.param("1*100 0*200", "1*20 0*130 1*150", [(20, 150)], id="officer-seen-first"),
    ],
)
def test_absences_while_serving_unseen(spot: str, staff: str, expected: list) -> None:
    assert spans(absences(seq(staff), [Interval(0, 300)], 60, 5, seq(spot))) == expected
    assert spans(absences(seq(staff), [Interval(0, 300)], 60, 5)) == spans(absences(seq(staff), [Interval(0, 300)], 60))


# ---------------------------------------------------------------- queue, arrivals, waits


def test_queue_stats() -> None:
    q = queue([0, 1, 2, 3, 4, 2])
    assert queue_stats(q) == QueueStats(mean=2.0, max=4.0, samples=6)
    assert queue_stats(q, Interval(3, 5)) == QueueStats(mean=3.5, max=4.0, samples=2)
    assert queue_stats(ZoneSamples.empty()) == QueueStats(0.0, 0.0, 0)


def fitted_arrivals(queue: ZoneSamples, starts: Iterable[float], miss_weight: float = 1.0) -> list[float]:
    """Arrivals from the monotone fit of (waiting count + service starts so far): one per unit rise.

    Everyone who ever joined the queue is either still in it or has been served, so the waiting
    count plus the starts so far never decreases, except for the detector's dips (a sitter missed
    for seconds) and bumps (someone crossing the area, a citizen stepping from the counter). Its
    least-absolute-deviation non-decreasing fit ignores both: for each level k it starts where
    the fewest seconds disagree with "level >= k from here on", a second below k from there on
    weighing miss_weight against one at or above k before (AnalyticsParams.miss_weight). The level
    at the first sample counts as arrivals at that time (people already waiting: their waits are
    lower bounds).

    The reference of analytics.queue_flow, which also finds citizens who left unserved: with
    leave_s infinite both give the same first-in-first-out waits.
    """
    n = len(queue)
    if n == 0:
        return []
    served = np.searchsorted(np.sort(np.asarray(list(starts), np.float64)), queue.t, side="right")
    level = np.floor(np.clip(queue.count.astype(np.float64), 0.0, None) + 0.5).astype(np.int64) + served
    # After the last sample below k, every later start for level k only adds disagreements: the
    # search for level k ends there (one pass over a month of seconds instead of one per level)
    floor_after = np.minimum.accumulate(level[::-1])[::-1]  # the lowest level from each sample on
    out: list[float] = []
    first = 0
    for k in range(1, int(level.max()) + 1):
        # disagreements if level k starts at sample i in first..end (level k-1's start .. just after
        # the last sample < k): samples >= k before i, samples < k from i on (those before `first`
        # add the same to every i)
        end = max(int(np.searchsorted(floor_after, k, side="left")), first)
        at_least = (level[first:end] >= k).astype(np.int64)
        before = np.concatenate(([0], np.cumsum(at_least)))
        after = miss_weight * np.concatenate((np.cumsum((1 - at_least)[::-1])[::-1], [0]))
        i = first + int(np.argmin(before + after))
        if i >= n:
            break
        out.append(float(queue.t[i]))
        first = i
    return out


@pytest.mark.parametrize(
    ("counts", "starts", "expected"),
    [
        pytest.param([], [], [], id="no-samples"),
        pytest.param([0] * 20, [], [], id="empty-room"),
        pytest.param([0] * 10 + [2] * 10, [], [10, 10], id="two-at-once"),
        pytest.param([2] * 10, [], [0, 0], id="already-waiting-at-start"),
        # called at 20: the count falls as the start is counted, so nobody new arrives
        pytest.param([0] * 10 + [1] * 10 + [0] * 20, [20], [10], id="called-is-not-a-new-arrival"),
        pytest.param([0] * 10 + [1] * 10 + [0] * 10 + [1] * 10, [20], [10, 30], id="served-then-another-arrives"),
        # the sitter missed for 6 s (longer than any smoothing) is still the same person
        pytest.param([0] * 10 + [1] * 20 + [0] * 6 + [1] * 20, [], [10], id="dip-is-not-a-leave-and-return"),
        # someone crossing the area for 6 s is not an arrival
        pytest.param([0] * 10 + [1] * 20 + [2] * 6 + [1] * 20, [], [10], id="crossing-is-not-an-arrival"),
        # the citizen leaves the area a few seconds before sitting down at the counter
        pytest.param([0] * 10 + [1] * 20 + [0] * 20, [34], [10], id="walk-to-the-counter"),
        pytest.param([0] * 10 + [0.8] * 10, [], [10], id="estimate-rounded"),
    ],
)
def test_fitted_arrivals(counts: list[float], starts: list[float], expected: list[float]) -> None:
    assert fitted_arrivals(queue(counts), starts) == expected
    assert fitted_arrivals(queue(counts), starts, AnalyticsParams().miss_weight) == expected


@pytest.mark.parametrize(("miss_weight", "expected"), [(1.0, [58.0]), (0.5, [0.0])])
def test_a_long_miss_after_an_arrival_keeps_the_arrival_with_misses_weighing_less(
    miss_weight: float, expected: list[float],
) -> None:
    counts = [1] * 27 + [0] * 31 + [1] * 40  # counted for 27 s, missed for 31 s, found again
    assert fitted_arrivals(queue(counts), [], miss_weight) == expected


def test_a_crossing_longer_than_half_the_time_after_it_becomes_an_arrival_only_with_misses_weighing_less() -> None:
    counts = [0] * 10 + [1] * 12 + [0] * 20  # someone in the area for 12 s, then nobody for 20
    assert fitted_arrivals(queue(counts), [], 1.0) == []
    assert fitted_arrivals(queue(counts), [], 0.5) == [10.0]


def _fit_by_definition(counts: np.ndarray, starts: list[float], miss_weight: float = 1.0) -> list[float]:
    """fitted_arrivals spelt out: each level k starts at the first sample i >= the previous level's start
    with the fewest disagreements (samples >= k before i, samples < k from i on weighing miss_weight),
    every i tried."""
    level = [int(np.floor(c + 0.5)) + sum(s <= t for s in starts) for t, c in enumerate(counts)]
    out, first = [], 0
    for k in range(1, max(level, default=0) + 1):
        costs = [sum(v >= k for v in level[first:i]) + miss_weight * sum(v < k for v in level[i:])
                 for i in range(first, len(level) + 1)]
        i = first + costs.index(min(costs))
        if i >= len(level):
            break
        out.append(float(i))
        first = i
    return out


def test_fitted_arrivals_matches_its_definition() -> None:
    # the search for each level stops after the last sample below it (one pass over a month of seconds)
    rng = np.random.default_rng(7)
    for _ in range(300):
        n = int(rng.integers(0, 60))
        counts = np.clip(np.cumsum(rng.integers(-1, 2, n)) + rng.integers(-1, 2, n), 0, None).astype(np.float32)
        starts = sorted(rng.uniform(0, max(n, 1), int(rng.integers(0, 5))).tolist())
        for w in (1.0, 0.5):
            assert fitted_arrivals(queue(list(counts)), starts, w) == _fit_by_definition(counts, starts, w), (counts, starts, w)


def test_queue_flow_without_leaving_gives_the_monotone_fits_waits() -> None:
    # nobody leaves (leave_s infinite): the same first-in-first-out waits as fitted_arrivals, starts
    # inside the samples (fitted_arrivals dates a walk-in at the sample of its start, queue_flow at the start)
    rng = np.random.default_rng(11)
    for _ in range(400):
        n = int(rng.integers(2, 40))
        counts = np.clip(np.cumsum(rng.integers(-1, 2, n)) + rng.integers(-1, 2, n), 0, None).astype(np.float32)
        starts = sorted(float(s) for s in rng.choice(np.arange(1, n), int(rng.integers(0, min(5, n - 1) + 1)), replace=False))
        for w in (1.0, 0.5):
            flow = queue_flow(queue(list(counts)), starts, w)
            assert flow.left == []
            assert fifo_waits(flow.arrivals, starts) == fifo_waits(fitted_arrivals(queue(list(counts)), starts, w), starts), \
                (counts, starts, w)


def _flow_cost(counts: list[int], starts: list[float], q: list[int], miss_weight: float, leave: float) -> float:
    """The cost queue_flow minimises, of a path q (people waiting at each sample, t = 0, 1, ...)."""
    total = 0.0
    for i, (y, level) in enumerate(zip(counts, q, strict=True)):
        total += (y - level) if y > level else miss_weight * (level - y)
        if i:
            k = sum(i - 1 < s <= i for s in starts)
            net = level - max(0, q[i - 1] - k)
            if net < 0:
                total += leave * -net
    return total


def test_queue_flow_finds_the_least_cost_path() -> None:
    # every path of up to 6 samples and 4 levels tried: none costs less than queue_flow's
    rng = np.random.default_rng(5)
    for _ in range(300):
        n = int(rng.integers(2, 7))
        counts = [int(c) for c in rng.integers(0, 4, n)]
        starts = sorted(float(x) for x in rng.choice(np.arange(1, n), int(rng.integers(0, min(3, n - 1) + 1)), replace=False))
        w, leave_s = float(rng.choice([1.0, 0.5])), float(rng.choice([1.0, 2.0, 3.0, 5.0, math.inf]))
        leave = w * leave_s
        flow = queue_flow(queue(counts), starts, w, leave_s)
        got = [sum(a <= t for a in flow.arrivals) - sum(s <= t for s in starts) - sum(x <= t for x in flow.left)
               for t in range(n)]
        best = min(_flow_cost(counts, starts, list(path), w, leave) for path in itertools.product(range(4), repeat=n))
        assert _flow_cost(counts, starts, got, w, leave) == pytest.approx(best), (counts, starts, w, leave_s, got)


@pytest.mark.parametrize(("leave_s", "left", "waits"), [(120.0, [150.0], [5.0]), (float("inf"), [], [355.0])])
def test_a_citizen_gone_for_longer_than_leave_s_without_service_left(
    leave_s: float, left: list[float], waits: list[float],
) -> None:
    # one waits 150 s and goes; 200 s later another sits down and is served 5 s after
    counts = [1] * 150 + [0] * 200 + [1] * 5 + [0] * 20
    flow = queue_flow(queue(counts), [355.0], 0.5, leave_s)
    assert flow.left == left
    assert [w for _, _, w in fifo_waits(flow.arrivals, [355.0], flow.left)] == waits


def test_a_citizen_missed_for_a_minute_has_not_left() -> None:
    counts = [1] * 40 + [0] * 60 + [1] * 30  # found again after a minute, served at 130 s
    flow = queue_flow(queue(counts), [130.0], 0.5, 120.0)
    assert (flow.arrivals, flow.left) == ([0.0], [])


def test_a_service_start_explains_a_drop() -> None:
    counts = [2] * 30 + [1] * 300  # one of two waiting is called at 30 s: nobody left
    flow = queue_flow(queue(counts), [30.0], 0.5, 60.0)
    assert (flow.arrivals, flow.left) == ([0.0, 0.0], [])


def test_a_start_with_nobody_waiting_is_a_walk_in_at_the_start() -> None:
    flow = queue_flow(queue([0] * 100), [40.5], 0.5, 120.0)
    assert (flow.arrivals, flow.left) == ([40.5], [])


@pytest.mark.parametrize(
    ("arrive", "left", "starts", "expected", "waiting"),
    [
        pytest.param([0, 10, 20], [30], [40, 50], [(0, 40, 40), (20, 50, 30)], [], id="the-middle-one-left"),
        pytest.param([0, 10], [30], [40, 50], [(10, 40, 30), (50, 50, 0)], [], id="of-two-the-first"),
        pytest.param([0], [5], [40], [(40, 40, 0)], [], id="the-only-one"),
        pytest.param([0, 10], [40], [40], [(0, 40, 40)], [], id="a-start-goes-before-a-departure-in-its-second"),
        pytest.param([0, 50], [30], [60], [(50, 60, 10)], [], id="only-those-arrived-by-then"),
        pytest.param([], [30], [60], [(60, 60, 0)], [], id="nobody-to-take"),
        pytest.param([0, 10, 20, 30], [25], [40], [(0, 40, 40)], [20, 30], id="still-waiting"),
    ],
)
def test_fifo_waits_with_departures(arrive: list[float], left: list[float], starts: list[float], expected: list,
                                    waiting: list[float]) -> None:
    assert fifo_waits(arrive, starts, left) == expected
    assert still_waiting(arrive, starts, left) == waiting


def test_a_counters_waits_are_matched_over_every_counter_its_waiting_area_serves() -> None:
    # citizens sit down at 0, 100 and 150 s; counter B calls at 280 and 350 s, counter A at 300 s
    t = np.arange(0, 600, dtype=np.int64)
    count = ((t >= 0).astype(np.float32) + (t >= 100) + (t >= 150) - (t >= 280) - (t >= 300) - (t >= 350))
    q = ZoneSamples(t, count > 0, count)
    a_spot = ZoneSamples(t, t >= 300, (t >= 300).astype(np.float32))
    staff = ZoneSamples(t, np.ones(t.size, bool), np.ones(t.size, np.float32))
    periods = [Interval(0.0, 600.0)]
    assert counter_stats(a_spot, staff, q, periods).waits == [300.0]  # alone, A takes the first arrival
    assert counter_stats(a_spot, staff, q, periods, other_starts=[280.0, 350.0]).waits == [200.0]


def _walking(seconds: list[int]) -> ZoneSamples:
    t = np.arange(0, 200, dtype=np.int64)
    on = np.isin(t, seconds)
    return ZoneSamples(t, on, on.astype(np.float32))


@pytest.mark.parametrize(
    ("arrive", "walking", "expected"),
    [
        pytest.param([100.0], list(range(88, 101)), [88.0], id="dated-back-to-the-door"),
        pytest.param([100.0], list(range(88, 95)) + list(range(97, 101)), [88.0], id="pause-at-the-ticket-machine"),
        pytest.param([100.0], list(range(88, 94)) + list(range(98, 101)), [98.0], id="a-long-stop-ends-the-walk"),
        pytest.param([100.0], list(range(50, 101)), [70.0], id="at-most-walk-in-max-s"),
        pytest.param([100.0], list(range(80, 90)), [100.0], id="walk-ended-long-before"),
        pytest.param([100.0, 100.0], list(range(88, 101)), [88.0, 89.0], id="two-walkers-keep-their-order"),
        pytest.param([60.0, 100.0], list(range(50, 101)), [50.0, 70.0], id="busy-hall"),
        pytest.param([100.5], [], [100.5], id="nobody-walking"),
    ],
)
def test_walked_in(arrive: list[float], walking: list[int], expected: list[float]) -> None:
    assert walked_in(arrive, _walking(walking), max_s=30, pause_s=2) == expected


@pytest.mark.parametrize(
    ("arrive", "walking", "expected"),
    [
        pytest.param([100.0], list(range(70, 90)), [70.0], id="found-seated-11-s-after-the-walk"),
        pytest.param([100.0], list(range(60, 79)), [100.0], id="walk-ended-before-the-lag"),
        pytest.param([100.0], list(range(60, 90)), [60.0], id="walk-of-30-s-counted-from-its-end"),
        pytest.param([100.0], list(range(88, 101)), [88.0], id="walk-up-to-the-rise-as-before"),
        pytest.param([85.0, 100.0], list(range(70, 85)), [70.0, 71.0], id="never-before-the-previous-arrival"),
    ],
)
def test_walked_in_after_the_detector_delay(arrive: list[float], walking: list[int], expected: list[float]) -> None:
    # the waiting count rises once the detector has found the seated citizen, up to lag_s after their walk
    assert walked_in(arrive, _walking(walking), max_s=30, pause_s=2, lag_s=20) == expected


def _watched_walking(seconds: list[int], unobserved: range = range(0)) -> ZoneSamples:
    t = np.array([s for s in range(0, 200) if s not in unobserved], np.int64)
    on = np.isin(t, seconds)
    return ZoneSamples(t, on, on.astype(np.float32))


@pytest.mark.parametrize(
    ("arrive", "walking", "unobserved", "expected"),
    [
        pytest.param([150.0], list(range(70, 90)), range(0), [70.0], id="found-60-s-after-the-walk-the-hall-still"),
        pytest.param([150.0], list(range(70, 90)), range(120, 125), [150.0], id="seconds-unseen-in-between"),
        pytest.param([150.0], list(range(10, 25)), range(0), [150.0], id="walk-beyond-quiet-s"),
        pytest.param([150.0], list(range(70, 90)) + [100], range(0), [100.0], id="the-last-walk-before-it"),
        pytest.param([100.0, 150.0], list(range(70, 90)), range(0), [70.0, 71.0], id="two-came-with-one-walk"),
    ],
)
def test_walked_in_with_the_hall_still_since(arrive: list[float], walking: list[int], unobserved: range,
                                             expected: list[float]) -> None:
    # beyond lag_s, an arrival takes the last walk only if every second since it was seen with nobody walking
    found = walked_in(arrive, _watched_walking(walking, unobserved), max_s=30, pause_s=2, lag_s=30, quiet_s=120)
    assert found == expected


def test_a_citizen_found_seated_a_minute_late_in_a_still_hall_keeps_their_walk() -> None:
    """A citizen walks in at 40-60 s; the detector finds them seated only at 110 s (a noisy picture), and nobody
    walks in between. Their wait starts at their walk (the default parameters), not when they were found."""
    t = np.arange(0, 400, dtype=np.int64)
    count = ((t >= 110) & (t < 300)).astype(np.float32)
    queue = ZoneSamples(t, count > 0, count)
    flow = walked_in_flow(queue, [300.0], _walking(list(range(40, 61))), AnalyticsParams())
    assert [(a, s) for a, s, _ in fifo_waits(flow.arrivals, [300.0], flow.left)] == [(40.0, 300.0)]


def test_a_citizen_found_a_seated_search_cycle_after_their_walk_keeps_it() -> None:
    """One citizen walks in at 20-35 s and is counted at 37 s. The next walks in at 60-79 s and sits
    down just after their seated-size tile ran: they are counted when it comes round again, 26 s after
    their walk ended (106 s). Both waits start at their walks (the default parameters)."""
    t = np.arange(0, 400, dtype=np.int64)
    count = ((t >= 37).astype(np.float32) + (t >= 106) - (t >= 300) - (t >= 350)).clip(0)
    queue = ZoneSamples(t, count > 0, count)
    walking = _walking(list(range(20, 36)) + list(range(60, 80)))
    flow = walked_in_flow(queue, [300.0, 350.0], walking, AnalyticsParams())
    waits = fifo_waits(flow.arrivals, [300.0, 350.0], flow.left)
    assert [(a, s) for a, s, _ in waits] == [(20.0, 300.0), (60.0, 350.0)]


@pytest.mark.parametrize(
    ("arrive", "starts", "expected"),
    [
        pytest.param([], [], [], id="nothing"),
        pytest.param([10, 20, 30], [], [], id="no-starts"),
        pytest.param([], [50, 90], [(50, 50, 0), (90, 90, 0)], id="walk-ins"),
        pytest.param([0, 10], [100, 200], [(0, 100, 100), (10, 200, 190)], id="first-come-first-served"),
        pytest.param([0, 10, 20, 30], [100, 200], [(0, 100, 100), (10, 200, 190)], id="more-arrivals-than-starts"),
        pytest.param([150], [100, 200], [(100, 100, 0), (150, 200, 50)], id="start-before-any-arrival"),
        pytest.param([100], [100], [(100, 100, 0)], id="arrival-at-start"),
        pytest.param([10, 0], [200, 100], [(0, 100, 100), (10, 200, 190)], id="unsorted-input"),
    ],
)
def test_fifo_waits(arrive: list[float], starts: list[float], expected: list) -> None:
    assert fifo_waits(arrive, starts) == expected


@pytest.mark.parametrize(
    ("arrive", "starts", "expected", "walked_2"),
    [
        # two people found waiting 2-3 s into the video (lower bounds), then two seen arriving
        pytest.param([2, 3, 100, 130], [60, 90, 160, 200], [60, 70], [58, 60, 70], id="lower-bounds-left-out"),
        pytest.param([2, 3], [60, 90], [58, 87], [58], id="only-lower-bounds"),
        pytest.param([11, 30], [60, 90], [49, 60], [49, 60], id="after-the-grace"),
        pytest.param([], [60], [0], [0], id="walked-straight-in"),
    ],
)
def test_seen_waits(arrive: list[float], starts: list[float], expected: list, walked_2: list) -> None:
    def seen(walked: set[float]) -> list[float]:
        matched = fifo_waits(arrive, starts)
        return seen_or_all([w for _, _, w in matched], wait_bounds(matched, first_t=0.0, grace_s=10.0, walked=walked))

    assert seen(set()) == expected
    # the one at 2 s seen walking in (QueueFlow.walked): a whole wait, though in the first seconds
    assert seen({2.0}) == walked_2


@pytest.mark.parametrize(
    ("walking", "rise", "arrival", "walked"),
    [
        # the hall quiet from the first second, then a citizen walks in at 8 s and is counted at 20 s
        pytest.param(list(range(8, 16)), 20.0, 8.0, True, id="walked-in-after-a-quiet-spell"),
        # someone walking from the first seconds: whoever is counted then may have been there all along
        pytest.param(list(range(1, 16)), 20.0, 1.0, False, id="walking-when-observation-began"),
        pytest.param(list(range(2, 16)), 20.0, 2.0, False, id="quiet-spell-not-seen-whole"),
        pytest.param(list(range(0, 60)), 62.0, 30.0, False, id="walk-longer-than-walk-in-max-s"),
        pytest.param([], 20.0, 20.0, False, id="nobody-walking"),
    ],
)
def test_an_arrival_seen_walking_in(walking: list[int], rise: float, arrival: float, walked: bool) -> None:
    """QueueFlow.walked: the arrivals whose walk in began after an observed quiet spell (seen whole)."""
    t = np.arange(0, 200, dtype=np.int64)
    count = ((t >= rise) & (t < 150)).astype(np.float32)  # served from 150 s
    flow = walked_in_flow(ZoneSamples(t, count > 0, count), [150.0], _walking(walking), AnalyticsParams())
    assert flow.arrivals == [arrival] and (arrival in flow.walked) is walked


@pytest.mark.parametrize(
    ("mean_queue", "n_starts", "window_s", "expected"),
    [
        pytest.param(3.0, 30, 3600, 360.0, id="queue-3-start-every-120s"),
        pytest.param(0.0, 10, 3600, 0.0, id="no-queue"),
        pytest.param(2.0, 0, 3600, None, id="no-starts"),
        pytest.param(2.0, 5, 0, None, id="no-time"),
    ],
)
def test_littles_law_wait(mean_queue: float, n_starts: int, window_s: float, expected: float | None) -> None:
    assert littles_law_wait(mean_queue, n_starts, window_s) == expected


@pytest.mark.parametrize(
    ("sessions", "periods", "expected"),
    [
        pytest.param([], [(0, 100)], 0.0, id="idle"),
        pytest.param([(0, 50)], [(0, 100)], 0.5, id="half"),
        pytest.param([(0, 100)], [(0, 100)], 1.0, id="full"),
        pytest.param([(-50, 150)], [(0, 100)], 1.0, id="clipped-to-open-time"),
        pytest.param([(0, 30), (20, 50)], [(0, 100)], 0.5, id="overlapping-sessions-counted-once"),
        pytest.param([(40, 60)], [(0, 50), (60, 100)], 10 / 90, id="lunch-break-not-open"),
        pytest.param([(0, 10)], [], 0.0, id="closed"),
    ],
)
def test_utilisation(sessions: list, periods: list, expected: float) -> None:
    assert utilisation(ivs(*sessions), ivs(*periods)) == pytest.approx(expected)


# ---------------------------------------------------------------- counter_stats


def test_counter_stats_empty_inputs() -> None:
    none = ZoneSamples.empty()
    stats = counter_stats(none, none, none, [])
    assert stats.served == 0 and stats.sessions == [] and stats.service_times == []
    assert stats.mean_service_s is None and stats.median_service_s is None and stats.p90_service_s is None
    assert stats.waits == [] and stats.mean_wait_s is None and stats.max_wait_s is None
    assert stats.littles_wait_s is None
    assert (stats.mean_queue, stats.max_queue, stats.absence_s, stats.utilisation, stats.open_s) == (0, 0, 0, 0, 0)
    assert counter_stats(none, none, None, OPEN).open_s == 900


def test_counter_stats_steady_queue_littles_law() -> None:
    # Queue of 3 all hour; a citizen sits every 120 s for 100 s; the officer never leaves.
    hour = [Interval(0, 3600)]
    spot = seq(" ".join(["1*100 0*20"] * 30))
    staff = seq("1*3600")
    q = queue([3.0] * 3600)
    stats = counter_stats(spot, staff, q, hour)
    assert stats.served == 30
    assert stats.service_times == [100.0] * 30
    assert (stats.mean_service_s, stats.median_service_s, stats.p90_service_s) == (100.0, 100.0, 100.0)
    assert stats.littles_wait_s == pytest.approx(360.0)
    assert (stats.mean_queue, stats.max_queue) == (3.0, 3.0)
    assert stats.utilisation == pytest.approx(3000 / 3600)
    assert stats.absences == [] and stats.absence_s == 0


def test_counter_stats_fifo_waits_and_absence() -> None:
    # Two citizens arrive at 10 s and 20 s; the officer is away 60..160; they are served from 200 and 300.
    periods = [Interval(0, 400)]
    q = queue([0] * 10 + [1] * 10 + [2] * 180 + [1] * 100 + [0] * 100)
    spot = seq("0*200 1*60 0*40 1*60 0*40")
    staff = seq("1*60 0*100 1*240")
    stats = counter_stats(spot, staff, q, periods)
    assert spans(stats.sessions) == [(200, 260), (300, 360)]
    assert stats.waits == [190.0, 280.0]
    assert (stats.mean_wait_s, stats.max_wait_s) == (235.0, 280.0)
    assert spans(stats.absences) == [(60, 160)] and stats.absence_s == 100
    assert stats.p90_service_s == 60.0


def test_counter_stats_leave_out_the_wait_of_someone_waiting_at_the_first_sample() -> None:
    # One citizen is there at the first sample (waiting from before it), one arrives at 100 s; they are
    # served from 200 and 300 s. The first wait (200 s) is only a lower bound; the mean is the second's.
    periods = [Interval(0, 400)]
    q = queue([1] * 100 + [2] * 100 + [1] * 100 + [0] * 100)
    spot = seq("0*200 1*60 0*40 1*60 0*40")
    staff = seq("1*400")
    stats = counter_stats(spot, staff, q, periods)
    assert stats.served == 2 and stats.waits == [200.0] and stats.mean_wait_s == 200.0
    # an hour holding only the first service has only the bound: it is all there is
    assert counter_stats(spot, staff, q, periods, window=Interval(0, 250)).waits == [200.0]
    assert shared_waits({"own": [200.0, 300.0]}, q, None, AnalyticsParams())[2] == {"own": [True, False]}


def test_counter_stats_without_queue_zone_has_no_waits() -> None:
    stats = counter_stats(seq("1*60"), seq("1*60"), None, [Interval(0, 60)])
    assert stats.served == 1 and stats.waits == [] and stats.mean_wait_s is None
    assert stats.littles_wait_s is None and stats.utilisation == 1.0


def test_session_spanning_midnight_belongs_to_first_day() -> None:
    day1, day2 = date(2024, 6, 3), date(2024, 6, 4)
    t0 = local(day1, 23, 0)
    # Samples from 23:00 to 01:00; a 20-minute session from 23:50 to 00:10.
    spot = seq("0*3000 1*1200 0*3000", t0)
    staff = seq("1*7200", t0)
    whole = [Interval(t0, t0 + 7200)]  # a 24-hour office: open the whole time
    first = counter_stats(spot, staff, None, whole, window=day_window(day1))
    second = counter_stats(spot, staff, None, whole, window=day_window(day2))
    assert first.served == 1 and first.service_times == [1200.0]
    assert spans(first.sessions) == [(local(day1, 23, 50), local(day2, 0, 10))]
    assert second.served == 0 and second.sessions == []
    # Utilisation is time-based: each day gets the service time inside it.
    assert first.utilisation == pytest.approx(600 / 3600)
    assert second.utilisation == pytest.approx(600 / 3600)


def test_empty_day_between_busy_days() -> None:
    day = date(2024, 6, 8)  # Saturday: closed, no samples recorded
    stats = counter_stats(
        ZoneSamples.empty(), ZoneSamples.empty(), ZoneSamples.empty(),
        OpeningHours().spans(day, VN), window=day_window(day),
    )
    assert stats.served == 0 and stats.open_s == 0 and stats.utilisation == 0.0 and stats.littles_wait_s is None


def test_counter_day_counts_session_in_starting_hour() -> None:
    day = date(2024, 6, 3)
    periods = OpeningHours().spans(day, VN)  # 07:30-11:30, 13:30-17:00
    t0 = local(day, 7, 0)
    # 07:00-12:00 observed; the officer sits all morning; sessions 09:55-10:10 and 10:20-10:30.
    spot = seq(f"0*{175 * 60} 1*{15 * 60} 0*{10 * 60} 1*{10 * 60} 0*{90 * 60}", t0)
    staff = seq(f"1*{300 * 60}", t0)
    whole, hours = counter_day(spot, staff, None, periods, day_window(day), VN)
    assert whole == counter_stats(spot, staff, None, periods, window=day_window(day))  # the day's own figures
    assert [h.hour for h in hours] == list(range(24))
    assert [h.start for h in hours] == [local(day, hh) for hh in range(24)]
    by_hour = {h.hour: h.stats for h in hours}
    assert by_hour[9].served == 1 and by_hour[9].service_times == [900.0]
    assert by_hour[10].served == 1 and by_hour[10].service_times == [600.0]
    assert sum(h.stats.served for h in hours) == 2
    assert by_hour[7].open_s == 1800 and by_hour[12].open_s == 0 and by_hour[3].open_s == 0
    assert by_hour[9].utilisation == pytest.approx(300 / 3600)
    assert by_hour[10].utilisation == pytest.approx(1200 / 3600)
    # Outside the observed morning nothing is reported, and nothing is counted as absence.
    assert all(h.stats.absence_s == 0 for h in hours)


def test_counter_day_counts_a_service_the_camera_lost_for_seconds_once() -> None:
    """The day's report (counter_day, as the live worker's samples give it): a 10-minute service with the
    camera reconnecting for 20 s in the middle is one served, of 10 minutes; blind for 2 minutes, two."""
    day = date(2024, 6, 3)
    periods = OpeningHours().spans(day, VN)
    t0 = local(day, 9, 0)
    for blind, served, times in ((20, 1, [600.0]), (120, 2, [290.0, 190.0])):
        spot = seq(f"0*60 1*290 .*{blind} 1*{310 - blind} 0*60", t0)
        staff = seq(f"1*350 .*{blind} 1*{370 - blind}", t0)
        whole, _ = counter_day(spot, staff, None, periods, day_window(day), VN)
        assert whole.served == served and whole.service_times == times


def test_counter_day_absence_in_starting_hour() -> None:
    day = date(2024, 6, 3)
    periods = OpeningHours().spans(day, VN)
    t0 = local(day, 8, 0)
    staff = seq(f"1*{50 * 60} 0*{20 * 60} 1*{60 * 60}", t0)  # away 08:50-09:10
    hours = {h.hour: h.stats for h in counter_day(ZoneSamples.empty(), staff, None, periods, day_window(day), VN)[1]}
    assert hours[8].absence_s == 1200 and hours[9].absence_s == 0


def test_a_month_of_seconds_runs() -> None:
    # 30 days x 86 400 per-second samples for each zone; exercises the vectorised paths end to end.
    n = 30 * 86_400
    t0 = local(date(2024, 6, 1), 0)
    t = np.arange(t0, t0 + n, dtype=np.int64)
    second_of_day = (t - t0) % 86_400
    staff_on = (second_of_day >= 7 * 3600 + 1800) & (second_of_day < 17 * 3600)
    spot_on = staff_on & ((second_of_day % 600) < 420)  # a 7-minute service every 10 minutes
    rng = np.random.default_rng(0)
    counts = np.where(staff_on, 2 + rng.integers(0, 2, n), 0).astype(np.float32)
    keep = (t - t0) // 3600 % 97 != 5  # a few offline hours
    spot = ZoneSamples(t[keep], spot_on[keep], spot_on[keep].astype(np.float32))
    staff = ZoneSamples(t[keep], staff_on[keep], staff_on[keep].astype(np.float32))
    q = ZoneSamples(t[keep], counts[keep] > 0, counts[keep])
    hours = OpeningHours(days=["mon", "tue", "wed", "thu", "fri", "sat", "sun"])
    periods = [iv for d in range(30) for iv in hours.spans(date(2024, 6, 1) + timedelta(days=d), VN)]
    stats = counter_stats(spot, staff, q, periods, params=AnalyticsParams())
    assert stats.served > 1000
    assert stats.median_service_s == 420.0
    assert 0 < stats.utilisation < 1
    assert stats.littles_wait_s is not None and stats.mean_queue > 0
