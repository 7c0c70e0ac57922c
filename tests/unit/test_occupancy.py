"""ZoneSpec (a zone as the detectors see it) and SecondAggregator (per-frame states -> one sample per second)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from monitor.detect.occupancy import Revision, SecondAggregator, ZoneSpec, ZoneState


def rect(x0: float, y0: float, x1: float, y1: float) -> tuple[tuple[float, float], ...]:
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: ZoneSpec("a", "sofa", rect(0.1, 0.1, 0.3, 0.3)), "kind"),
        (lambda: ZoneSpec("a", "staff_seat", ((0.1, 0.1), (0.2, 0.2))), "at least 3"),
        (lambda: ZoneSpec("a", "staff_seat", ((0.1, 0.1), (0.2, float("nan")), (0.3, 0.1))), "normalised"),
        (lambda: ZoneSpec("a", "staff_seat", rect(0.1, 0.1, 1.5, 0.3)), "normalised"),
        (lambda: ZoneSpec("a", "waiting_area", rect(0.1, 0.1, 0.3, 0.3), person_height=(0.0, 0.2)), "person_height"),
    ],
)
def test_bad_zones_raise(make: Callable[[], object], message: str) -> None:
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


def test_aggregator_keeps_the_largest_moved_of_a_second_for_zones_that_measure_it() -> None:
    agg = SecondAggregator(hold_s=0)
    for i, m in enumerate([0.1, 0.5, 0.2, 0.0, 0.0]):  # one second at 5 fps; then the next one starts
        agg.add(100 + i / 5, {"s": ZoneState(True, 1.0, 1.0, moved=m), "w": st(False)})
    (first, zones), = agg.add(101.0, {"s": ZoneState(True, 1.0, 1.0, moved=0.3), "w": st(False)})
    assert first == 100 and zones["s"] == {"occupied": True, "count": 1.0, "moved": 0.5}
    assert "moved" not in zones["w"]  # a zone that does not measure it


def test_aggregator_rejects_negative_hold() -> None:
    with pytest.raises(ValueError):
        SecondAggregator(hold_s=-1)
    with pytest.raises(ValueError, match="correct_s"):
        SecondAggregator(correct_s=-1)


@pytest.mark.parametrize(("correct_s", "first"), [(0.0, None), (60.0, 10), (30.0, 24)])
def test_a_revision_past_the_held_seconds_corrects_those_returned_within_correct_s(correct_s: float, first: int | None) -> None:
    """A live worker holds 15 s; a person found at 70 s who sat down at 10 s changes seconds it returned already:
    those of the last correct_s come again from corrections(), as they are now; older ones are left."""
    agg = SecondAggregator(hold_s=15, correct_s=correct_s)
    out, fixed = [], []
    for i in range(100 * 5):
        t = i / 5
        revs = [Revision(10.0, 70.0)] if t == 70.0 else []
        out += agg.add(t, {"w": st(t >= 70.0, count=float(t >= 70.0), revisions=revs), "s": st(False)})
        fixed += agg.corrections()
    out += agg.flush()
    counts = [z["w"]["count"] for _, z in out]
    assert counts[:54] == [0.0] * 54 and counts[54:] == [1.0] * (len(counts) - 54)  # still held at 70 s: 54 on
    if not correct_s:
        assert fixed == []
        return
    # returned before 70 s: seconds up to 53; the revision (from 10 s) changed those still kept: within the last
    # 60 s all of them, within the last 30 s those from 24 on
    assert [s for s, _ in fixed] == list(range(first, 54))
    assert all(z == {"w": {"occupied": True, "count": 1.0}} for _, z in fixed)
    assert agg.corrections() == []
