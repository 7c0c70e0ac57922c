"""The live state the alert rules look at, read from the database: recent samples of each counter's seat
and spot and of each queue, the cameras' health and today's opening periods.

Counters and queues come from the office model (monitor/site/office.py): the named `counters:` and
`queues:` of cameras.yaml, or, without them, each camera's counters derived from its zones.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import datetime

import numpy as np
import sqlite_utils

from monitor.counters.site import walking_keys
from monitor.db.store import camera_states, zone_samples
from monitor.db.tickets import TicketEvent, ticket_events
from monitor.ops.health import camera_health
from monitor.ops.rules import CounterLive, LiveState, QueueLive
from monitor.records import ZoneSamples
from monitor.site.config import Config
from monitor.site.office import Office, office_of

log = logging.getLogger(__name__)

MAX_LOOKBACK_S = 5 * 3600  # the longest opening period we expect; rules look back to its start at most
REREAD_S = 60  # seconds re-read at each refresh: samples the writer stored late (a batch, a resend) are picked up


class SampleCache:
    """Each zone's samples of the current window, kept between evaluations: a refresh reads only the new seconds."""

    def __init__(self) -> None:
        self.zones: dict[tuple[str, str], ZoneSamples] = {}

    def read(self, db: sqlite_utils.Database, camera: str, zone: str, t0: float, t1: float) -> ZoneSamples:
        """The zone's samples with t0 <= t < t1, reading from the database only past what is kept."""
        kept = self.zones.get((camera, zone))
        if kept is None or len(kept) == 0 or kept.t[0] > t0 + REREAD_S or kept.t[-1] < t0:
            fresh = zone_samples(db, camera, zone, t0, t1)
        else:
            since = max(float(kept.t[-1]) - REREAD_S, t0)
            new = zone_samples(db, camera, zone, since, t1)
            old = kept.window(t0, since)
            fresh = ZoneSamples(np.concatenate([old.t, new.t]), np.concatenate([old.occupied, new.occupied]),
                                np.concatenate([old.count, new.count]))
        self.zones[(camera, zone)] = fresh
        return fresh


def enabled_office(config: Config) -> Office:
    """The office of the config, without the counters and queues whose cameras are all disabled."""
    off = {c.id for c in config.cameras if not c.enabled}
    office = office_of(config)
    counters = tuple(c for c in office.counters if c.seat[0] not in off)
    queues = tuple(q for q in office.queues if any(cam not in off for cam, _ in q.areas))
    return Office(counters, queues, office.derived)


def queue_samples(read: Reader, areas: tuple[tuple[str, str], ...], t0: float, t1: float) -> ZoneSamples:
    """A queue's people count: its areas' counts summed over the seconds all of them were seen."""
    parts = [read(cam, zone, t0, t1) for cam, zone in areas]
    if len(parts) == 1:
        return parts[0]
    t = functools.reduce(np.intersect1d, [p.t for p in parts])
    count = np.sum([p.count[np.searchsorted(p.t, t)] for p in parts], axis=0, dtype=np.float32)
    return ZoneSamples(t, count > 0, count)


Reader = Callable[[str, str, float, float], ZoneSamples]


DONE = ("called", "service_start", "service_end", "no_show")  # a ticket with any of these is no longer waiting


def waiting_tickets(events: list[TicketEvent], office: Office, now: float) -> dict[str, tuple[float, ...]]:
    """Per queue, the issue times of the tickets issued by now and not yet called, for queues with tickets today.

    A ticket belongs to the queue whose counters serve its field; without fields, a one-queue
    office takes every ticket. Tickets that fit no queue are left out.
    """
    fields = {q.id: {c.field for c in office.counters if c.id in q.counters and c.field} for q in office.queues}
    issued: dict[tuple[str, str], TicketEvent] = {}
    done: set[tuple[str, str]] = set()
    for e in events:
        if e.t > now:
            continue
        if e.event == "issued":
            issued[(e.feed, e.ticket)] = e
        elif e.event in DONE:
            done.add((e.feed, e.ticket))
    out: dict[str, list[float]] = {}
    for key, e in issued.items():
        queue = next((qid for qid, f in fields.items() if e.field and e.field in f), None)
        if queue is None and len(office.queues) == 1:
            queue = office.queues[0].id
        if queue is not None:
            out.setdefault(queue, [])
            if key not in done:
                out[queue].append(e.t)
    return {qid: tuple(sorted(ts)) for qid, ts in out.items()}


def read_live_state(config: Config, db: sqlite_utils.Database, now: float, office: Office | None = None,
                    cache: SampleCache | None = None) -> LiveState:
    """The counters' and queues' samples since the current opening period began, camera health, today's periods."""
    tz = config.site.tz
    spans = tuple(config.site.opening_hours.spans(datetime.fromtimestamp(now, tz).date(), tz))
    cameras = tuple(camera_health(config, camera_states(db), now))
    current = next((s for s in spans if s.start <= now < s.end), None)
    if current is None:
        return LiveState((), (), cameras, spans, config.alerts.offline_after_s)
    office = enabled_office(config) if office is None else office
    t0, t1 = max(current.start, now - MAX_LOOKBACK_S), now + 1
    cache = SampleCache() if cache is None else cache

    def read(camera: str, zone: str, a: float, b: float) -> ZoneSamples:
        return cache.read(db, camera, zone, a, b)

    counts = {q.id: queue_samples(read, q.areas, t0, t1) for q in office.queues}
    counters = tuple(
        CounterLive(c.id, c.name, c.seat[0], read(*c.seat, t0, t1), read(*c.spot, t0, t1),
                    counts.get(c.queue) if c.queue else None)
        for c in office.counters)
    by_id = {c.id: c for c in counters}
    day_start = datetime.combine(datetime.fromtimestamp(now, tz).date(), datetime.min.time(), tz).timestamp()
    tickets = waiting_tickets(ticket_events(db, day_start, now + 1), office, now)
    queues = tuple(QueueLive(q.id, q.name, q.areas[0][0], counts[q.id],
                             tuple(by_id[cid] for cid in q.counters if cid in by_id), tickets.get(q.id),
                             queue_samples(read, tuple(walking_keys(q.areas)), t0, t1))
                   for q in office.queues)
    return LiveState(counters, queues, cameras, spans, config.alerts.offline_after_s)
