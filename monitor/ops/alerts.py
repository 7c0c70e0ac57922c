"""The alert engine: evaluates the rules (monitor/ops/rules.py) over the live state, opens each alert once,
keeps its value and peak while its condition holds, closes it when the condition ends, stores it
(the alerts table) and hands it to the sinks (webhook, MQTT, e-mail; monitor/ops/delivery.py)."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from monitor.db import alerts as table
from monitor.db.alerts import AlertRecord
from monitor.db.store import connect
from monitor.ops.delivery import AlertEvent, Sink, make_sinks
from monitor.ops.livestate import SampleCache, enabled_office, read_live_state
from monitor.ops.rules import Finding, LiveState, evaluate, oldest_wait
from monitor.site.office import Office, office_of
from monitor.site.config import Config

log = logging.getLogger(__name__)

CHECK_EVERY_S = 15.0  # the shortest thresholds are minutes; a 15 s step raises an alert at most 15 s late


@dataclass(frozen=True)
class Changes:
    """What one evaluation changes: findings to open, open alerts with a new value, alerts to close."""

    opened: list[Finding] = field(default_factory=list)
    updated: list[tuple[AlertRecord, Finding]] = field(default_factory=list)
    closed: list[AlertRecord] = field(default_factory=list)


def track(open_alerts: Iterable[AlertRecord], findings: Sequence[Finding]) -> Changes:
    """Compare the open alerts with the findings now: new conditions open, gone ones close, the rest update."""
    by_key = {a.key: a for a in open_alerts}
    now_keys = {(f.rule, f.subject) for f in findings}
    out = Changes(closed=[a for k, a in by_key.items() if k not in now_keys])
    for f in findings:
        alert = by_key.get((f.rule, f.subject))
        if alert is None:
            out.opened.append(f)
        elif f.value != alert.value:
            out.updated.append((alert, f))
    return out


def counter_states(state: LiveState, open_alerts: Iterable[AlertRecord], now: float) -> dict[str, dict[str, Any]]:
    """Each counter's state for MQTT: seat taken, people waiting, the longest wait and the open alerts' rules
    (its own, and its queue's)."""
    rules: dict[str, list[str]] = {}
    for a in open_alerts:
        if a.rule in ("queue_long", "long_wait"):
            for q in state.queues:
                if q.id == a.subject:
                    for c in q.counters:
                        rules.setdefault(c.id, []).append(a.rule)
        else:
            rules.setdefault(a.subject, []).append(a.rule)
    queue_of = {c.id: q for q in state.queues for c in q.counters}
    out = {}
    for c in state.counters:
        seen = len(c.seat) > 0 and c.seat.t[-1] >= now - 10
        queue = int(c.queue.count[-1] + 0.5) if c.queue is not None and len(c.queue) else None
        arrived = oldest_wait(queue_of[c.id], now) if c.id in queue_of else None
        out[c.id] = {"counter": c.id, "name": c.name, "camera": c.camera,
                     "staffed": bool(c.seat.occupied[-1]) if seen else None, "queue": queue,
                     "wait_min": round((now - arrived) / 60, 1) if arrived is not None else None,
                     "alerts": sorted(rules.get(c.id, []))}
    return out


def subject_name(config: Config, alert: AlertRecord, office: Office | None = None) -> str:
    """The human name of an alert's camera, queue or counter (its id when it is no longer configured)."""
    if alert.rule == "camera_offline":
        return next((c.name for c in config.cameras if c.id == alert.subject), alert.subject)
    office = office if office is not None else office_of(config)
    places = office.queues if alert.rule in ("queue_long", "long_wait") else office.counters
    return next((p.name for p in places if p.id == alert.subject), alert.subject)


class AlertMonitor:
    """Run by the supervisor: every CHECK_EVERY_S reads the live state, applies the rules, stores and sends alerts."""

    def __init__(self, config: Config, clock: Callable[[], float] = time.time, sinks: list[Sink] | None = None):
        self.config, self.clock = config, clock
        self.sinks = make_sinks(config) if sinks is None else sinks
        self.next_check = 0.0
        self.last_states: dict[str, dict[str, Any]] = {}
        self._office: tuple[Config, Office] | None = None
        self.samples = SampleCache()  # each check reads only the seconds stored since the last one

    def office(self) -> Office:
        """The counters and queues of the config in force (worked out once per config)."""
        if self._office is None or self._office[0] is not self.config:
            self._office = (self.config, enabled_office(self.config))
        return self._office[1]

    def check(self) -> Changes | None:
        """At most every CHECK_EVERY_S: one evaluation; None when not due or the database cannot be read."""
        now = self.clock()
        if now < self.next_check:
            return None
        self.next_check = now + CHECK_EVERY_S
        return self.run(now)

    def run(self, now: float) -> Changes | None:
        """One evaluation at `now` (the supervisor's AlertJob calls this); None when the database fails."""
        try:
            return self.evaluate(now)
        except sqlite3.Error as err:  # a locked or missing database: try again at the next check
            log.warning("alerts: cannot read or store alerts: %s", err)
            return None

    def evaluate(self, now: float) -> Changes:
        """Read, evaluate, store and announce at `now`."""
        db = connect(self.config.storage.database, readonly=True)
        try:
            state = read_live_state(self.config, db, now, self.office(), self.samples)
            current = table.open_alerts(db)
        finally:
            db.conn.close()
        changes = track(current, evaluate(self.config.alerts.rules, state, now))
        opened, closed = self.store(changes, now)
        for alert in opened:
            self.announce(AlertEvent("raised", alert, self.name_of(alert)))
        for alert in closed:
            self.announce(AlertEvent("closed", alert, self.name_of(alert)))
        gone = {a.id for a in closed}
        self.publish_states(counter_states(state, [*(a for a in current if a.id not in gone), *opened], now))
        return changes

    def store(self, changes: Changes, now: float) -> tuple[list[AlertRecord], list[AlertRecord]]:
        """Write the changes in one transaction; returns the alerts opened and closed as stored."""
        if not (changes.opened or changes.updated or changes.closed):
            return [], []
        db = connect(self.config.storage.database)
        try:
            with db.atomic():
                opened = [
                    AlertRecord(table.open_alert(db, f.rule, f.subject, f.camera, f.since, now, f.value),
                                f.rule, f.subject, f.camera, f.since, now, None, f.value, f.value)
                    for f in changes.opened]
                for alert, f in changes.updated:
                    table.update_alert(db, alert.id, f.value)
                for alert in changes.closed:
                    table.close_alert(db, alert.id, now)
        finally:
            db.conn.close()
        return opened, [replace(a, end=now) for a in changes.closed]

    def name_of(self, alert: AlertRecord) -> str:
        """The human name of an alert's counter or camera."""
        return subject_name(self.config, alert, self.office())

    def announce(self, event: AlertEvent) -> None:
        """One log line, and every sink."""
        a = event.alert
        if event.kind == "raised":
            log.warning("%s (%s): ALERT %s, value %.1f (since %.0f s)", a.subject, event.name, a.rule, a.value,
                        a.raised - a.start)
        else:
            log.warning("%s (%s): %s over after %.0f s, peak %.1f", a.subject, event.name, a.rule,
                        (a.end or a.raised) - a.start, a.peak)
        for sink in self.sinks:
            sink.send(event)

    def publish_states(self, states: dict[str, dict[str, Any]]) -> None:
        """The counters whose state changed since the last check, to every sink."""
        changed = {cid: s for cid, s in states.items() if self.last_states.get(cid) != s}
        self.last_states = states
        if changed:
            for sink in self.sinks:
                sink.states(changed)

    def close(self) -> None:
        for sink in self.sinks:
            sink.close()
