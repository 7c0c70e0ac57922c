import numpy as np
import pytest

from monitor.messages import MessageError
from monitor.db import store
from monitor.db.store import (
    Writer,
    connect,
    get_event,
    migrate,
    minute_rollups,
    occupancy_now,
    open_db,
    prune_occupancy,
    zone_samples,
)

T0 = 1_795_500_000  # a whole minute (divisible by 60)


def occ(t, cam="quay-1", **zones):
    """An occupancy message; zones given as name=(occupied, count)."""
    return {"type": "occupancy", "camera": cam, "t": t,
            "zones": {z: {"occupied": o, "count": c} for z, (o, c) in zones.items()}}


def test_per_second_rows_and_minute_rollups(db):
    w = Writer(db)
    # 90 s: seat occupied on even seconds, queue counts 0,1,2,0,1,2,...
    w.apply([occ(T0 + i, seat=(i % 2 == 0, float(i % 2 == 0)), wait=(i % 3 > 0, float(i % 3))) for i in range(90)])
    assert db.execute("select count(*) from occupancy").fetchone()[0] == 180
    seat = minute_rollups(db, "quay-1", "seat", T0, T0 + 3600)
    assert [(r["minute"], r["samples"], r["occupied_s"], r["count_sum"], r["count_max"]) for r in seat] == [
        (T0, 60, 30, 30.0, 1.0), (T0 + 60, 30, 15, 15.0, 1.0)]
    wait = minute_rollups(db, "quay-1", "wait", T0, T0 + 3600)
    assert [(r["samples"], r["occupied_s"], r["count_sum"], r["count_max"]) for r in wait] == [
        (60, 40, 60.0, 2.0), (30, 20, 30.0, 2.0)]
    assert wait[0]["count_mean"] == pytest.approx(1.0)
    assert minute_rollups(db, "quay-1", "wait", T0 + 60, T0 + 61)[0]["minute"] == T0 + 60
    assert minute_rollups(db, "quay-2", "wait", T0, T0 + 3600) == []


def test_a_resent_second_is_not_counted_twice(db):
    w = Writer(db)
    w.apply([occ(T0 + 5, seat=(True, 1.0))])
    w.apply([occ(T0 + 5, seat=(False, 0.0)), occ(T0 + 6, seat=(True, 1.0))])
    w.apply([occ(T0 + 6, seat=(True, 1.0), spot=(True, 1.0))])  # seat again, spot new
    rows = db.execute("select zone, t, occupied from occupancy order by zone, t").fetchall()
    assert rows == [("seat", T0 + 5, 1), ("seat", T0 + 6, 1), ("spot", T0 + 6, 1)]
    (seat,) = minute_rollups(db, "quay-1", "seat", T0, T0 + 60)
    assert (seat["samples"], seat["occupied_s"], seat["count_sum"]) == (2, 2, 2.0)
    (spot,) = minute_rollups(db, "quay-1", "spot", T0, T0 + 60)
    assert spot["samples"] == 1


def test_a_correction_replaces_a_stored_second_and_moves_its_minute_by_the_difference(db):
    """A worker that finds a seated person late sends the seconds it sent already as they are now: the rows are
    replaced, the minute roll-up follows, a resent correction changes nothing, a second never stored is stored."""
    w = Writer(db)
    w.apply([occ(T0 + i, wait=(i >= 30, float(i >= 30))) for i in range(60)])
    fix = [dict(occ(T0 + i, wait=(True, 1.0)), type="occupancy_correction") for i in range(10, 30)]
    fix.append(dict(occ(T0 + 61, wait=(True, 2.0)), type="occupancy_correction"))  # never stored
    for _ in range(2):
        w.apply(fix)
        counts = [c for (c,) in db.execute("select count from occupancy where zone = 'wait' order by t")]
        assert counts == [0.0] * 10 + [1.0] * 50 + [2.0]
        rows = minute_rollups(db, "quay-1", "wait", T0, T0 + 120)
        assert [(r["samples"], r["occupied_s"], r["count_sum"], r["count_max"]) for r in rows] == [
            (60, 50, 50.0, 1.0), (1, 1, 2.0, 2.0)]
    assert zone_samples(db, "quay-1", "wait", T0, T0 + 60).count.sum() == 50.0


