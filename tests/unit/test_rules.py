"""The alert rules as tables: scripted seat, spot and queue samples, a fake clock, the finding expected."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from monitor.ops.health import CameraHealth
from monitor.ops.rules import CounterLive, Finding, LiveState, QueueLive, evaluate, oldest_wait
from monitor.records import Interval, ZoneSamples
from monitor.site.alerting import AlertRules
from monitor.site.config import Site

SITE = Site(name="x")
OPEN = datetime(2026, 11, 24, 7, 30, tzinfo=SITE.tz).timestamp()  # a Tuesday, 07:30-11:30 by default
SPAN = Interval(OPEN, OPEN + 4 * 3600)
RULES = AlertRules.model_validate({
    "queue_long": {"min_people": 5, "for_s": 120}, "long_wait": {"max_wait_min": 20},
    "unstaffed_queue": {"for_s": 120}, "officer_away": {"max_away_min": 15},
    "late_start": {"after_min": 15}, "left_early": {"before_min": 30},
})


def track(until: int, segments: list[tuple[int, int, float]], start: int = 0) -> ZoneSamples:
    """One sample per second from OPEN+start to OPEN+until: value v in each [a, b) segment, else 0."""
    t = np.arange(OPEN + start, OPEN + until, dtype=np.int64)
    v = np.zeros(t.size, np.float32)
    for a, b, value in segments:
        v[(t >= OPEN + a) & (t < OPEN + b)] = value
    return ZoneSamples(t, v > 0, v)


def counter(now: int, seat=(), spot=(), queue=None, seen_until: int | None = None) -> CounterLive:
    """A counter observed from opening to now (or to seen_until: the camera stopped reporting)."""
    end = now if seen_until is None else seen_until
    return CounterLive("quay-1", "Quầy 1", "cam-1", track(end, list(seat)), track(end, list(spot)),
                       None if queue is None else track(end, list(queue)))


def fed(c: CounterLive) -> tuple[QueueLive, ...]:
    """The counter's queue, feeding only it."""
    return () if c.queue is None else (QueueLive("hang", "Hàng chờ", c.camera, c.queue, (c,)),)


def only(rule: str, c: CounterLive, now: int, rules: AlertRules = RULES) -> list[tuple[str, float, float]]:
    """The findings of one rule: (rule, since - OPEN, value)."""
    state = LiveState((c,), fed(c), (), (SPAN,), 300)
    return [(f.rule, f.since - OPEN, round(f.value, 2)) for f in evaluate(rules, state, OPEN + now) if f.rule == rule]


SEATED = [(0, 14400, 1)]

CASES = [
    # rule, now (s after opening), seat, spot, queue, expected [(rule, since, value)]
    ("queue_long", 800, SEATED, [], [(600, 800, 6)], [("queue_long", 600, 6)]),
    ("queue_long", 800, SEATED, [], [(700, 800, 6)], []),  # 100 s of 120
    ("queue_long", 800, SEATED, [], [(600, 650, 6), (653, 800, 7)], [("queue_long", 600, 7)]),  # a 3 s flicker
    ("queue_long", 800, SEATED, [], [(600, 650, 6), (690, 800, 6)], []),  # a 40 s dip starts a new run (110 s)
    ("queue_long", 800, SEATED, [], [(600, 800, 4.4)], []),  # 4.4 people round to 4 < 5
    ("long_wait", 1500, SEATED, [], [(0, 1500, 1)], [("long_wait", 1200, 25)]),
    # two arrive at 0, the first is served from 300 (spot taken): the second has waited 25 min
    ("long_wait", 1500, SEATED, [(300, 600, 1)], [(0, 300, 2), (300, 1500, 1)], [("long_wait", 1200, 25)]),
    # one arrives at 0 and is served at 300; another arrives at 600: a 15 min wait is under 20
    ("long_wait", 1500, SEATED, [(300, 600, 1)], [(0, 300, 1), (600, 1500, 1)], []),
    ("long_wait", 1500, SEATED, [], [], []),
    ("unstaffed_queue", 1000, [(0, 800, 1)], [], [(700, 1000, 2)], [("unstaffed_queue", 800, 2)]),
    ("unstaffed_queue", 1000, [(0, 900, 1)], [], [(700, 1000, 2)], []),  # 100 s of 120
    ("unstaffed_queue", 1000, [(0, 800, 1)], [], [], []),  # nobody waits
    ("officer_away", 1600, [(0, 600, 1)], [], None, [("officer_away", 1500, 16.67)]),
    ("officer_away", 1600, [(0, 600, 1), (1000, 1030, 1)], [], None, []),  # back for 30 s at 1000
    ("officer_away", 1600, [], [], None, []),  # never seated: late_start's case
    ("late_start", 1000, [], [], None, [("late_start", 900, 16.67)]),
    ("late_start", 1000, [(100, 200, 1)], [], None, []),
    ("late_start", 800, [], [], None, []),  # 13 min of 15
    # citizens served at the spot while the seat never reads occupied: the camera does not see the officer
    ("late_start", 1000, [], [(100, 400, 1)], None, []),
    ("unstaffed_queue", 1000, [], [(100, 400, 1)], [(700, 1000, 2)], []),
    ("late_start", 1000, [], [(100, 110, 1)], None, [("late_start", 900, 16.67)]),  # 10 s at the spot: not served
    ("left_early", 13000, [(0, 12000, 1)], [], None, [("left_early", 12600, 40)]),
    ("left_early", 13000, [(0, 12800, 1)], [], None, []),  # left 26.7 min before closing: not early
    ("left_early", 12000, [(0, 11000, 1)], [], None, []),  # before the last 30 min
]


