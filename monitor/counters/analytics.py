"""Counter analytics: per-second occupancy samples -> service sessions, absences, queue and waiting times.

Pure functions over NumPy arrays and small frozen records: no I/O and no clock reads (the caller
passes the window and the opening periods). Times are seconds (unix seconds, or seconds from the
start of a video); a sample stamped `t` stands for the second [t, t + 1).

Missing seconds (camera offline, not recording) are never filled with presence or absence: a run
of samples continues across at most `max_gap_s` unobserved seconds and is broken by a longer gap.

Window attribution: a session or an absence belongs to the window (day, hour) in which it starts,
with its full length, even when it runs past the window's end (across an hour boundary or
midnight). To measure such a session fully, pass samples that reach a little past the window
(e.g. one hour each side) together with `window=`; see `counter_stats`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from monitor.records import Interval, ZoneSamples, merge_intervals

__all__ = [
    "AnalyticsParams",
    "CounterStats",
    "HourStats",
    "QueueFlow",
    "QueueStats",
    "absences",
    "counter_day",
    "counter_stats",
    "drop_short",
    "fifo_waits",
    "intersect",
    "littles_law_wait",
    "left_unseen",
    "median_age",
    "presence_intervals",
    "queue_flow",
    "queue_stats",
    "seen_or_all",
    "service_sessions",
    "serving_unseen",
    "session_starts",
    "shared_waits",
    "staff_hidden",
    "still_waiting",
    "total_duration",
    "utilisation",
    "wait_bounds",
    "walked_in",
    "walked_in_flow",
    "waiting_from_before",
]

HOUR_S = 3600
# Observation that begins with people already there (a video, a worker started or restarted mid-morning):
# a session found within this long of the first sample was under way before it, and a waiting citizen
# found within this long was waiting before it. Someone seated from the start is dated from the first
# sample when their first analyses find them, but a citizen half hidden at first is dated from a later
# sighting (12 s into office-2c with a lower score threshold). Counting such a session as a new start
# gives it a wait near 0 and moves every FIFO match after it, while a grace too long only leaves out
# the waits of citizens sitting down in the first seconds: 20 s, ten looks at an uncertain seat.
IN_PROGRESS_GRACE_S = 20.0


# ---------------------------------------------------------------- records


@dataclass(frozen=True)
class AnalyticsParams:
    """Tuned thresholds for turning occupancy into sessions and absences."""

    min_session_s: float = 20  # shorter than this is someone passing or asking one question
    merge_gap_s: float = 3  # seat hysteresis already bridges short gaps; longer would join consecutive citizens (called 5-15 s apart)
    min_absence_s: float = 60  # a staff seat empty for under a minute is not worth reporting
    max_gap_s: float = 5  # unobserved seconds bridged inside a run (dropped frames, a short stall)
    # A session broken only by unobserved seconds (a camera reconnecting, a worker restarting), up to this
    # long, is one session: neither the spot nor the staff seat was seen empty in between. For a change of
    # citizen in that time, one has to leave and the next be called and walk over: 20-25 s after the last
    # one left in the development scenes. Longer blind spells split it (served counted twice).
    blind_join_s: float = 30
    # A staff seat never seen occupied while a citizen stayed on its counter's spot at least this long is hidden
    # from the camera (a monitor or a screen in front of the officer: only a head top shows, which the detector
    # does not find): a citizen is not called to a counter without its officer. That counter's sessions are
    # then the spot's stays alone, and no absence is reported for the seat (what the camera shows of it says
    # nothing); the analysis lists the seat (staff_hidden) so that the camera or the zone can be put right.
    # The same as min_session_s: one service's worth of a citizen at the counter. None: off (the seat is
    # taken as empty, every stay on the spot is unstaffed and the seat absent throughout).
    hidden_staff_s: float | None = 20
    # A waiting-area arrival is dated back over the walk that brought the citizen (walked_in): crossing
    # an office hall from the door to a chair takes well under half a minute (20 m at 0.7 m/s), and a
    # stop at the ticket machine or a door is a pause of a second or two, not the end of the walk.
    walk_in_max_s: float = 30
    walk_pause_s: int = 2
    # The waiting count rises a while after the citizen sat down, when the detector has found and
    # confirmed them (monitor.detect.presence): the seated-scale tile of their place has to come round,
    # then a sweep confirms the sighting. With every tile of a hall touched by motion the tiles share
    # seated_calls_per_s (0.5 calls/s): the 13 seated-scale tiles of the development offices' hall come
    # round every 26 s, and the confirming sweep follows within 2 s, so the walk that brought the
    # citizen may have ended up to ~28 s before the rise. 30 s covers that cycle. On 12 analyses of the
    # development scenes and copies of them, 87 of 101 rises came within 2 s of someone walking, 8 more
    # within 6-19 s, 6 after 26-49 s (people found late). With 20 s (one or two seated_period_s), the
    # second of two citizens arriving 10 s apart, whose tile had just run as they sat down, kept the
    # rise 26 s after their walk as their arrival.
    walk_lag_s: int = 30
    # ... or longer, up to quiet_lag_s, when nobody walked at all between the walk's end and the rise (every
    # second of it observed): nobody else came in, so whoever the count finds came with that walk, however
    # late the detector found them sitting (in a noisy or dim picture a seated citizen is found a minute or
    # more after sitting down: 86 s in the noisy copy of office-2c). With a gap in the walking samples the
    # lag alone holds. Replayed over every kept analysis (/work/notes/regrace.py), 30 -> 120 s: the noisy
    # office-4c's wait error 10.9 -> 4.4 % (a citizen walking in at 274-295 s and found at 343 s, nobody
    # walking in between), and 10.9-11.6 -> 4.4-5.1 % on the analyses of four older detections; the
    # development scenes and every other copy, the late copies and my 3- and 10-minute renders unchanged to
    # the digit; one of my 20-minute renders, on one older detection, 6.6 -> 7.3 %. 60-180 s give the same.
    quiet_lag_s: int = 120
    # The waiting count's fit (queue_flow) weighs a second below a level from its start on by this
    # much against a second at or above it before: a seated citizen the detector misses for a while after
    # they were counted (a dip, often tens of seconds) is far more common than a phantom one counted before
    # anyone came (a walker crossing the area, a few seconds). At 1 (equal weights) a citizen counted for
    # 27 s, then missed for 31 s, was dated as arriving when found again, 58 s late. Measured on the whole
    # matrix (benchmarks/accuracy.py, 0.5 against 1): the mirrored other-camera copy of office-2c's wait
    # error 22 -> 6 %, dim office-4c 38 -> 34 %, office-4c from farther 4 -> 5 %; the development offices
    # and my simulator unchanged.
    miss_weight: float = 0.5
    # A drop in the waiting count that no service start explains, held about this long, is a citizen who
    # left without being served (queue_flow): nobody is matched to a later service in their place.
    # Shorter drops are the detector missing someone (see miss_weight). Measured with the whole matrix's
    # per-second samples (accuracy.py --replay): a counted waiting citizen was missed for up to 21 s on the
    # development scenes, 38 s on their other-camera copies and 99 s on the noisy one; their waits are the
    # same to the percent with leave_s 60, 90, 120 and 180 as without leaving, and worse at 20 (other-camera
    # copies 4 -> 11 %). office-4c played twice in a row: the citizen called last before the join sits at
    # the counter 4 s before the cut (too short for a session, like someone asking one question), and the
    # hall then stays empty for 130 s; their arrival took the next citizen's place: wait error 12.6 %
    # without leaving, 2.3 % from 60 to 120 s (150 s misses it).
    leave_s: float = 120
    # A session found in the first seconds of observation was under way before it (its start is
    # estimated), unless its citizen was seen arriving: motion covered arrive_motion of the spot's place
    # (PersonOccupancy's `moved`) within arrive_before_s before the session's start or arrive_after_s
    # after it. Someone walking up and sitting down moved over 19-57 % of it in the seconds around the
    # spot turning on (my simulator: citizens called at the start, seated 6-18 s in); a citizen seated
    # from the start whom the detector found only 3-14 s in, 0-3 % (the development office-2c, its
    # 70 kbit/s copy, my simulator). None: every session in the first seconds was under way.
    arrive_motion: float | None = 0.2
    arrive_before_s: float = 8.0
    arrive_after_s: float = 3.0


@dataclass(frozen=True)
class QueueStats:
    """Waiting-area people estimate over the samples that were seen."""

    mean: float
    max: float
    samples: int


@dataclass(frozen=True)
class CounterStats:
    """One counter over one window (a day or an hour)."""

    served: int
    service_times: list[float]
    mean_service_s: float | None
    median_service_s: float | None
    p90_service_s: float | None
    waits: list[float]  # of the sessions served; lower bounds (waiting at the first sample) left out unless all are
    mean_wait_s: float | None
    max_wait_s: float | None
    littles_wait_s: float | None
    mean_queue: float
    max_queue: float
    absence_s: float
    absences: list[Interval]
    utilisation: float
    sessions: list[Interval]
    open_s: float  # opening time inside the window: the denominator of utilisation


@dataclass(frozen=True)
class HourStats:
    """Counter statistics for one local clock hour."""

    start: float  # unix second where the local hour begins
    hour: int  # local hour of day, 0..23
    stats: CounterStats


# ---------------------------------------------------------------- interval algebra


def total_duration(intervals: Iterable[Interval]) -> float:
    """Sum of the lengths of (already disjoint) intervals."""
    return float(sum(iv.duration for iv in intervals))


def drop_short(intervals: Iterable[Interval], min_s: float) -> list[Interval]:
    """The intervals at least min_s long."""
    return [iv for iv in intervals if iv.duration >= min_s]


def intersect(a: Iterable[Interval], b: Iterable[Interval]) -> list[Interval]:
    """Sorted, disjoint spans covered by both a and b (empty overlaps left out)."""
    a, b = merge_intervals(a, 0), merge_intervals(b, 0)
    out: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i].start, b[j].start), min(a[i].end, b[j].end)
        if lo < hi:
            out.append(Interval(lo, hi))
        if a[i].end < b[j].end:
            i += 1
        else:
            j += 1
    return out


# ---------------------------------------------------------------- runs of samples


def _runs(t: np.ndarray, mask: np.ndarray, max_gap_s: float) -> list[Interval]:
    """Runs of samples where mask holds, broken by a sample where it does not or by a long gap.

    A run ends one second after its last sample; more than max_gap_s unobserved seconds between
    two samples break it. O(n) in NumPy: one pass of diff over the matching sample indices.
    """
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return []
    ts = t[idx]
    breaks = (np.diff(idx) != 1) | (np.diff(ts) - 1 > max_gap_s)
    cut = np.flatnonzero(breaks)
    first = np.concatenate(([0], cut + 1))
    last = np.concatenate((cut, [idx.size - 1]))
    starts, ends = ts[first].tolist(), (ts[last] + 1).tolist()
    return [Interval(float(a), float(b)) for a, b in zip(starts, ends, strict=True)]


def presence_intervals(s: ZoneSamples, max_gap_s: float = 5) -> list[Interval]:
    """Runs of occupied seconds; end = last occupied second + 1; a gap over max_gap_s seconds breaks a run."""
    return _runs(s.t, s.occupied, max_gap_s)


def service_sessions(
    spot: ZoneSamples,
    staff: ZoneSamples,
    min_s: float = 20,
    merge_gap_s: float = 10,
    max_gap_s: float = 5,
    observed_until: float | None = None,
    under_way_until: float | None = None,
    blind_join_s: float = 0.0,
    hidden_staff_s: float | None = None,
) -> list[Interval]:
    """Spans when the citizen's spot and the staff seat are both occupied, short breaks merged, short ones dropped.

    Interruptions shorter than merge_gap_s (either person leaving briefly) are merged into one
    session; so is a new citizen sitting down within merge_gap_s of the last one leaving. So is a
    break of at most blind_join_s in which neither zone was seen empty: nothing was observed (a camera
    reconnecting, a worker restarting), and the service went on. A
    session still running at observed_until (the end of the samples) is kept however short: it
    was cut by the end of observation, not by the citizen leaving. So is one found by
    under_way_until (the first seconds of the samples, when a session found was under way before
    them): observation began during it.

    Before the staff seat is first seen occupied, its state is not known: a citizen on the spot from
    the first samples (within max_gap_s), at a counter whose officer is found later, is being served;
    observation began during their service. A clerk half hidden by a monitor may need a minute to be
    found in a noisy picture, and the session under way would be lost; a citizen is not called to a
    counter without its officer. A staff seat never seen occupied gives no session, unless a citizen
    stayed on the spot at least hidden_staff_s (staff_hidden): then the officer is hidden from the
    camera, and the sessions are the spot's stays alone.
    """
    seated = presence_intervals(spot, max_gap_s)
    if _hidden(seated, staff, hidden_staff_s):
        return _keep_sessions(_join_blind(merge_intervals(seated, merge_gap_s), (spot,), blind_join_s), min_s,
                              observed_until, under_way_until)
    staffed = presence_intervals(staff, max_gap_s)
    unseen = _unseen_at_start(seated, staffed, spot, staff, max_gap_s)
    if unseen is not None:
        staffed = merge_intervals([unseen] + staffed, 0)
    both = _join_blind(merge_intervals(intersect(seated, staffed), merge_gap_s), (spot, staff), blind_join_s)
    return _keep_sessions(both, min_s, observed_until, under_way_until)


def _keep_sessions(spans: list[Interval], min_s: float, observed_until: float | None,
                   under_way_until: float | None) -> list[Interval]:
    """The spans long enough to be sessions, or cut by the end or the start of observation."""
    return [iv for iv in spans if iv.duration >= min_s or (observed_until is not None and iv.end >= observed_until)
            or (under_way_until is not None and iv.start <= under_way_until)]


def staff_hidden(spot: ZoneSamples, staff: ZoneSamples, hidden_staff_s: float | None, max_gap_s: float = 5) -> bool:
    """True when the staff seat was never seen occupied while a citizen stayed on the spot at least hidden_staff_s.

    A citizen is not called to a counter without its officer: the camera does not see them (AnalyticsParams).
    A seat without samples is not hidden: it was not observed at all.
    """
    return _hidden(presence_intervals(spot, max_gap_s), staff, hidden_staff_s)


def _hidden(seated: list[Interval], staff: ZoneSamples, hidden_staff_s: float | None) -> bool:
    """staff_hidden from the spot's presence intervals, already computed."""
    if hidden_staff_s is None or len(staff) == 0 or bool(staff.occupied.any()):
        return False
    return any(iv.duration >= hidden_staff_s for iv in seated)


