"""Office-level analytics: counters whose zones lie on several cameras, queues summed over waiting areas.

Pure functions over per-second zone samples (monitor.records.ZoneSamples) keyed by (camera, zone),
built from the public functions of monitor.counters.analytics: a counter's service sessions are
the overlap of its seat and spot, wherever they are seen from; a queue's length is the sum of its
waiting areas' people estimates over the seconds that every one of them was observed; and the
waits of a queue are matched first-in first-out against the service starts of all the counters it
feeds, in start order.

Window attribution follows analytics.py: a session, wait or absence belongs to the window in which
it starts, with its full length.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from monitor.counters.analytics import (
    AnalyticsParams,
    CounterStats,
    absences,
    intersect,
    littles_law_wait,
    queue_stats,
    seen_or_all,
    service_sessions,
    shared_waits,
    staff_hidden,
    total_duration,
    utilisation,
)
from monitor.detect.walkers import WALKING_ZONE
from monitor.records import Interval, ZoneSamples, merge_intervals
from monitor.site.office import Office

__all__ = ["OfficeAnalysis", "analyse_office", "counter_window", "field_window", "hour_windows",
           "queue_samples", "queue_window", "walking_keys"]

Key = tuple[str, str]  # (camera, zone)
HOUR_S = 3600
OCCUPIED_FROM = 0.5  # a summed people estimate of half a person or more counts as someone waiting


@dataclass(frozen=True)
class OfficeAnalysis:
    """Everything found once over a stretch of samples, before it is cut into windows."""

    office: Office
    sessions: dict[str, list[Interval]]  # per counter id
    waits: dict[str, list[float] | None]  # aligned with sessions; None: no queue feeds the counter
    absences: dict[str, list[Interval]]
    queues: dict[str, ZoneSamples]  # summed samples per queue id
    periods: list[Interval]
    observed: dict[str, np.ndarray]  # per counter: the seconds its seat or spot has a sample (sorted)
    left: dict[str, list[float]] = field(default_factory=dict)  # per queue id: when a citizen left unserved
    hidden: frozenset[str] = frozenset()  # counter ids whose staff seat the camera does not see (analytics.staff_hidden)
    # per counter, aligned with waits: the citizen was already waiting at the queue's first sample, so the
    # wait is only a lower bound (analytics.shared_waits); left out of the figures unless every one is
    lower: dict[str, list[bool]] = field(default_factory=dict)

    def lower_bound(self, counter_id: str, k: int) -> bool:
        """True when the k-th session's wait is only a lower bound (its citizen waited from before the first sample)."""
        flags = self.lower.get(counter_id, [])
        return k < len(flags) and flags[k]

    def wait_known(self, counter_id: str, k: int) -> float | None:
        """The k-th session's wait, None when it has none or only a lower bound of it."""
        waits = self.waits.get(counter_id)
        if waits is None or k >= len(waits) or self.lower_bound(counter_id, k):
            return None
        return waits[k]

    def left_unserved(self, queue_ids: Sequence[str], window: Interval) -> int:
        """How many citizens left these queues without being served, in the window (analytics.queue_flow)."""
        return sum(1 for q in queue_ids for t in self.left.get(q, []) if window.start <= t < window.end)

    def seen(self, counter_ids: Sequence[str], window: Interval) -> bool:
        """Whether the seat or spot of any of these counters has a sample inside the window."""
        for cid in counter_ids:
            t = self.observed[cid]
            if int(np.searchsorted(t, window.end)) > int(np.searchsorted(t, window.start)):
                return True
        return False


def walking_keys(areas: Sequence[Key]) -> list[Key]:
    """The WALKING_ZONE samples of the cameras that see these waiting areas (where their arrivals walk in)."""
    return [(cam, WALKING_ZONE) for cam in dict.fromkeys(cam for cam, _ in areas)]


def queue_samples(areas: Sequence[ZoneSamples]) -> ZoneSamples:
    """Per-second sum of the areas' people estimates, over the seconds that all of them observed.

    A second one camera missed is left out rather than summed short: a hall camera offline for a
    minute must not look like an empty hall.
    """
    if not areas:
        return ZoneSamples.empty()
    t = areas[0].t
    for a in areas[1:]:
        t = np.intersect1d(t, a.t, assume_unique=True)
    count = np.zeros(t.shape, np.float64)
    for a in areas:
        count += a.count[np.searchsorted(a.t, t)]
    return ZoneSamples(t, count >= OCCUPIED_FROM, count.astype(np.float32))


