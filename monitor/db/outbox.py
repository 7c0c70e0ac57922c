"""The hub outbox (migration 012): every message for the district hub until the broker acknowledges it.

Rows are keyed by the message's stable id, so queueing the same roll-up or report row twice stores it
once, and resending after a crash is harmless (the hub keeps one row per id). Acknowledged rows stay
for OUTBOX_KEEP_S so a late re-queue of the same id is still recognised, then they are pruned.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import sqlite_utils

OUTBOX_KEEP_S = 7 * 86400  # acknowledged ids kept a week: longer than any re-queue window (a day's report)


def m012_hub_outbox(db: sqlite_utils.Database) -> None:
    """Migration 012: the outbox and the publisher's cursors (how far each kind of message was queued)."""
    db.execute(
        "create table hub_outbox (id text primary key, topic text not null, payload text not null,"
        " queued real not null, acked real)"
    )
    db.execute("create index hub_outbox_pending on hub_outbox(acked, queued)")
    db.execute("create table hub_cursor (name text primary key, value text not null)")


@dataclass(frozen=True)
class OutMessage:
    """One message for the hub: its stable id, MQTT topic and JSON payload."""

    id: str
    topic: str
    payload: str


def enqueue(db: sqlite_utils.Database, messages: Iterable[OutMessage], now: float | None = None,
            cursors: Mapping[str, str] | None = None) -> int:
    """Queue messages (an id already queued is ignored) and move cursors, in one transaction; returns how many were new."""
    at = time.time() if now is None else now
    with db.conn:
        cur = db.conn.executemany(
            "insert or ignore into hub_outbox (id, topic, payload, queued) values (?, ?, ?, ?)",
            [(m.id, m.topic, m.payload, at) for m in messages],
        )
        db.conn.executemany("insert or replace into hub_cursor (name, value) values (?, ?)",
                            list((cursors or {}).items()))
    return cur.rowcount


def pending(db: sqlite_utils.Database, limit: int, skip: Iterable[str] = ()) -> list[OutMessage]:
    """The oldest unacknowledged messages, at most limit, leaving out the ids in skip (in flight)."""
    skipped = set(skip)
    rows = db.execute(
        "select id, topic, payload from hub_outbox where acked is null order by queued, id limit ?",
        [limit + len(skipped)],
    ).fetchall()
    return [OutMessage(*r) for r in rows if r[0] not in skipped][:limit]


def pending_count(db: sqlite_utils.Database) -> int:
    """How many messages wait for the broker's acknowledgement."""
    return db.execute("select count(*) from hub_outbox where acked is null").fetchone()[0]


def acknowledge(db: sqlite_utils.Database, ids: Iterable[str], now: float | None = None) -> None:
    """Mark messages delivered to the broker."""
    at = time.time() if now is None else now
    with db.conn:
        db.conn.executemany("update hub_outbox set acked = ? where id = ? and acked is null", [(at, i) for i in ids])


def prune_acked(db: sqlite_utils.Database, now: float, keep_s: float = OUTBOX_KEEP_S) -> int:
    """Forget acknowledged messages older than keep_s; returns how many."""
    with db.conn:
        return db.conn.execute("delete from hub_outbox where acked is not null and acked < ?", [now - keep_s]).rowcount


def get_cursor(db: sqlite_utils.Database, name: str) -> str | None:
    """A publisher cursor (e.g. the last minute whose roll-ups were queued), or None."""
    row = db.execute("select value from hub_cursor where name = ?", [name]).fetchone()
    return row[0] if row else None