def _join_blind(spans: list[Interval], zones: Sequence[ZoneSamples], limit_s: float) -> list[Interval]:
    """Sorted spans, each joined to the next when the break between them is at most limit_s long and none of
    the zones has a sample reading empty in it (the break is unobserved time only). Samples are in time order:
    each break's samples are found by bisection."""
    out: list[Interval] = []
    for iv in spans:
        if out and iv.start - out[-1].end <= limit_s and not any(_empty_in(z, out[-1].end, iv.start) for z in zones):
            out[-1] = Interval(out[-1].start, max(out[-1].end, iv.end))
        else:
            out.append(iv)
    return out


def _empty_in(z: ZoneSamples, start: float, end: float) -> bool:
    """True when a sample in [start, end) reads the zone empty."""
    i, j = np.searchsorted(z.t, [start, end], side="left")
    return bool(np.any(~z.occupied[i:j]))


def session_starts(spot: ZoneSamples, staff: ZoneSamples, params: AnalyticsParams = AnalyticsParams()) -> list[float]:
    """The starts of a counter's service sessions (service_sessions with params' rules)."""
    return [s.start for s in service_sessions(spot, staff, params.min_session_s, params.merge_gap_s, params.max_gap_s,
                                              blind_join_s=params.blind_join_s, hidden_staff_s=params.hidden_staff_s)]


