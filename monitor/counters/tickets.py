"""Queue-ticket events: checking what a feed sends (one error line per bad row), and visits for the reports.

A row is what one request item or one CSV line carries: one or more events of one ticket. A row is
stored whole or not at all; good rows are kept whatever the others hold. Pure functions: the clock
(`now`) and the stored events come in as arguments.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from monitor.db.tickets import EVENTS, TicketEvent

__all__ = ["CheckContext", "CheckResult", "Row", "Visit", "agreement", "check_rows", "parse_time", "visits"]

CHAIN = ("issued", "called", "service_start", "service_end")  # times must not decrease along this
MATCH_S = 180.0  # a camera session and a ticket's service start further apart than this are not the same citizen


@dataclass(frozen=True)
class Row:
    """One row of input: a label for error lines ("row 3", "line 17") and its events as plain dicts."""

    label: str
    events: list[Mapping[str, Any]]


@dataclass
class CheckContext:
    """What rows are checked against."""

    feed: str
    counters: Sequence[str]
    fields: Sequence[str]  # empty: any field is accepted (no fields configured)
    tz: ZoneInfo
    now: float
    skew_s: float
    stored: list[TicketEvent] = field(default_factory=list)  # the feed's stored events of the rows' tickets


@dataclass
class CheckResult:
    """Events to store, rows already stored (resent), and one error line per rejected row."""

    good: list[TicketEvent] = field(default_factory=list)
    rows_ok: int = 0
    duplicates: int = 0
    errors: list[str] = field(default_factory=list)


class _Bad(ValueError):
    """A row's problem, worded for the error line."""


def parse_time(value: Any, tz: ZoneInfo) -> float:
    """Unix seconds from a number or an ISO 8601 text (without an offset: site time)."""
    if isinstance(value, bool) or value is None:
        raise _Bad(f"time {value!r} is not a time; send ISO 8601 (2026-11-24T08:05:00+07:00) or unix seconds")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise _Bad(f"time {value!r} is not a finite number")
        return float(value)
    try:
        dt = datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise _Bad(f"time {str(value)[:40]!r} is not ISO 8601 like 2026-11-24T08:05:00+07:00") from None
    return (dt if dt.tzinfo else dt.replace(tzinfo=tz)).timestamp()


def _text(value: Any, name: str, limit: int = 64) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise _Bad(f"{name} must be text, got {type(value).__name__}")
    text = str(value).strip()
    if len(text) > limit or not text.isprintable():
        raise _Bad(f"{name} {text[:20]!r}... must be at most {limit} printable characters")
    return text or None


def _event(raw: Mapping[str, Any], ctx: CheckContext) -> TicketEvent:
    if not isinstance(raw, Mapping):
        raise _Bad(f"expected an object with ticket, event and time, got {type(raw).__name__}")
    unknown = sorted(set(raw) - {"ticket", "event", "time", "number", "field", "counter"})
    if unknown:
        raise _Bad(f"unknown key {unknown[0]!r} (valid: ticket, event, time, number, field, counter)")
    ticket = _text(raw.get("ticket"), "ticket")
    if ticket is None:
        raise _Bad("ticket is missing")
    kind = raw.get("event")
    if kind not in EVENTS:
        raise _Bad(f"ticket {ticket}: event {kind!r} is not one of {', '.join(EVENTS)}")
    t = parse_time(raw.get("time"), ctx.tz)
    if t > ctx.now + ctx.skew_s:
        raise _Bad(f"ticket {ticket} {kind}: time {_clock(t, ctx.tz)} is {t - ctx.now:.0f} s in the future; "
                   f"the feed's clock is off by more than clock_skew_s={ctx.skew_s:g}")
    counter, fld = _text(raw.get("counter"), "counter"), _text(raw.get("field"), "field")
    if kind in ("called", "service_start", "service_end"):
        if counter is None:
            raise _Bad(f"ticket {ticket} {kind}: counter is missing")
        if counter not in ctx.counters:
            raise _Bad(f"ticket {ticket} {kind}: unknown counter {counter!r} (known: {', '.join(ctx.counters) or 'none'})")
    if kind == "issued" and fld is not None and ctx.fields and fld not in ctx.fields:
        raise _Bad(f"ticket {ticket} issued: unknown field {fld!r} (known: {', '.join(ctx.fields)})")
    return TicketEvent(ctx.feed, ticket, kind, t, _text(raw.get("number"), "number"), fld, counter)


