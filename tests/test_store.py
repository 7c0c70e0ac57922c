import sqlite3

import pytest

from monitor.db.store import MIGRATIONS, Writer, camera_states, connect, get_event, list_events, migrate, open_db
from monitor.messages import MessageError


@pytest.fixture
def db(tmp_path):
    db = open_db(tmp_path / "t.db")
    yield db
    db.conn.close()


def _event(w, eid, cam, start, end=None):
    w.apply([{"type": "event_start", "camera": cam, "id": eid, "start": start, "peak": 0.1, "clip": True, "t": start}])
    if end is not None:
        w.apply([{"type": "event_end", "camera": cam, "id": eid, "end": end, "peak": 0.3, "t": end}])


def test_migrations_are_recorded_and_idempotent(tmp_path):
    db = open_db(tmp_path / "m.db")
    assert migrate(db) == []
    names = [r["name"] for r in db["_migrations"].rows]
    assert names == [name for name, _ in MIGRATIONS]  # every migration, in order
    assert names[:7] == ["001_initial", "002_camera_process", "003_occupancy", "004_users",
                         "005_event_review_zones", "006_report_cache", "007_audit"]
    assert db.execute("pragma journal_mode").fetchone()[0] == "wal"
    db.conn.close()


def test_event_lifecycle(db):
    w = Writer(db, clock=lambda: 1000.0)
    _event(w, "e1", "quay-1", 100.0, 112.5)
    ev = get_event(db, "e1")
    assert ev["clip_state"] == "recording" and ev["end"] == 112.5 and ev["peak"] == 0.3
    w.apply([
        {"type": "clip", "camera": "quay-1", "id": "e1", "path": "quay-1/2026-11-24/e1.mp4", "duration": 27.0, "t": 1},
        {"type": "thumbnail", "camera": "quay-1", "id": "e1", "path": "quay-1/2026-11-24/e1.jpg", "t": 1},
    ])
    ev = get_event(db, "e1")
    assert (ev["clip_state"], ev["clip_path"], ev["thumb_path"], ev["clip_duration"]) == (
        "complete", "quay-1/2026-11-24/e1.mp4", "quay-1/2026-11-24/e1.jpg", 27.0)
    assert get_event(db, "nope") is None


def test_list_events_filters_and_order(db):
    w = Writer(db)
    for i in range(5):
        _event(w, f"a{i}", "quay-1", 100.0 + i * 10, 105.0 + i * 10)
        _event(w, f"b{i}", "quay-2", 101.0 + i * 10)
    rows = list_events(db)
    assert [r["id"] for r in rows[:3]] == ["b4", "a4", "b3"]
    assert {r["camera"] for r in list_events(db, camera="quay-2")} == {"quay-2"}
    assert [r["id"] for r in list_events(db, since=130, until=141)] == ["a4", "b3", "a3"]
    assert [r["id"] for r in list_events(db, limit=2, offset=2)] == ["b3", "a3"]


def test_status_keeps_state_since_until_state_changes(db):
    w = Writer(db)
    w.register_cameras([("quay-1", "Quầy 1", True), ("quay-9", "Quầy 9", False)])
    w.apply([{"type": "status", "camera": "quay-1", "state": "online", "reconnects": 0, "info": {"main": {}}, "t": 10.0}])
    w.apply([{"type": "status", "camera": "quay-1", "state": "online", "reconnects": 0, "t": 20.0}])
    cams = {c["id"]: c for c in camera_states(db)}
    assert cams["quay-1"]["state"] == "online" and cams["quay-1"]["state_since"] == 10.0
    assert cams["quay-1"]["last_seen"] == 20.0
    assert cams["quay-9"]["state"] == "disabled"
    w.apply([{"type": "status", "camera": "quay-1", "state": "offline", "error": "connection refused", "t": 30.0}])
    cam = {c["id"]: c for c in camera_states(db)}["quay-1"]
    assert (cam["state"], cam["state_since"], cam["error"]) == ("offline", 30.0, "connection refused")


def test_unknown_or_malformed_messages_raise_and_the_batch_is_atomic(db):
    w = Writer(db)
    with pytest.raises(MessageError, match="unknown message type 'mystery'"):
        w.apply([{"type": "mystery"}])
    with pytest.raises(MessageError, match="missing field"):
        w.apply([
            {"type": "event_start", "camera": "c", "id": "x1", "start": 1.0, "t": 1.0},
            {"type": "event_end", "camera": "c"},  # malformed: no id
        ])
    assert get_event(db, "x1") is None  # the whole batch was rolled back


def test_readonly_connection_cannot_write(db, tmp_path):
    ro = connect(tmp_path / "t.db", readonly=True)
    with pytest.raises(sqlite3.OperationalError):
        ro.execute("insert into events (id) values ('z')")
    ro.conn.close()