def serving_unseen(spot: ZoneSamples, staff: ZoneSamples, max_gap_s: float = 5) -> Interval | None:
    """The first citizen's stay on the spot when it began with the samples and the officer was found only later.

    service_sessions counts the officer present then (observation began during a service); None otherwise.
    """
    return _unseen_at_start(presence_intervals(spot, max_gap_s), presence_intervals(staff, max_gap_s), spot, staff,
                            max_gap_s)


def _unseen_at_start(seated: list[Interval], staffed: list[Interval], spot: ZoneSamples, staff: ZoneSamples,
                     max_gap_s: float) -> Interval | None:
    """serving_unseen from the spot's and the staff seat's presence intervals, already computed."""
    if not seated or not staffed or staffed[0].start <= seated[0].start:
        return None
    first = min(float(x.t[0]) for x in (spot, staff) if len(x))
    return seated[0] if seated[0].start <= first + max_gap_s else None


def absences(
    staff: ZoneSamples,
    open_periods: Sequence[Interval],
    min_s: float = 60,
    max_gap_s: float = 5,
    spot: ZoneSamples | None = None,
    hidden_staff_s: float | None = None,
) -> list[Interval]:
    """Spans during opening hours when the staff seat was seen empty, each at least min_s long.

    Seconds with no samples (camera offline for more than max_gap_s) are not absence: they break
    the run. An absence is clipped to the opening periods before the min_s test, so leaving a few
    seconds before closing time is not reported. With the counter's service spot, the time its
    first citizen was being served before the officer was found (serving_unseen) is not absence; nor is
    any of a seat hidden from the camera (staff_hidden with hidden_staff_s): its emptiness says nothing.
    """
    if spot is not None and staff_hidden(spot, staff, hidden_staff_s, max_gap_s):
        return []
    empty = _runs(staff.t, ~staff.occupied, max_gap_s)
    unseen = serving_unseen(spot, staff, max_gap_s) if spot is not None else None
    if unseen is not None:
        empty = [Interval(max(iv.start, unseen.end), iv.end) for iv in empty if iv.end > unseen.end]
    return drop_short(intersect(empty, open_periods), min_s)


