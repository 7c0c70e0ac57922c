"""The live state the alert rules look at, read from the database: recent samples of each counter's zones,
the cameras' health and today's opening periods.

Counters are the cameras' counters (the i-th service_spot with the i-th staff_seat, the first
waiting_area as queue) until the office model names them: `counter_specs` is the one place to
change for that, the rules only see CounterLive records.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import sqlite_utils

from monitor.counters.reports import counters as camera_counters
from monitor.db.store import camera_states, zone_samples
from monitor.ops.health import camera_health
from monitor.ops.rules import CounterLive, LiveState
from monitor.records import ZoneSamples
from monitor.site.config import Config

log = logging.getLogger(__name__)

MAX_LOOKBACK_S = 5 * 3600  # the longest opening period we expect; rules look back to its start at most


@dataclass(frozen=True)
class CounterSpec:
    """Where a counter's zones are: (camera, zone) for the seat and the spot, and the queue's areas."""

    id: str
    name: str
    seat: tuple[str, str]
    spot: tuple[str, str]
    queue: tuple[tuple[str, str], ...]


def counter_specs(config: Config) -> list[CounterSpec]:
    """The counters the rules watch: one per service_spot/staff_seat pair of each enabled camera."""
    out = []
    for cam in config.cameras:
        if not cam.enabled:
            continue
        pairs = camera_counters(cam)
        for c in pairs:
            cid = cam.id if len(pairs) == 1 else f"{cam.id}-{c.spot}"
            name = cam.name if len(pairs) == 1 else f"{cam.name} / {c.spot}"
            out.append(CounterSpec(cid, name, (cam.id, c.seat), (cam.id, c.spot),
                                   ((cam.id, c.queue),) if c.queue else ()))
    return out


def _queue(db: sqlite_utils.Database, areas: tuple[tuple[str, str], ...], t0: float, t1: float) -> ZoneSamples | None:
    """The waiting count of a queue: its areas' counts summed over the seconds all of them were seen."""
    if not areas:
        return None
    parts = [zone_samples(db, cam, zone, t0, t1) for cam, zone in areas]
    if len(parts) == 1:
        return parts[0]
    t = functools.reduce(np.intersect1d, [p.t for p in parts])
    count = np.sum([p.count[np.searchsorted(p.t, t)] for p in parts], axis=0, dtype=np.float32)
    return ZoneSamples(t, count > 0, count)


def read_live_state(config: Config, db: sqlite_utils.Database, now: float,
                    specs: list[CounterSpec] | None = None) -> LiveState:
    """The counters' samples since the current opening period began, camera health and today's periods."""
    tz = config.site.tz
    spans = tuple(config.site.opening_hours.spans(datetime.fromtimestamp(now, tz).date(), tz))
    cameras = tuple(camera_health(config, camera_states(db), now))
    current = next((s for s in spans if s.start <= now < s.end), None)
    counters: list[CounterLive] = []
    if current is not None:
        t0, t1 = max(current.start, now - MAX_LOOKBACK_S), now + 1
        for spec in counter_specs(config) if specs is None else specs:
            seat = zone_samples(db, *spec.seat, t0, t1)
            spot = zone_samples(db, *spec.spot, t0, t1)
            counters.append(CounterLive(spec.id, spec.name, spec.seat[0], seat, spot, _queue(db, spec.queue, t0, t1)))
    return LiveState(tuple(counters), cameras, spans, config.alerts.offline_after_s)