def analyse_office(
    office: Office,
    samples: Mapping[Key, ZoneSamples],
    periods: Sequence[Interval],
    params: AnalyticsParams = AnalyticsParams(),
) -> OfficeAnalysis:
    """Sessions and absences per counter, summed queues, and waits matched FIFO per queue across its counters."""
    def get(key: Key) -> ZoneSamples:
        return samples.get(key) or ZoneSamples.empty()

    periods = merge_intervals(periods, 0)
    sessions = {c.id: service_sessions(get(c.spot), get(c.seat), params.min_session_s, params.merge_gap_s,
                                       params.max_gap_s, blind_join_s=params.blind_join_s,
                                       hidden_staff_s=params.hidden_staff_s) for c in office.counters}
    gone = {c.id: absences(get(c.seat), periods, params.min_absence_s, params.max_gap_s, get(c.spot), params.hidden_staff_s)
            for c in office.counters}
    waits: dict[str, list[float] | None] = {c.id: None for c in office.counters}
    lower: dict[str, list[bool]] = {}
    queues: dict[str, ZoneSamples] = {}
    left: dict[str, list[float]] = {}
    for q in office.queues:
        queues[q.id] = summed = queue_samples([get(a) for a in q.areas])
        by_counter = {cid: [s.start for s in sessions.get(cid, [])] for cid in sorted(q.counters)}
        found, flow, bounds = shared_waits(by_counter, summed, queue_samples([get(k) for k in walking_keys(q.areas)]), params)
        waits.update(found)
        lower.update(bounds)
        left[q.id] = flow.left
    observed = {c.id: np.union1d(get(c.seat).t, get(c.spot).t) for c in office.counters}
    hidden = frozenset(c.id for c in office.counters
                       if staff_hidden(get(c.spot), get(c.seat), params.hidden_staff_s, params.max_gap_s))
    return OfficeAnalysis(office, sessions, waits, gone, queues, periods, observed, left, hidden, lower)


def _starts_in(iv: Interval, window: Interval) -> bool:
    return window.start <= iv.start < window.end


def _opt(values: list[float], fn: Callable[[list[float]], Any]) -> float | None:
    return float(fn(values)) if values else None


def _stats(a: OfficeAnalysis, counter_ids: Sequence[str], queue_ids: Sequence[str], window: Interval) -> CounterStats:
    """One CounterStats over a group of counters (one counter, or a field) and the queues that feed them."""
    sessions: list[Interval] = []
    waits: list[float] = []
    lower: list[bool] = []
    gone: list[Interval] = []
    for cid in counter_ids:
        keep = [k for k, s in enumerate(a.sessions[cid]) if _starts_in(s, window)]
        sessions += [a.sessions[cid][k] for k in keep]
        matched = a.waits[cid]
        if matched is not None:
            waits += [matched[k] for k in keep]
            lower += [a.lower_bound(cid, k) for k in keep]
        gone += [g for g in a.absences[cid] if _starts_in(g, window)]
    waits = seen_or_all(waits, lower)
    open_iv = intersect(a.periods, [window])
    open_s = total_duration(open_iv)
    means, maxes, seen = [], [], 0
    for qid in queue_ids:
        q = queue_stats(a.queues[qid].select(open_iv))
        means.append(q.mean)
        maxes.append(q.max)
        seen += q.samples
    times = [s.duration for s in sessions]
    busy = [utilisation(a.sessions[cid], open_iv) for cid in counter_ids]
    mean_queue = float(sum(means))
    return CounterStats(
        served=len(sessions), service_times=times,
        mean_service_s=_opt(times, np.mean), median_service_s=_opt(times, np.median),
        p90_service_s=_opt(times, lambda v: np.percentile(v, 90)),
        waits=waits, mean_wait_s=_opt(waits, np.mean), max_wait_s=_opt(waits, max),
        littles_wait_s=littles_law_wait(mean_queue, len(sessions), open_s) if seen else None,
        mean_queue=mean_queue, max_queue=float(sum(maxes)),
        absence_s=total_duration(gone), absences=gone,
        utilisation=float(np.mean(busy)) if busy else 0.0,
        sessions=sorted(sessions), open_s=open_s,
    )


def counter_window(a: OfficeAnalysis, counter_id: str, window: Interval) -> CounterStats:
    """One counter over a window; its queue's length and its own waits."""
    counter = a.office.counter(counter_id)
    if counter is None:
        raise KeyError(counter_id)
    return _stats(a, [counter_id], [counter.queue] if counter.queue else [], window)


def field_window(a: OfficeAnalysis, field: str, window: Interval) -> CounterStats:
    """All the counters of a field together; the queue figures sum the distinct queues feeding them."""
    ids = [c.id for c in a.office.counters if c.field == field]
    queues = list(dict.fromkeys(c.queue for c in a.office.counters if c.field == field and c.queue))
    return _stats(a, ids, queues, window)


def queue_window(a: OfficeAnalysis, queue_id: str, window: Interval) -> CounterStats:
    """A queue over a window: the citizens it sent to its counters (served, waits, service) and its length."""
    queue = next(q for q in a.office.queues if q.id == queue_id)
    return _stats(a, list(queue.counters), [queue_id], window)


def hour_windows(window: Interval, tz: ZoneInfo) -> Iterator[tuple[int, Interval]]:
    """(local hour, span) for every local clock hour of the window; one hour apart in absolute time, DST included."""
    h = datetime.fromtimestamp(window.start, tz).replace(minute=0, second=0, microsecond=0).timestamp()
    while h < window.end:
        yield datetime.fromtimestamp(h, tz).hour, Interval(max(h, window.start), min(h + HOUR_S, window.end))
        h += HOUR_S
