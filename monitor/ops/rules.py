"""The alert rules as pure functions over the live state of the counters and cameras, with the clock passed in.

Each rule looks at one counter's recent per-second samples (or one camera's health) at `now` and
gives a Finding while its condition holds: when the condition began (`since`) and its value (people,
minutes or seconds). monitor/ops/engine.py turns findings into alerts that open once and close when
the finding is gone. Counter rules hold only during opening hours and only while the counter's
camera is seen (its last sample is at most STALE_S old): a camera that is offline raises the
camera rule instead of guesses about its counters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from monitor.counters.analytics import (
    AnalyticsParams,
    presence_intervals,
    session_starts,
    staff_hidden,
    still_waiting,
    walked_in_flow,
)
from monitor.ops.health import CameraHealth
from monitor.records import Interval, ZoneSamples, merge_intervals
from monitor.site.alerting import AlertRules

__all__ = ["CounterLive", "Finding", "LiveState", "QueueLive", "UNITS", "evaluate", "oldest_wait"]

STALE_S = 10.0  # samples reach the database within about a second; older than this, the camera is not seen now
DIP_S = 5.0  # a queue or an empty seat interrupted for a few seconds (a detection flicker) is still one run
UNITS = {"queue_long": "people", "long_wait": "min", "unstaffed_queue": "people", "officer_away": "min",
         "late_start": "min", "left_early": "min", "camera_offline": "s"}


@dataclass(frozen=True)
class CounterLive:
    """One counter's recent samples: its staff seat, service spot and (optional) waiting area."""

    id: str  # the counter id (a camera's counter until the office model names them)
    name: str
    camera: str  # the camera that records the seat: where a supervisor looks
    seat: ZoneSamples
    spot: ZoneSamples
    queue: ZoneSamples | None  # the count of the queue that feeds it, if any


@dataclass(frozen=True)
class QueueLive:
    """One queue's recent people count and the counters it feeds."""

    id: str
    name: str
    camera: str  # the camera of its first waiting area
    samples: ZoneSamples
    counters: tuple[CounterLive, ...]
    tickets: tuple[float, ...] | None = None  # issue times of its tickets not yet called; None: no ticket feed today
    walking: ZoneSamples | None = None  # people walking in its cameras' pictures (WALKING_ZONE): arrivals walk in


@dataclass(frozen=True)
class LiveState:
    """What the rules look at: counters, queues, the cameras' health and the opening periods around now."""

    counters: tuple[CounterLive, ...]
    queues: tuple[QueueLive, ...]
    cameras: tuple[CameraHealth, ...]
    open_spans: tuple[Interval, ...]  # today's opening periods, unix seconds
    offline_after_s: float


@dataclass(frozen=True)
class Finding:
    """A rule's condition holding now: since when, with what value, about which counter or camera."""

    rule: str
    subject: str  # counter id; queue id for queue_long and long_wait; camera id for camera_offline
    camera: str
    since: float
    value: float


# ---------------------------------------------------------------- helpers


def _level(queue: ZoneSamples) -> np.ndarray:
    """The people estimate rounded half up: 0.5 is one person."""
    return np.floor(np.clip(queue.count.astype(np.float64), 0.0, None) + 0.5).astype(np.int64)


def _run_now(t: np.ndarray, mask: np.ndarray, now: float) -> Interval | None:
    """The run of seconds where mask holds that reaches now (dips up to DIP_S bridged), or None."""
    runs = merge_intervals(presence_intervals(ZoneSamples(t, mask, np.zeros(t.size, np.float32))), DIP_S)
    if not runs or runs[-1].end < now - STALE_S:
        return None
    return runs[-1]


def _span_at(spans: Sequence[Interval], now: float) -> Interval | None:
    return next((s for s in spans if s.start <= now < s.end), None)