@pytest.mark.parametrize("rule, now, seat, spot, queue, expected", CASES)
def test_counter_rule(rule, now, seat, spot, queue, expected):
    assert only(rule, counter(now, seat, spot, queue), now) == expected


@pytest.mark.parametrize("rule, now, seat, queue", [
    ("queue_long", 800, SEATED, [(600, 800, 6)]),
    ("late_start", 1000, [], None),
    ("officer_away", 1600, [(0, 600, 1)], None),
])
def test_no_counter_alert_while_the_camera_is_not_seen(rule, now, seat, queue):
    assert only(rule, counter(now, seat, [], queue, seen_until=now - 60), now) == []


@pytest.mark.parametrize("rule, now, seat, queue", [
    ("queue_long", 800, SEATED, [(600, 800, 6)]),
    ("late_start", 1000, [], None),
])
def test_a_rule_switched_off_says_nothing(rule, now, seat, queue):
    rules = RULES.model_copy(update={rule: getattr(RULES, rule).model_copy(update={"enabled": False})})
    assert only(rule, counter(now, seat, [], queue), now, rules) == []


def test_counter_rules_hold_only_in_opening_hours():
    c = counter(800, SEATED, [], [(600, 800, 6)])
    assert evaluate(RULES, LiveState((c,), fed(c), (), (Interval(OPEN - 7200, OPEN - 3600),), 300), OPEN + 800) == []


def test_oldest_wait_takes_the_last_arrivals_as_the_people_waiting():
    # three arrive at 0, 100, 200; two are served from 405 and 705: first in, first out, the one left came last
    c = counter(1000, SEATED, [(405, 695, 1), (705, 1000, 1)], [(0, 100, 1), (100, 200, 2), (200, 405, 3), (405, 705, 2),
                                                                  (705, 1000, 1)])
    assert oldest_wait(fed(c)[0], OPEN + 1000) == OPEN + 200


def test_oldest_wait_reads_arrivals_as_the_reports_do():
    # a 2 s dip of the count is a sitter missed, not two people leaving and two more coming
    c = counter(1000, SEATED, [], [(0, 500, 2), (502, 1000, 2)])
    assert oldest_wait(fed(c)[0], OPEN + 1000) == OPEN + 0
    # the second person's arrival is dated back to the start of their walk in (people walking from 280)
    c = counter(1000, SEATED, [], [(0, 300, 1), (300, 1000, 2)])
    q = fed(c)[0]
    assert oldest_wait(q, OPEN + 1000) == OPEN + 0
    walking = track(1000, [(280, 300, 1)])
    one = counter(1000, SEATED, [(100, 1000, 1)], [(0, 100, 1), (300, 1000, 1)])  # the first is served from 100
    assert oldest_wait(QueueLive("hang", "Hàng chờ", "cam-1", one.queue, (one,)), OPEN + 1000) == OPEN + 300
    assert oldest_wait(QueueLive("hang", "Hàng chờ", "cam-1", one.queue, (one,), walking=walking), OPEN + 1000) == OPEN + 280


def test_oldest_wait_is_not_someone_who_left_unserved():
    # one waits from 0 and leaves at 300 without service; five minutes later another sits down
    c = counter(1000, SEATED, [], [(0, 300, 1), (600, 1000, 1)])
    assert oldest_wait(fed(c)[0], OPEN + 1000) == OPEN + 600


def test_oldest_wait_needs_no_history_before_the_queue_last_stood_empty():
    # a busy morning (three waiting, one served), ten minutes with nobody waiting, then two sit down
    from monitor.counters.analytics import AnalyticsParams, service_sessions, still_waiting, walked_in_flow
    from monitor.ops.rules import _after_empty

    c = counter(4000, SEATED, [(500, 900, 1)], [(0, 100, 1), (100, 200, 2), (200, 500, 3), (500, 1500, 2),
                                               (2100, 2400, 1), (2400, 4000, 2)])
    q = fed(c)[0]
    assert _after_empty(q.samples, 120) == OPEN + 2100
    assert _after_empty(track(1000, [(0, 1000, 1)]), 120) == -np.inf
    p = AnalyticsParams()
    starts = [s.start for s in service_sessions(c.spot, c.seat, p.min_session_s, p.merge_gap_s, p.max_gap_s)]
    flow = walked_in_flow(q.samples, starts, q.walking, p)  # the whole day
    whole = still_waiting(flow.arrivals, starts, flow.left)
    assert oldest_wait(q, OPEN + 4000) == whole[-2] == OPEN + 2100


