"""Queue-ticket events in SQLite (migration 010): storing checked events and reading them back by time."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import sqlite_utils

__all__ = ["EVENTS", "TicketEvent", "insert_ticket_events", "stored_events", "ticket_events", "m010_tickets"]

# The life of a ticket, in order: taken at the kiosk, called to a counter, served, done; or not present when called.
EVENTS = ("issued", "called", "service_start", "service_end", "no_show")


@dataclass(frozen=True)
class TicketEvent:
    """One event of one ticket of one feed; unique by (feed, ticket, event)."""

    feed: str
    ticket: str  # unique within the feed (a kiosk whose numbers restart daily prefixes the day)
    event: str  # one of EVENTS
    t: float  # unix seconds
    number: str | None = None  # the number printed on the ticket, for display
    field: str | None = None  # issued: the field the citizen came for
    counter: str | None = None  # called / service_start / service_end: the counter id

    @property
    def key(self) -> tuple[str, str, str]:
        """(feed, ticket, event): what makes a resent event a duplicate."""
        return (self.feed, self.ticket, self.event)


def m010_tickets(db: sqlite_utils.Database) -> None:
    """Migration 010: the ticket_events table, one row per (feed, ticket, event), read by time."""
    db.execute(
        "CREATE TABLE ticket_events ("
        " feed TEXT NOT NULL, ticket TEXT NOT NULL, event TEXT NOT NULL, t REAL NOT NULL,"
        " number TEXT, field TEXT, counter TEXT, received REAL NOT NULL,"
        " PRIMARY KEY (feed, ticket, event)) WITHOUT ROWID"
    )
    db.execute("CREATE INDEX idx_ticket_events_t ON ticket_events (t)")


def insert_ticket_events(db: sqlite_utils.Database, events: Iterable[TicketEvent], now: float | None = None) -> int:
    """Store events in one transaction; ones already stored (same key) are left as they are. Returns the rows added."""
    received = time.time() if now is None else now
    rows = [(e.feed, e.ticket, e.event, e.t, e.number, e.field, e.counter, received) for e in events]
    with db.conn:
        before = db.conn.total_changes
        db.conn.executemany(
            "INSERT OR IGNORE INTO ticket_events (feed, ticket, event, t, number, field, counter, received)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        return db.conn.total_changes - before


def _event(row: Any) -> TicketEvent:
    return TicketEvent(row[0], row[1], row[2], row[3], row[4], row[5], row[6])


_COLUMNS = "feed, ticket, event, t, number, field, counter"


def stored_events(db: sqlite_utils.Database, feed: str, tickets: Iterable[str]) -> list[TicketEvent]:
    """The stored events of these tickets of a feed (to check new events against)."""
    ids = sorted(set(tickets))
    out: list[TicketEvent] = []
    for k in range(0, len(ids), 500):  # SQLite's bound-parameter limit
        chunk = ids[k:k + 500]
        marks = ",".join("?" * len(chunk))
        out += [_event(r) for r in db.execute(
            f"SELECT {_COLUMNS} FROM ticket_events WHERE feed = ? AND ticket IN ({marks})", [feed, *chunk])]
    return out


def ticket_events(db: sqlite_utils.Database, t0: float, t1: float) -> list[TicketEvent]:
    """Every event of the tickets issued in [t0, t1) (all feeds); [] before migration 010."""
    if "ticket_events" not in db.table_names():
        return []
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM ticket_events WHERE (feed, ticket) IN ("
        " SELECT feed, ticket FROM ticket_events WHERE event = 'issued' AND t >= ? AND t < ?)"
        " ORDER BY t", [t0, t1]).fetchall()
    return [_event(r) for r in rows]


def as_dict(event: TicketEvent) -> dict[str, Any]:
    """The event as a JSON object."""
    return asdict(event)