def _clock(t: float, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(t, tz).strftime("%Y-%m-%d %H:%M:%S")


def _same(a: TicketEvent, b: TicketEvent) -> bool:
    return abs(a.t - b.t) < 0.5 and a.counter == b.counter and (a.field == b.field or b.field is None)


def _order(ticket: str, events: Mapping[str, TicketEvent], tz: ZoneInfo) -> None:
    """The ticket's events taken together make sense, or _Bad says the first thing that does not."""
    if "issued" not in events:
        first = next(iter(events))
        raise _Bad(f"ticket {ticket} {first}: out of order: no issued event for this ticket yet (send issued first)")
    present = [events[k] for k in CHAIN if k in events]
    for a, b in zip(present, present[1:]):
        if b.t < a.t:
            raise _Bad(f"ticket {ticket}: out of order: {b.event} at {_clock(b.t, tz)} is before {a.event} at {_clock(a.t, tz)}")
    counters = {e.counter for e in present if e.counter}
    if len(counters) > 1:
        raise _Bad(f"ticket {ticket}: its events name different counters ({', '.join(sorted(counters))})")
    if "service_end" in events and not ({"called", "service_start"} & set(events)):
        raise _Bad(f"ticket {ticket} service_end: out of order: neither called nor service_start came before it")
    if "no_show" in events and ({"service_start", "service_end"} & set(events)):
        raise _Bad(f"ticket {ticket} no_show: the ticket was served; a ticket is either served or a no-show")
    if "no_show" in events and events["no_show"].t < events["issued"].t:
        raise _Bad(f"ticket {ticket}: out of order: no_show is before issued")


def check_rows(rows: Iterable[Row], ctx: CheckContext) -> CheckResult:
    """Check rows in order against the stored events and the rows before them; see the module docstring."""
    state: dict[str, dict[str, TicketEvent]] = {}
    for e in ctx.stored:
        state.setdefault(e.ticket, {})[e.event] = e
    seen_in: dict[tuple[str, str], str] = {}  # (ticket, event) -> label of the row that brought it
    out = CheckResult()
    for row in rows:
        try:
            new, resent = _check_row(row, ctx, state, seen_in)
        except _Bad as err:
            out.errors.append(f"{row.label}: {err}")
            continue
        for e in new:
            state.setdefault(e.ticket, {})[e.event] = e
        for e in new + resent:  # a later row repeating these is a duplicate within the input
            seen_in[(e.ticket, e.event)] = row.label
        out.good += new
        out.rows_ok += 1
        out.duplicates += not new
    return out


def _check_row(row: Row, ctx: CheckContext, state: dict[str, dict[str, TicketEvent]],
               seen_in: dict[tuple[str, str], str]) -> tuple[list[TicketEvent], list[TicketEvent]]:
    """The row's new events and its events already stored (resent); _Bad if any event is wrong."""
    if not row.events:
        raise _Bad("no events in this row")
    events = [_event(raw, ctx) for raw in row.events]
    new: list[TicketEvent] = []
    resent: list[TicketEvent] = []
    merged = {t: dict(evs) for t, evs in state.items() if t in {e.ticket for e in events}}
    for e in events:
        if (e.ticket, e.event) in seen_in:
            raise _Bad(f"ticket {e.ticket} {e.event}: duplicate of {seen_in[(e.ticket, e.event)]}")
        if any(n.key == e.key for n in new):
            raise _Bad(f"ticket {e.ticket} {e.event}: the row holds this event twice")
        old = merged.get(e.ticket, {}).get(e.event)
        if old is not None:
            if not _same(old, e):
                raise _Bad(f"ticket {e.ticket} {e.event}: conflicts with the stored event "
                           f"(at {_clock(old.t, ctx.tz)}{', counter ' + old.counter if old.counter else ''})")
            resent.append(e)
            continue
        merged.setdefault(e.ticket, {})[e.event] = e
        new.append(e)
    for ticket in {e.ticket for e in new}:
        _order(ticket, merged[ticket], ctx.tz)
    return new, resent


# ---------------------------------------------------------------- visits and agreement


@dataclass(frozen=True)
class Visit:
    """One ticket's story: when it was taken, where and when it was served."""

    feed: str
    ticket: str
    field: str | None
    counter: str | None
    issued: float
    called: float | None
    start: float | None
    end: float | None
    no_show: bool

    @property
    def served_at(self) -> float | None:
        """When service began: service_start, else the call; None for a no-show or a ticket never called."""
        if self.no_show:
            return None
        return self.start if self.start is not None else self.called

    @property
    def wait_s(self) -> float | None:
        """From the kiosk to the start of service."""
        return None if self.served_at is None else self.served_at - self.issued

    @property
    def service_s(self) -> float | None:
        """From the start of service to its end."""
        return None if self.served_at is None or self.end is None else self.end - self.served_at


def visits(events: Iterable[TicketEvent]) -> list[Visit]:
    """A visit per issued ticket, sorted by issue time."""
    by: dict[tuple[str, str], dict[str, TicketEvent]] = {}
    for e in events:
        by.setdefault((e.feed, e.ticket), {})[e.event] = e
    out = []
    for (feed, ticket), evs in by.items():
        if "issued" not in evs:
            continue
        counter = next((evs[k].counter for k in ("service_start", "called", "service_end") if k in evs), None)
        t = {k: evs[k].t if k in evs else None for k in EVENTS}
        out.append(Visit(feed, ticket, evs["issued"].field, counter, evs["issued"].t, t["called"],
                         t["service_start"], t["service_end"], "no_show" in evs))
    return sorted(out, key=lambda v: (v.issued, v.ticket))


@dataclass(frozen=True)
class Agreement:
    """Camera against tickets for one counter over one window."""

    ticket_served: int
    camera_served: int
    matched: int
    wait_mae_s: float | None
    service_mae_s: float | None

    @property
    def served_diff(self) -> int:
        """Camera minus tickets: positive when the camera counts more."""
        return self.camera_served - self.ticket_served


def agreement(camera: Sequence[tuple[float, float, float | None]], tickets: Sequence[Visit]) -> Agreement:
    """Match camera sessions (start, duration, wait or None) to served tickets by start, nearest first within MATCH_S."""
    served = [v for v in tickets if v.served_at is not None]
    pairs = sorted((abs(c[0] - v.served_at), i, j) for i, c in enumerate(camera)  # type: ignore[operator]
                   for j, v in enumerate(served) if abs(c[0] - v.served_at) <= MATCH_S)  # type: ignore[operator]
    used_c: set[int] = set()
    used_t: set[int] = set()
    wait_err: list[float] = []
    service_err: list[float] = []
    for _, i, j in pairs:
        if i in used_c or j in used_t:
            continue
        used_c.add(i)
        used_t.add(j)
        start, duration, wait = camera[i]
        v = served[j]
        if wait is not None:
            wait_err.append(abs(wait - v.wait_s))  # type: ignore[operator]
        if v.service_s is not None:
            service_err.append(abs(duration - v.service_s))
    return Agreement(len(served), len(camera), len(used_c), _mae(wait_err), _mae(service_err))


def _mae(errors: list[float]) -> float | None:
    return float(np.mean(errors)) if errors else None