def test_a_queue_feeding_two_counters_gives_one_alert_named_by_the_queue():
    one = counter(1500, SEATED, [(100, 1500, 1)], [(0, 1500, 2)])
    two = CounterLive("quay-2", "Quầy 2", "cam-1", track(1500, SEATED), track(1500, [(200, 1500, 1)]), one.queue)
    q = QueueLive("hang", "Hàng chờ", "cam-1", one.queue, (one, two))
    (f,) = evaluate(RULES, LiveState((one, two), (q,), (), (SPAN,), 300), OPEN + 1500)
    # two were waiting from 0; with one called at 100 and one at 200 while the count stayed 2, two more
    # came then: the oldest of the two waiting now came at 100
    assert (f.rule, f.subject, round(f.value, 2)) == ("long_wait", "hang", 23.33)


def cam(state: str, down_for: float | None = None, cid: str = "c1") -> CameraHealth:
    since = None if down_for is None else OPEN - down_for
    return CameraHealth(cid, "Quầy 1", state, since, 0, None)


@pytest.mark.parametrize("camera, expected", [
    (cam("online"), []),
    (cam("disabled"), []),
    (cam("reconnecting", 30), []),
    (cam("reconnecting", 300), [("camera_offline", "c1", -300, 300)]),
    (cam("offline", 4000), [("camera_offline", "c1", -4000, 4000)]),
    (cam("offline", None), []),  # never seen: no start to count from
])
def test_camera_offline(camera, expected):
    state = LiveState((), (), (camera,), (), 300)  # also outside opening hours
    found = [(f.rule, f.subject, f.since - OPEN, f.value) for f in evaluate(RULES, state, OPEN)]
    assert found == expected


def test_camera_offline_switched_off():
    rules = RULES.model_copy(update={"camera_offline": RULES.camera_offline.model_copy(update={"enabled": False})})
    assert evaluate(rules, LiveState((), (), (cam("offline", 4000),), (), 300), OPEN) == []


def test_findings_name_the_counter_and_its_camera():
    (f,) = evaluate(RULES, LiveState((counter(1000, [], [], None),), (), (), (SPAN,), 300), OPEN + 1000)
    assert f == Finding("late_start", "quay-1", "cam-1", OPEN + 900, pytest.approx(1000 / 60))


@pytest.mark.parametrize("tickets, expected", [
    ((OPEN + 100, OPEN + 900), [("long_wait", 1300, 23.33)]),  # the oldest ticket not called: 23.3 min
    ((OPEN + 900,), []),  # tickets say 10 min although the camera estimate says 25
    ((), []),  # every ticket called
])
def test_long_wait_from_tickets_where_they_exist(tickets, expected):
    c = counter(1500, SEATED, [], [(0, 1500, 1)])
    q = QueueLive("hang", "Hàng chờ", "cam-1", c.queue, (c,), tickets)
    found = evaluate(RULES, LiveState((c,), (q,), (), (SPAN,), 300), OPEN + 1500)
    assert [(f.rule, f.since - OPEN, round(f.value, 2)) for f in found if f.rule == "long_wait"] == expected


def test_waiting_tickets_go_to_the_queue_of_their_field():
    from monitor.db.tickets import TicketEvent
    from monitor.ops.livestate import waiting_tickets
    from monitor.site.office import Office, OfficeCounter, OfficeQueue

    office = Office((OfficeCounter("q1", "Q1", "dat", ("c", "s"), ("c", "p"), "a"),
                     OfficeCounter("q2", "Q2", "hotich", ("c", "s2"), ("c", "p2"), "b")),
                    (OfficeQueue("a", "A", (("c", "w"),), ("q1",)), OfficeQueue("b", "B", (("c", "w2"),), ("q2",))),
                    derived=False)
    events = [TicketEvent("k", "1", "issued", OPEN + 10, field="dat"), TicketEvent("k", "1", "called", OPEN + 50),
              TicketEvent("k", "2", "issued", OPEN + 20, field="dat"), TicketEvent("k", "3", "issued", OPEN + 30, field="hotich"),
              TicketEvent("k", "4", "issued", OPEN + 40, field="other"), TicketEvent("k", "5", "issued", OPEN + 99, field="dat")]
    assert waiting_tickets(events, office, OPEN + 60) == {"a": (OPEN + 20,), "b": (OPEN + 30,)}
