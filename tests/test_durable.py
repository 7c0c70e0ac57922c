"""The writer keeps messages while another connection locks the database, and drops only bad ones."""

from __future__ import annotations

import sqlite3
import threading

from monitor.db.durable import DurableWriter, is_transient
from monitor.db.store import Writer, get_event, open_db

LOCK_HELD_S = 1.5  # several retry rounds of the writer's back-off
SHORT_BUSY_MS = 50  # the writer's own busy wait, shortened so the retry loop (not SQLite) does the waiting


def _events(n: int, prefix: str = "e") -> list[dict]:
    return [{"type": "event_start", "camera": "c", "id": f"{prefix}{i}", "start": float(i), "t": float(i)}
            for i in range(n)]


def test_transient_errors_are_told_apart():
    assert is_transient(sqlite3.OperationalError("database is locked"))
    assert is_transient(sqlite3.OperationalError("database or disk is full"))
    assert not is_transient(sqlite3.OperationalError("no such table: x"))
    assert not is_transient(KeyError("id"))
    assert not is_transient(sqlite3.DatabaseError("database disk image is malformed"))


def test_a_batch_waits_out_an_exclusive_lock_and_loses_nothing(tmp_path):
    path = tmp_path / "w.db"
    db = open_db(path)
    db.conn.execute(f"PRAGMA busy_timeout={SHORT_BUSY_MS}")
    locker = sqlite3.connect(path, timeout=1, check_same_thread=False)
    locker.execute("BEGIN EXCLUSIVE")
    held = threading.Event()
    release = threading.Timer(LOCK_HELD_S, lambda: (locker.rollback(), held.set()))
    release.start()
    durable = DurableWriter(Writer(db))
    try:
        assert durable.write(_events(50)) == 0
    finally:
        release.join()
        locker.close()
    assert held.is_set()
    assert durable.retries >= 1 and durable.dropped == 0 and durable.stalled_since is None
    assert db.execute("select count(*) from events").fetchone()[0] == 50
    db.conn.close()


def test_give_up_at_shutdown_returns_the_count(tmp_path):
    path = tmp_path / "w.db"
    db = open_db(path)
    db.conn.execute(f"PRAGMA busy_timeout={SHORT_BUSY_MS}")
    locker = sqlite3.connect(path, timeout=1)
    locker.execute("BEGIN EXCLUSIVE")
    tries = []
    durable = DurableWriter(Writer(db), give_up=lambda: len(tries) >= 2, sleep=lambda s: tries.append(s))
    assert durable.write(_events(3)) == 3
    assert tries == [0.25, 0.5]  # back-off doubles
    locker.rollback()
    locker.close()
    db.conn.close()


def test_a_malformed_message_is_dropped_alone(tmp_path):
    db = open_db(tmp_path / "w.db")
    batch = [*_events(2, "ok"), {"type": "event_end", "camera": "c"}]
    durable = DurableWriter(Writer(db))
    assert durable.write(batch) == 1
    assert get_event(db, "ok0") and get_event(db, "ok1") and durable.dropped == 1
    db.conn.close()
