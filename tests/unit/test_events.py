"""EventTracker: motion timelines in, start/end updates out, with the clock driven by the test."""

from __future__ import annotations

import pytest

from monitor.detect.events import EventTracker, EventUpdate

T0 = 1_700_000_000.0  # unix-like times; multiples of TICK stay exact in float64
TICK = 0.5  # seconds per detect frame in the timelines below
PARAMS = dict(min_length_s=1.0, merge_gap_s=2.0, max_length_s=10.0)


def run(timeline: str, **params: float) -> list[tuple]:
    """Play a timeline, one char per TICK: '.' still, digit d moving with score d/10, '!' flush.

    Returns the updates as (kind, start, end, peak) with times relative to T0.
    """
    tracker = EventTracker(**{**PARAMS, **params})
    updates: list[EventUpdate] = []
    for i, c in enumerate(timeline):
        now = T0 + i * TICK
        if c == "!":
            updates += tracker.flush(now)
        elif c == ".":
            updates += tracker.update(now, False, 0.0)
        else:
            updates += tracker.update(now, True, int(c) / 10)
    return [(u.kind, u.start - T0, None if u.end is None else u.end - T0, u.peak) for u in updates]


@pytest.mark.parametrize(
    ("timeline", "params", "expected"),
    [
        pytest.param("........", {}, [], id="still"),
        pytest.param("11......", {}, [], id="short-blip-dropped"),
        pytest.param("1.1...", {}, [("start", 0.0, None, 0.1)], id="blip-with-short-gap-reaches-min-length"),
        pytest.param(
            "1119....",
            {},
            [("start", 0.0, None, 0.1), ("end", 0.0, 1.5, 0.9)],
            id="start-at-min-length-end-after-gap",
        ),
        pytest.param(
            "111..191.....",
            {},
            [("start", 0.0, None, 0.1), ("end", 0.0, 3.5, 0.9)],
            id="gap-merged",
        ),
        pytest.param(
            "111....111....",
            {},
            [
                ("start", 0.0, None, 0.1),
                ("end", 0.0, 1.0, 0.1),
                ("start", 3.5, None, 0.1),
                ("end", 3.5, 4.5, 0.1),
            ],
            id="gap-of-merge-gap-splits",
        ),
        pytest.param(
            "1......1......",
            {},
            [],
            id="two-blips-apart-dropped",
        ),
        pytest.param(
            "9" + "1" * 24 + "....",
            {},
            [
                ("start", 0.0, None, 0.9),
                ("end", 0.0, 10.0, 0.9),
                ("start", 10.0, None, 0.1),
                ("end", 10.0, 12.0, 0.1),
            ],
            id="max-length-splits-and-restarts-at-once",
        ),
        pytest.param(
            "1" * 19 + "........",
            {},
            [("start", 0.0, None, 0.1), ("end", 0.0, 10.0, 0.1)],
            id="max-length-reached-in-a-gap-ends-at-now",
        ),
        pytest.param(
            "3.......",
            {"min_length_s": 0.0},
            [("start", 0.0, None, 0.3), ("end", 0.0, 0.0, 0.3)],
            id="min-length-zero",
        ),
        pytest.param(
            "111.11.",
            {"merge_gap_s": 0.0},
            [("start", 0.0, None, 0.1), ("end", 0.0, 1.0, 0.1)],
            id="merge-gap-zero-ends-at-first-still-frame",
        ),
        pytest.param("1111!", {}, [("start", 0.0, None, 0.1), ("end", 0.0, 1.5, 0.1)], id="flush-ends-open-event"),
        pytest.param("1111..!", {}, [("start", 0.0, None, 0.1), ("end", 0.0, 1.5, 0.1)], id="flush-in-gap"),
        pytest.param("11!", {}, [], id="flush-drops-candidate"),
        pytest.param("!...", {}, [], id="flush-when-idle"),
        pytest.param(
            "111!111",
            {},
            [("start", 0.0, None, 0.1), ("end", 0.0, 1.0, 0.1), ("start", 2.0, None, 0.1)],
            id="motion-after-flush-is-a-new-event",
        ),
    ],
)
def test_timeline(timeline: str, params: dict, expected: list[tuple]) -> None:
    assert run(timeline, **params) == expected


def test_active_follows_start_and_end() -> None:
    tracker = EventTracker(**PARAMS)
    seen = []
    for i, moving in enumerate([True, True, True, False, False, False, False]):
        tracker.update(T0 + i * TICK, moving, 0.5 if moving else 0.0)
        seen.append(tracker.active)
    assert seen == [False, False, True, True, True, True, False]


@pytest.mark.parametrize(
    ("frames", "expected"),
    [
        pytest.param(
            [(100.0, True), (100.5, True), (101.0, True), (50.0, True), (50.5, True), (51.0, True)],
            [("start", 100.0, None), ("end", 100.0, 101.0), ("start", 50.0, None)],
            id="jump-back-during-event",
        ),
        pytest.param(
            [(100.0, True), (100.5, True), (99.0, True), (99.5, False)],
            [],
            id="jump-back-during-candidate",
        ),
        pytest.param(
            [(100.0, False), (40.0, True), (40.5, True), (41.0, True)],
            [("start", 40.0, None)],
            id="jump-back-when-idle",
        ),
    ],
)
def test_clock_going_backwards_flushes_and_restarts(frames: list, expected: list) -> None:
    tracker = EventTracker(**PARAMS)
    updates = []
    for now, moving in frames:
        updates += tracker.update(now, moving, 0.2 if moving else 0.0)
    assert [(u.kind, u.start, u.end) for u in updates] == expected


def test_pause_in_frames_is_not_a_gap() -> None:
    """Moving frames either side of a pause with no frames at all (a stall) continue the event."""
    tracker = EventTracker(**PARAMS)
    updates = []
    for now, moving in [(0.0, True), (0.5, True), (1.0, True), (6.0, True), (6.5, False), (8.5, False)]:
        updates += tracker.update(T0 + now, moving, 0.2 if moving else 0.0)
    assert [(u.kind, u.start - T0, None if u.end is None else u.end - T0) for u in updates] == [
        ("start", 0.0, None),
        ("end", 0.0, 6.0),
    ]


@pytest.mark.parametrize(
    "params",
    [
        dict(min_length_s=-1.0, merge_gap_s=2.0, max_length_s=10.0),
        dict(min_length_s=1.0, merge_gap_s=-0.5, max_length_s=10.0),
        dict(min_length_s=1.0, merge_gap_s=2.0, max_length_s=0.0),
        dict(min_length_s=1.0, merge_gap_s=float("inf"), max_length_s=10.0),
        dict(min_length_s=float("nan"), merge_gap_s=2.0, max_length_s=10.0),
    ],
)
def test_bad_params_raise(params: dict) -> None:
    with pytest.raises(ValueError):
        EventTracker(**params)