def test_occupancy_batch_is_atomic(db):
    w = Writer(db)
    with pytest.raises(MessageError, match="missing field"):
        w.apply([occ(T0, seat=(True, 1.0)), {"type": "occupancy", "camera": "quay-1", "t": T0 + 1}])
    assert db.execute("select count(*) from occupancy").fetchone()[0] == 0
    assert db.execute("select count(*) from occupancy_minute").fetchone()[0] == 0
    w.apply([occ(T0, seat=(True, 1.0)), occ(T0 + 1)])  # an empty zones dict is a no-op
    assert db.execute("select count(*) from occupancy").fetchone()[0] == 1


def test_zone_samples_sorted_in_range(db):
    w = Writer(db)
    order = [7, 3, 9, 0, 5, 1, 8]
    w.apply([occ(T0 + i, seat=(i % 2 == 1, 0.5 * i)) for i in order])
    w.apply([occ(T0 + 4, cam="quay-2", seat=(True, 1.0))])
    s = zone_samples(db, "quay-1", "seat", T0 + 1, T0 + 8)  # half-open: 8 excluded
    assert s.t.dtype == np.int64 and s.occupied.dtype == bool and s.count.dtype == np.float32
    assert (s.t - T0).tolist() == [1, 3, 5, 7]
    assert s.occupied.tolist() == [True, True, True, True]
    assert s.count.tolist() == [0.5, 1.5, 2.5, 3.5]
    assert len(zone_samples(db, "quay-1", "nope", T0, T0 + 100)) == 0
    assert len(zone_samples(db, "quay-1", "seat", T0 + 100, T0 + 200)) == 0


def test_occupancy_now_gives_latest_sample_per_zone(db):
    w = Writer(db)
    w.apply([occ(T0 + i, seat=(i < 3, 1.0 if i < 3 else 0.0), wait=(True, float(i))) for i in range(5)])
    w.apply([occ(T0 + 9, wait=(False, 0.0)), occ(T0 + 50, cam="quay-2", seat=(True, 1.0))])
    now = occupancy_now(db, "quay-1")
    assert now == {
        "seat": {"t": T0 + 4, "occupied": False, "count": 0.0},
        "wait": {"t": T0 + 9, "occupied": False, "count": 0.0},
    }
    assert occupancy_now(db, "quay-3") == {}


def test_prune_keeps_minute_rollups(db):
    w = Writer(db)
    w.apply([occ(T0 + i, seat=(True, 1.0)) for i in range(120)])
    assert prune_occupancy(db, T0 + 60) == 60
    assert len(zone_samples(db, "quay-1", "seat", T0, T0 + 200)) == 60
    assert len(minute_rollups(db, "quay-1", "seat", T0, T0 + 200)) == 2


def test_migration_from_002_upgrades_cleanly(tmp_path, monkeypatch):
    path = tmp_path / "old.db"
    monkeypatch.setattr(store, "MIGRATIONS", store.MIGRATIONS[:2])
    old = open_db(path)
    Writer(old).apply([{"type": "event_start", "camera": "c", "id": "e1", "start": 1.0, "t": 1.0}])
    assert "occupancy" not in old.table_names()
    old.conn.close()
    monkeypatch.undo()

    db = connect(path)
    assert migrate(db)[:4] == ["003_occupancy", "004_users", "005_event_review_zones", "006_report_cache"]
    assert migrate(db) == []
    assert {"occupancy", "occupancy_minute"} <= set(db.table_names())
    assert get_event(db, "e1")["camera"] == "c"
    Writer(db).apply([occ(T0, seat=(True, 1.0))])
    assert minute_rollups(db, "quay-1", "seat", T0, T0 + 60)[0]["samples"] == 1
    db.conn.close()