# ---------------------------------------------------------------- queue and waiting time


def queue_stats(queue: ZoneSamples, window: Interval | None = None) -> QueueStats:
    """Mean and maximum waiting-area count over the samples seen (in the window if given)."""
    s = queue if window is None else queue.window(window.start, window.end)
    if len(s) == 0:
        return QueueStats(0.0, 0.0, 0)
    return QueueStats(float(s.count.mean(dtype=np.float64)), float(s.count.max()), len(s))


@dataclass(frozen=True)
class QueueFlow:
    """A waiting area's citizens as the fit of its count sees them come and go (queue_flow)."""

    arrivals: list[float]  # sorted; people waiting at the first sample arrive then
    left: list[float]  # sorted: someone waiting left without a service start to explain it
    # the arrivals dated back over a walk that began after an observed quiet spell (walked_in_flow): seen
    # walking in, so a wait from them is whole even in the first seconds (wait_bounds)
    walked: frozenset[float] = frozenset()


def queue_flow(queue: ZoneSamples, starts: Iterable[float], miss_weight: float = 1.0,
               leave_s: float = math.inf) -> QueueFlow:
    """Arrivals and unserved departures from the waiting count and the service starts.

    The fitted number waiting q(t) is integer and changes only three ways: a service start takes one
    (or, with nobody waiting, is a citizen who walked straight to the counter: an arrival at the
    start), arrivals add any number at no cost, and a departure without service costs as much as
    leave_s seconds of one person missed (miss_weight * leave_s). A second's cost is how far the
    count lies from q, below it weighing miss_weight. The least-cost q is found by dynamic
    programming over runs of equal count without service starts (a change inside such a run is never
    cheaper than at its first second, so arrivals and departures are dated to a run's start). With
    leave_s infinite nobody leaves: the least-absolute-deviation non-decreasing fit of count + starts so
    far (tests/unit/test_analytics.py keeps that fit, fitted_arrivals, as its reference).
    """
    n = len(queue)
    if n == 0:
        return QueueFlow([], [])
    t = queue.t.astype(np.float64)
    y = np.floor(np.clip(queue.count.astype(np.float64), 0.0, None) + 0.5).astype(np.int64)
    start_t = np.sort(np.asarray(list(starts), np.float64))
    served = np.searchsorted(start_t, t, side="right")
    s = np.diff(served, prepend=served[0])  # starts in (previous sample, this sample]
    first = np.flatnonzero(np.concatenate(([True], (y[1:] != y[:-1]) | (s[1:] > 0))))
    weight = np.diff(np.append(first, n)).tolist()
    run_t, run_y, run_s, run_served = t[first].tolist(), y[first].tolist(), s[first].tolist(), served[first].tolist()
    top = int(y.max())
    levels = range(top + 1)
    leave = miss_weight * leave_s

    def cost(j: int) -> list[float]:
        return [weight[j] * ((run_y[j] - q) if run_y[j] > q else miss_weight * (q - run_y[j])) for q in levels]

    value = cost(0)
    back: list[list[int]] = []
    inf = math.inf
    for j in range(1, len(first)):
        k = run_s[j]
        # service: q -> max(0, q - k); of equal costs, the one with more served from the queue
        served_from = list(range(k, top + k + 1))
        after = [value[q + k] if q + k <= top else inf for q in levels]
        best0 = min(range(min(k, top) + 1), key=lambda q: (value[q], -q))
        after[0], served_from[0] = value[best0], best0
        # arrivals: any number, free; of equal costs, the earlier arrival (no new one now)
        came_from, low, arg = [], inf, 0
        for q in levels:
            if after[q] <= low:
                low, arg = after[q], q
            came_from.append(arg)
            after[q] = low
        # departures without service: leave per person; of equal costs, nobody leaving now
        left_from = list(levels)
        if leave < inf:
            low, arg = inf, top
            for q in reversed(levels):
                if after[q] + leave * q <= low:
                    low, arg = after[q] + leave * q, q
                left_from[q] = arg
                after[q] = low - leave * q
        here = cost(j)
        value = [after[q] + here[q] for q in levels]
        back.append([served_from[came_from[left_from[q]]] for q in levels])
    q = min(levels, key=lambda v: (value[v], v))
    path = [q]
    for b in reversed(back):
        q = b[q]
        path.append(q)
    path.reverse()
    arrivals = start_t[:served[0]].tolist() + [run_t[0]] * path[0]  # starts before the samples: walked in
    left: list[float] = []
    for j in range(1, len(first)):
        k, was = run_s[j], path[j - 1]
        net = path[j] - max(0, was - k)
        arrivals += start_t[run_served[j] - max(0, k - was):run_served[j]].tolist()  # walked straight in
        arrivals += [run_t[j]] * max(0, net)
        left += [run_t[j]] * max(0, -net)
    return QueueFlow(sorted(arrivals), left)


