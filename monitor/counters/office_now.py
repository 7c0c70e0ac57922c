"""The office right now: who waits in each queue and the current wait, from tickets when a queue has them today.

Pure functions over an OfficeAnalysis of today and today's ticket visits, with the clock passed in.
The current wait of a queue is the mean wait of the citizens whose service began in the last
RECENT_S seconds: measured from the tickets (issue to service start or call) when the queue has
tickets today, else from the cameras (arrivals matched first-in first-out to service starts).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from monitor.counters.analytics import seen_or_all
from monitor.counters.site import OfficeAnalysis
from monitor.counters.tickets import Visit
from monitor.site.office import Office

__all__ = ["RECENT_S", "QueueNow", "queue_now", "queue_of_visit"]

RECENT_S = 1800  # half an hour of served citizens: enough to average over, recent enough to be "now"


@dataclass(frozen=True)
class QueueNow:
    """A queue's current wait and its waiting tickets (None where tickets say nothing today)."""

    wait_s: float | None  # mean wait of the citizens served in the last RECENT_S; None: nobody served
    source: str  # "tickets" or "camera"
    served_recently: int
    tickets_waiting: int | None  # issued, not yet called nor a no-show
    oldest_ticket_s: float | None  # how long the first waiting ticket has waited


def queue_of_visit(office: Office, visit: Visit) -> str | None:
    """The queue a ticket waited in: its counter's queue, else the queue feeding its field, else the only queue."""
    if visit.counter is not None:
        counter = office.counter(visit.counter)
        if counter is not None:
            return counter.queue
    if visit.field is not None:
        for c in office.counters:
            if c.field == visit.field and c.queue is not None:
                return c.queue
    return office.queues[0].id if len(office.queues) == 1 else None


def queue_now(a: OfficeAnalysis, queue_id: str, tickets: Sequence[Visit], now: float) -> QueueNow:
    """The current wait of one queue and its waiting tickets."""
    mine = [v for v in tickets if queue_of_visit(a.office, v) == queue_id and v.issued <= now]
    if mine:
        served = [v.wait_s for v in mine if v.served_at is not None and now - RECENT_S < v.served_at <= now]
        waiting = [v for v in mine if v.called is None and v.start is None and not v.no_show]
        oldest = now - min(v.issued for v in waiting) if waiting else None
        waits = [w for w in served if w is not None]
        return QueueNow(float(np.mean(waits)) if waits else None, "tickets", len(served), len(waiting), oldest)
    queue = next(q for q in a.office.queues if q.id == queue_id)
    waits: list[float] = []
    lower: list[bool] = []
    for cid in queue.counters:
        matched = a.waits.get(cid) or []
        recent = [k for k, s in enumerate(a.sessions.get(cid, [])) if now - RECENT_S < s.start <= now and k < len(matched)]
        waits += [matched[k] for k in recent]
        lower += [a.lower_bound(cid, k) for k in recent]
    served = len(waits)
    waits = seen_or_all(waits, lower)
    return QueueNow(float(np.mean(waits)) if waits else None, "camera", served, None, None)