def _after_empty(queue: ZoneSamples, min_s: float) -> float:
    """Where the last stretch of at least min_s seconds with nobody waiting ends (-inf without one).

    Nobody counted before it is still waiting after it: a fall in the count that lasts
    AnalyticsParams.leave_s is someone gone, so the arrivals still waiting need no older samples
    (the day's fit from the opening costs up to a second in a crowded hall, every CHECK_EVERY_S).
    """
    empty = _level(queue) == 0
    t = queue.t
    edges = np.flatnonzero(np.diff(np.concatenate(([0], empty.astype(np.int8), [0]))))
    for a, b in reversed(list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))):
        if b < len(t) and float(t[b - 1] - t[a]) + 1.0 >= min_s:
            return float(t[b])
    return -np.inf


def _seen(s: ZoneSamples, now: float) -> bool:
    return len(s) > 0 and float(s.t[-1]) >= now - STALE_S


def _staffed_between(seat: ZoneSamples, t0: float, t1: float) -> bool:
    w = seat.window(t0, t1)
    return bool(w.occupied.any())


def _max_level(queue: ZoneSamples, run: Interval) -> float:
    return float(_level(queue.window(run.start, run.end)).max(initial=0))


# ---------------------------------------------------------------- counter rules


def queue_long(q: QueueLive, rules: AlertRules, span: Interval, now: float) -> Finding | None:
    """At least min_people in the queue for at least for_s seconds (value: most people in the run)."""
    r = rules.queue_long
    if not _seen(q.samples, now):
        return None
    run = _run_now(q.samples.t, _level(q.samples) >= r.min_people, now)
    if run is None or now - max(run.start, span.start) < r.for_s:
        return None
    return Finding("queue_long", q.id, q.camera, max(run.start, span.start), _max_level(q.samples, run))


def oldest_wait(q: QueueLive, now: float, params: AnalyticsParams = AnalyticsParams()) -> float | None:
    """The estimated arrival time of the longest-waiting person now, or None when nobody waits.

    The arrivals and departures are the reports' (monitor.counters.analytics.walked_in_flow): the fit
    of the waiting count against the service starts of the queue's counters so far, each arrival
    dated back over the walk that ends at it. Of the arrivals still waiting after first-in-first-out
    service and the departures without service (still_waiting), the n people waiting now are the
    last n; the oldest of them is the n-th most recent. Arrivals before the samples began count at
    the first sample (a lower bound).
    """
    if not _seen(q.samples, now):
        return None
    waiting = int(_level(q.samples)[-1])
    if waiting == 0:
        return None
    since = _after_empty(q.samples, params.leave_s)
    starts = sorted(t for c in q.counters for t in session_starts(c.spot, c.seat, params) if t >= since)
    back = params.walk_in_max_s + max(params.walk_lag_s, params.quiet_lag_s)  # the walk an arrival is dated back over may begin before
    walking = q.walking.window(since - back, np.inf) if q.walking is not None else None
    flow = walked_in_flow(q.samples.window(since, np.inf), starts, walking, params)
    came = still_waiting(flow.arrivals, starts, flow.left)
    if not came:
        return None
    return came[-waiting] if len(came) >= waiting else came[0]


def long_wait(q: QueueLive, rules: AlertRules, span: Interval, now: float) -> Finding | None:
    """Someone in the queue waiting longer than max_wait_min (value: that wait in minutes).

    Where the queue's tickets are known today, the oldest ticket not yet called is the one waiting
    longest; otherwise the camera's estimate (oldest_wait).
    """
    limit = rules.long_wait.max_wait_min * 60
    if q.tickets is not None:
        arrived = min(q.tickets, default=None)
    else:
        arrived = oldest_wait(q, now)
    if arrived is None or now - arrived < limit:
        return None
    return Finding("long_wait", q.id, q.camera, arrived + limit, (now - arrived) / 60)


def unstaffed_queue(c: CounterLive, rules: AlertRules, span: Interval, now: float) -> Finding | None:
    """The seat empty while people wait in the queue, for at least for_s seconds (value: most people waiting)."""
    if c.queue is None or not (_seen(c.queue, now) and _seen(c.seat, now)) or _hidden(c):
        return None
    t, si, qi = np.intersect1d(c.seat.t, c.queue.t, assume_unique=True, return_indices=True)
    run = _run_now(t, ~c.seat.occupied[si] & (_level(c.queue)[qi] >= 1), now)
    if run is None or now - max(run.start, span.start) < rules.unstaffed_queue.for_s:
        return None
    return Finding("unstaffed_queue", c.id, c.camera, max(run.start, span.start), _max_level(c.queue, run))