def walked_in(arrivals: Iterable[float], walking: ZoneSamples, max_s: float, pause_s: int,
              lag_s: int = 0, quiet_s: int = 0) -> list[float]:
    """Each arrival dated back to the start of the walk that ends at it (WALKING_ZONE samples).

    The walk is a run of seconds with someone walking (count > 0), pauses of up to pause_s seconds
    included, at most max_s long, ending just before the arrival's second or up to lag_s seconds
    before it (the count rises a while after the citizen has sat down: lag_s is that delay), or up to
    quiet_s seconds before it when every second since the walk was observed with nobody walking (the one
    found came with that walk). An arrival is never dated before the previous one (first in, first out);
    without walking samples it stays as it is.
    """
    return [a for a, _ in _walks(arrivals, walking, max_s, pause_s, lag_s, quiet_s)]


def _walks(arrivals: Iterable[float], walking: ZoneSamples, max_s: float, pause_s: int,
           lag_s: int, quiet_s: int = 0) -> list[tuple[float, bool]]:
    """walked_in's arrivals, each with whether it was seen walking in: its walk began after a quiet spell (no one
    walking for the pause_s + 1 seconds before it) observed after the first walking sample. Not so for a walk
    under way when observation began, or cut short by max_s or by the previous arrival."""
    moving = {int(t) for t, c in zip(walking.t.tolist(), walking.count.tolist(), strict=True) if c > 0}
    observed = {int(t) for t in walking.t.tolist()}
    first = int(walking.t[0]) if len(walking) else None
    out: list[tuple[float, bool]] = []
    floor = -math.inf
    near = max(lag_s, pause_s + 1)
    for a in sorted(arrivals):
        start = int(math.floor(a))
        end = next((start - g for g in range(1, max(near, quiet_s) + 1) if start - g in moving), None)
        if end is not None and start - end > near and not _watched(observed, end, start):
            end = None  # beyond the lag, the hall must have been seen still all along
        if end is None or end <= floor:
            out.append((a, False))
            floor = a
            continue
        b, quiet = end, False
        while True:
            step = next((g for g in range(1, pause_s + 2) if b - g in moving), None)
            quiet = step is None
            if quiet or end + 1 - (b - step) > max_s or b - step <= floor:
                break
            b -= step
        out.append((float(b), quiet and first is not None and b - (pause_s + 1) >= first and b - (pause_s + 1) > floor))
        floor = b
    return out


def _watched(observed: set[int], end: int, start: int) -> bool:
    """True when the walking samples cover every second strictly between end and start (none was missed)."""
    return all(t in observed for t in range(end + 1, start))


def _fifo(arrivals: Iterable[float], service_starts: Iterable[float],
          left: Iterable[float]) -> tuple[list[tuple[float, float, float]], list[float]]:
    """fifo_waits' matches and the arrivals still waiting after the last start and departure."""
    came, gone = sorted(arrivals), sorted(left)
    waiting: list[float] = []
    out: list[tuple[float, float, float]] = []
    i = j = 0

    def arrive(until: float) -> None:
        nonlocal i
        while i < len(came) and came[i] <= until:
            waiting.append(came[i])
            i += 1

    def depart(before: float) -> None:
        nonlocal j
        while j < len(gone) and gone[j] < before:
            arrive(gone[j])
            if waiting:
                waiting.pop((len(waiting) - 1) // 2)
            j += 1

    for start in sorted(service_starts):
        depart(start)
        arrive(start)
        if waiting:
            a = waiting.pop(0)
            out.append((a, start, start - a))
        else:
            out.append((start, start, 0.0))
    depart(math.inf)
    arrive(math.inf)
    return out, waiting


def fifo_waits(arrivals: Iterable[float], service_starts: Iterable[float],
               left: Iterable[float] = ()) -> list[tuple[float, float, float]]:
    """(arrival, start, wait) per service start, each taking the earliest unmatched arrival at or before it.

    A start with no such arrival (the citizen walked straight to the counter) gets wait 0 and
    arrival = start. Each departure without service (queue_flow's left, before a start at the same
    second) takes away one arrival still waiting then: the middle one of them, as counts cannot tell
    who left and the middle is never further than half the queue from the one who did. Arrivals
    never matched (left, or more arrivals than starts) are ignored.
    """
    return _fifo(arrivals, service_starts, left)[0]


def still_waiting(arrivals: Iterable[float], service_starts: Iterable[float], left: Iterable[float] = ()) -> list[float]:
    """The arrivals (sorted) neither matched to a start by fifo_waits nor taken away by a departure."""
    return _fifo(arrivals, service_starts, left)[1]


def walked_in_flow(queue: ZoneSamples, starts: Sequence[float], walking: ZoneSamples | None,
                   params: AnalyticsParams) -> QueueFlow:
    """The queue's flow (queue_flow against the service starts), each arrival dated back over the walk in."""
    flow = queue_flow(queue, starts, params.miss_weight, params.leave_s)
    came = _walks(flow.arrivals, walking if walking is not None else ZoneSamples.empty(),
                  params.walk_in_max_s, params.walk_pause_s, params.walk_lag_s, params.quiet_lag_s)
    return QueueFlow([a for a, _ in came], flow.left, frozenset(a for a, seen in came if seen))


def wait_bounds(matched: Iterable[tuple[float, float, float]], first_t: float, grace_s: float,
                walked: Collection[float] = ()) -> list[bool]:
    """For each (arrival, start, wait) of fifo_waits: True when the wait is only a lower bound.

    Arrivals within grace_s of the first sample are the people already waiting when observation
    began (the first analyses find them a few seconds in): their waits are lower bounds, and
    averaging them in pulls the mean down by however long they had waited before (seen_or_all leaves
    them out), unless they were seen walking in (walked: QueueFlow.walked).
    """
    return [waiting_from_before(a, first_t, grace_s, walked) for a, _, _ in matched]


def seen_or_all(waits: Sequence[float], lower: Sequence[bool]) -> list[float]:
    """The waits that are not lower bounds (lower[k]: waits[k] is one); all of them when every one is."""
    seen = [w for w, bound in zip(waits, lower, strict=True) if not bound]
    return seen or list(waits)


def waiting_from_before(arrival: float, first_t: float, grace_s: float = IN_PROGRESS_GRACE_S,
                        walked: Collection[float] = ()) -> bool:
    """True for an arrival found within grace_s of the first sample (first_t) and not seen walking in
    (QueueFlow.walked): someone already waiting when observation began, whose wait is only a lower bound."""
    return arrival <= first_t + grace_s and arrival not in walked


def seen_arriving(start: float, moved: Sequence[tuple[float, float]], params: AnalyticsParams = AnalyticsParams()) -> bool:
    """True when a session's citizen was seen arriving: the spot's `moved` samples ((second, share of its
    place that motion covered)) reach params.arrive_motion around the session's start (see AnalyticsParams)."""
    if params.arrive_motion is None:
        return False
    lo, hi = start - params.arrive_before_s, start + params.arrive_after_s
    return any(lo <= t <= hi and share >= params.arrive_motion for t, share in moved)


def left_unseen(end: float, moved: Sequence[tuple[float, float]], params: AnalyticsParams = AnalyticsParams()) -> bool:
    """True when a session's citizen was not seen leaving: the spot's `moved` samples ((second, share of its
    place that motion covered)) were measured around the session's end and none reaches params.arrive_motion.

    The mirror of seen_arriving: standing up and walking off follow the last sighting (the end) as walking up
    and sitting down precede the first, so the window runs from arrive_after_s before the end to
    arrive_before_s after it. False without samples there (nothing to judge by) or with arrive_motion None.
    """
    if params.arrive_motion is None:
        return False
    lo, hi = end - params.arrive_after_s, end + params.arrive_before_s
    around = [share for t, share in moved if lo <= t <= hi]
    return bool(around) and max(around) < params.arrive_motion


def median_age(durations: Iterable[float]) -> float | None:
    """How long a session found under way at an arbitrary moment has been going: the median of its age.

    Observing at a moment that does not depend on the sessions picks a long session more often than
    a short one (in proportion to its length), and catches it at a uniformly random point of it: the
    age A has the density P(D > a) / E[D] over the durations D of whole sessions (renewal theory).
    Its median m solves sum(min(d, m)) = sum(d) / 2, which minimises the mean absolute error of a
    start dated that far back (the mean age E[D^2] / (2 E[D]) would minimise the squared error).
    None without any positive duration.
    """
    d = np.sort(np.array([x for x in durations if x > 0], float))
    if not d.size:
        return None
    half, below = d.sum() / 2.0, 0.0
    for k, x in enumerate(d):  # m lies in [d[k-1], d[k]]: below + (n - k) * m = half
        m = (half - below) / (d.size - k)
        if m <= x:
            return float(m)
        below += x
    return float(d[-1])


def littles_law_wait(mean_queue: float, n_starts: int, window_s: float) -> float | None:
    """Mean wait W = L / lambda: mean queue over the service-start rate; None without starts or time."""
    if n_starts <= 0 or window_s <= 0:
        return None
    return mean_queue * window_s / n_starts


def utilisation(sessions: Iterable[Interval], periods: Iterable[Interval]) -> float:
    """Fraction (0..1) of open time spent in service; 0.0 when there is no open time."""
    periods = merge_intervals(periods, 0)
    open_s = total_duration(periods)
    if open_s <= 0:
        return 0.0
    return total_duration(intersect(sessions, periods)) / open_s


# ---------------------------------------------------------------- per counter


@dataclass(frozen=True)
class _Counter:
    """Everything derived from the samples once, before it is cut into windows."""

    sessions: list[Interval]
    waits: list[float] | None  # aligned with sessions; None without a waiting-area zone
    absences: list[Interval]
    queue: ZoneSamples | None
    periods: list[Interval]
    lower: list[bool] | None  # aligned with waits (None with them): the wait is a lower bound (shared_waits)


def shared_waits(starts: Mapping[str, Sequence[float]], queue: ZoneSamples, walking: ZoneSamples | None,
                 params: AnalyticsParams) -> tuple[dict[str, list[float]], QueueFlow, dict[str, list[bool]]]:
    """The waits of the service starts of every counter a waiting area serves, the area's flow, and which
    of the waits are only lower bounds.

    starts: per counter, its session starts; the waits come back per counter in the same order. The
    citizens of a waiting area are called to every counter it serves: arrivals are matched first in,
    first out over all their starts (walked_in_flow, fifo_waits), the starts of one second taken in
    the order the counters are given. A wait is a lower bound when its citizen was already waiting at
    the area's first sample (waiting_from_before), as wait_bounds has it.
    """
    order = sorted((t, rank, k) for rank, key in enumerate(starts) for k, t in enumerate(starts[key]))
    flat = [t for t, _, _ in order]
    flow = walked_in_flow(queue, flat, walking, params)
    keys = list(starts)
    waits = {key: [0.0] * len(starts[key]) for key in keys}
    lower = {key: [False] * len(starts[key]) for key in keys}
    matched = fifo_waits(flow.arrivals, flat, flow.left)
    bounds = wait_bounds(matched, float(queue.t[0]), IN_PROGRESS_GRACE_S, flow.walked) if len(queue.t) else [False] * len(matched)
    for (_, rank, k), (_, _, wait), bound in zip(order, matched, bounds, strict=True):
        waits[keys[rank]][k] = wait
        lower[keys[rank]][k] = bound
    return waits, flow, lower


def _analyse(
    spot: ZoneSamples,
    staff: ZoneSamples,
    queue: ZoneSamples | None,
    periods: Sequence[Interval],
    params: AnalyticsParams,
    walking: ZoneSamples | None,
    other_starts: Sequence[float] = (),
) -> _Counter:
    sessions = service_sessions(spot, staff, params.min_session_s, params.merge_gap_s, params.max_gap_s,
                                blind_join_s=params.blind_join_s, hidden_staff_s=params.hidden_staff_s)
    waits = lower = None
    if queue is not None:
        found, _, bounds = shared_waits({"own": [s.start for s in sessions], "others": other_starts}, queue, walking, params)
        waits, lower = found["own"], bounds["own"]
    periods = merge_intervals(periods, 0)
    gone = absences(staff, periods, params.min_absence_s, params.max_gap_s, spot, params.hidden_staff_s)
    return _Counter(sessions, waits, gone, queue, periods, lower)


def _starts_in(iv: Interval, window: Interval | None) -> bool:
    return window is None or window.start <= iv.start < window.end


def _opt(values: list[float], fn: Callable[[list[float]], float]) -> float | None:
    return float(fn(values)) if values else None


def _summarise(c: _Counter, window: Interval | None) -> CounterStats:
    keep = [k for k, s in enumerate(c.sessions) if _starts_in(s, window)]
    sessions = [c.sessions[k] for k in keep]
    times = [s.duration for s in sessions]
    waits: list[float] = []
    if c.waits is not None and c.lower is not None:
        waits = seen_or_all([c.waits[k] for k in keep], [c.lower[k] for k in keep])
    gone = [a for a in c.absences if _starts_in(a, window)]
    open_iv = c.periods if window is None else intersect(c.periods, [window])
    open_s = total_duration(open_iv)
    q = queue_stats(c.queue.select(open_iv)) if c.queue is not None else QueueStats(0.0, 0.0, 0)
    littles = littles_law_wait(q.mean, len(sessions), open_s) if q.samples else None
    return CounterStats(
        served=len(sessions),
        service_times=times,
        mean_service_s=_opt(times, np.mean),
        median_service_s=_opt(times, np.median),
        p90_service_s=_opt(times, lambda v: np.percentile(v, 90)),
        waits=waits,
        mean_wait_s=_opt(waits, np.mean),
        max_wait_s=_opt(waits, max),
        littles_wait_s=littles,
        mean_queue=q.mean,
        max_queue=q.max,
        absence_s=total_duration(gone),
        absences=gone,
        utilisation=utilisation(c.sessions, open_iv),
        sessions=sessions,
        open_s=open_s,
    )


def counter_stats(
    spot: ZoneSamples,
    staff: ZoneSamples,
    queue: ZoneSamples | None,
    periods: Sequence[Interval],
    *,
    params: AnalyticsParams = AnalyticsParams(),
    window: Interval | None = None,
    walking: ZoneSamples | None = None,
    other_starts: Sequence[float] = (),
) -> CounterStats:
    """Service, waiting, queue and absence statistics of one counter over one window.

    periods: the opening periods (or the whole video for offline analysis). They bound absences,
    the queue samples averaged, the Little's-law time base and utilisation.
    window: sessions and absences are counted only if they start in it, with their full length;
    pass samples reaching past the window (e.g. +-1 h) so a session crossing its end (midnight) is
    measured whole and one that started before it is not mistaken for a new one. None: count all.
    Utilisation is time-based: service time inside open time inside the window.
    Waits come from FIFO matching of waiting-area arrivals (dated back over the walk in with the
    camera's WALKING_ZONE samples, `walking`) to session starts; without a queue zone they are empty
    and the queue figures are zero. other_starts: the session starts of the other counters the same
    waiting area serves; the matching runs over all the starts (shared_waits).
    """
    return _summarise(_analyse(spot, staff, queue, periods, params, walking, other_starts), window)


def counter_day(
    spot: ZoneSamples,
    staff: ZoneSamples,
    queue: ZoneSamples | None,
    periods: Sequence[Interval],
    window: Interval,
    tz: ZoneInfo,
    *,
    params: AnalyticsParams = AnalyticsParams(),
    walking: ZoneSamples | None = None,
    other_starts: Sequence[float] = (),
) -> tuple[CounterStats, list[HourStats]]:
    """Counter statistics over the window (counter_stats) and for every local clock hour of it.

    Sessions, waits and absences are found once over all the samples, then attributed to the
    hour in which they start, so a session crossing an hour boundary is counted whole, once.
    Every hour of the window is listed; hours with open_s == 0 and served == 0 can be skipped.
    """
    counter = _analyse(spot, staff, queue, periods, params, walking, other_starts)
    first = datetime.fromtimestamp(window.start, tz).replace(minute=0, second=0, microsecond=0)
    out: list[HourStats] = []
    # Local hour boundaries are one hour apart in absolute time, DST changes included.
    h = first.timestamp()
    while h < window.end:
        hour_iv = Interval(max(h, window.start), min(h + HOUR_S, window.end))
        hour = datetime.fromtimestamp(h, tz).hour
        out.append(HourStats(h, hour, _summarise(counter, hour_iv)))
        h += HOUR_S
    return _summarise(counter, window), out