def _empty_since(c: CounterLive, span: Interval, now: float) -> float | None:
    """When the officer, seen at the seat earlier in this period, left it for good so far; None if seated."""
    if not _seen(c.seat, now):
        return None
    run = _run_now(c.seat.t, ~c.seat.occupied, now)
    if run is None:
        return None
    left = max(run.start, span.start)
    # never seated since opening: late_start's case, not an absence
    return left if _staffed_between(c.seat, span.start, left) else None


def _hidden(c: CounterLive) -> bool:
    """The staff seat hidden from the camera this period (analytics.staff_hidden: never seen occupied while a
    citizen stayed at the spot): its emptiness says nothing of the officer, so it raises no alert."""
    return staff_hidden(c.spot, c.seat, AnalyticsParams().hidden_staff_s)


def officer_away(c: CounterLive, rules: AlertRules, span: Interval, now: float) -> Finding | None:
    """The officer away from the seat longer than max_away_min (value: minutes away)."""
    left = _empty_since(c, span, now)
    if left is None or now - left < rules.officer_away.max_away_min * 60:
        return None
    return Finding("officer_away", c.id, c.camera, left + rules.officer_away.max_away_min * 60, (now - left) / 60)


def late_start(c: CounterLive, rules: AlertRules, span: Interval, now: float) -> Finding | None:
    """Nobody at the seat since opening, after_min into the period (value: minutes since opening)."""
    due = span.start + rules.late_start.after_min * 60
    if now < due or not _seen(c.seat, now) or _staffed_between(c.seat, span.start, now + 1) or _hidden(c):
        return None
    return Finding("late_start", c.id, c.camera, due, (now - span.start) / 60)


def left_early(c: CounterLive, rules: AlertRules, span: Interval, now: float) -> Finding | None:
    """In the last before_min of the period, the officer gone since before it began (value: minutes before closing)."""
    cutoff = span.end - rules.left_early.before_min * 60
    left = _empty_since(c, span, now)
    if now < cutoff or left is None or left > cutoff:
        return None
    return Finding("left_early", c.id, c.camera, cutoff, (span.end - left) / 60)


CounterRule = Callable[[CounterLive, AlertRules, Interval, float], "Finding | None"]
COUNTER_RULES: dict[str, CounterRule] = {
    "unstaffed_queue": unstaffed_queue, "officer_away": officer_away, "late_start": late_start,
    "left_early": left_early,
}
QueueRule = Callable[[QueueLive, AlertRules, Interval, float], "Finding | None"]
QUEUE_RULES: dict[str, QueueRule] = {"queue_long": queue_long, "long_wait": long_wait}


# ---------------------------------------------------------------- camera rule and the whole


def camera_offline(cam: CameraHealth, offline_after_s: float, now: float) -> Finding | None:
    """A camera not online (and not disabled) for offline_after_s or longer (value: seconds down)."""
    if cam.state in ("online", "disabled"):
        return None
    down = cam.down_for(now)
    if down is None or down < offline_after_s or cam.down_since is None:
        return None
    return Finding("camera_offline", cam.id, cam.id, cam.down_since, down)


def evaluate(rules: AlertRules, state: LiveState, now: float) -> list[Finding]:
    """Every enabled rule's findings at `now`."""
    out: list[Finding] = []
    if rules.camera_offline.enabled:
        out += [f for cam in state.cameras if (f := camera_offline(cam, state.offline_after_s, now))]
    span = _span_at(state.open_spans, now)
    if span is None:
        return out
    for name, queue_rule in QUEUE_RULES.items():
        if getattr(rules, name).enabled:
            out += [f for q in state.queues if (f := queue_rule(q, rules, span, now))]
    for name, rule in COUNTER_RULES.items():
        if getattr(rules, name).enabled:
            out += [f for c in state.counters if (f := rule(c, rules, span, now))]
    return out
