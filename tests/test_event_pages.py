"""Keyset pages of the events list (before/after cursors) and the event_zones index of migration 008."""

from __future__ import annotations

import itertools
import re
from html import unescape

import pytest

from monitor.db import store
from monitor.db.eventlist import Cursor, EventFilter, has_zone_index, list_events, page_events
from monitor.db.store import Writer, connect, migrate, open_db
from test_web_events import NEWEST_FIRST, app, client, client_as, site, template_site  # noqa: F401 (fixtures)

CAMERAS = ("quay-1", "quay-2", "quay-3")
ZONE_SETS = (("ghe",), ("cho", "ghe"), (), ("hang",), ("cho",))


def _tied_events() -> list[dict]:
    """60 events on 12 start times: five events share each start (ties the id must order)."""
    out = []
    for i in range(60):
        start = 1000.0 + (i // 5) * 10.5
        out.append({"id": f"e-{(i * 37) % 60:02d}", "camera": CAMERAS[i % 3], "start": start,
                    "end": start + (i % 4) * 10, "zones": ZONE_SETS[i % len(ZONE_SETS)], "reviewed": i % 3 == 0})
    return out


TIED = _tied_events()


@pytest.fixture
def tied_db(tmp_path):
    db = open_db(tmp_path / "tied.db")
    w = Writer(db)
    for e in TIED:
        end = {"type": "event_end", "camera": e["camera"], "id": e["id"], "end": e["end"], "t": e["end"]}
        if e["zones"]:
            end["zones"] = list(e["zones"])
        w.apply([{"type": "event_start", "camera": e["camera"], "id": e["id"], "start": e["start"], "t": 0}, end])
        if e["reviewed"]:
            store.review_event(db, e["id"], user="u", at=1.0, note=None)
    yield db
    db.conn.close()


def _expected(keep) -> list[str]:  # noqa: ANN001
    rows = sorted((e for e in TIED if keep(e)), key=lambda e: (e["start"], e["id"]), reverse=True)
    return [e["id"] for e in rows]


TIED_FILTERS = [
    (EventFilter(), lambda e: True),
    (EventFilter(camera="quay-2"), lambda e: e["camera"] == "quay-2"),
    (EventFilter(zone="ghe"), lambda e: "ghe" in e["zones"]),
    (EventFilter(camera="quay-1", zone="cho"), lambda e: e["camera"] == "quay-1" and "cho" in e["zones"]),
    (EventFilter(zone="ghe", min_length=10, reviewed=False),
     lambda e: "ghe" in e["zones"] and e["end"] - e["start"] >= 10 and not e["reviewed"]),
    (EventFilter(since=1021.0, until=1084.0, min_length=20),
     lambda e: 1021 <= e["start"] < 1084 and e["end"] - e["start"] >= 20),
]


@pytest.mark.parametrize("size", [1, 2, 3, 7])
@pytest.mark.parametrize("filters, keep", TIED_FILTERS)
def test_cursor_pages_cover_every_event_once_with_equal_start_times(tied_db, filters, keep, size):
    """Older pages walk the list in (start, id) order without gaps or repeats; newer pages walk it back."""
    expected = _expected(keep)
    assert expected
    pages = [page_events(tied_db, filters, size)]
    while pages[-1].older is not None:
        pages.append(page_events(tied_db, filters, size, before=pages[-1].older))
        assert len(pages) <= len(expected) + 1
    assert [e["id"] for p in pages for e in p.events] == expected
    assert pages[0].newer is None and all(p.newer == Cursor.of(p.events[0]) for p in pages[1:])
    assert all(len(p.events) == size for p in pages[:-1])
    back = pages[-1]
    for want in reversed(pages[:-1]):  # newer links lead to the same pages, the newest one full
        back = page_events(tied_db, filters, size, after=back.newer)
        assert [e["id"] for e in back.events] == [e["id"] for e in want.events]
    assert back.newer is None


def test_page_numbers_and_cursors_agree(tied_db):
    by_page = [list_events(tied_db, limit=7, offset=7 * n) for n in range(9)]
    cursor_pages, page = [], page_events(tied_db, EventFilter(), 7)
    for _ in range(9):
        cursor_pages.append(page.events)
        if page.older is None:
            break
        page = page_events(tied_db, EventFilter(), 7, before=page.older)
    assert [r["id"] for p in cursor_pages for r in p] == [r["id"] for p in by_page for r in p]


def test_a_cursor_past_the_end_links_back(tied_db):
    oldest = Cursor(1.0, "x")
    page = page_events(tied_db, EventFilter(), 5, before=oldest)
    assert page.events == [] and page.older is None and page.newer == oldest
    back = page_events(tied_db, EventFilter(), 5, after=page.newer)
    assert [e["id"] for e in back.events] == _expected(lambda e: True)[-5:]


@pytest.mark.parametrize("start", [1795000000.25, 1793783495.0675504, 1000.0, 0.1 + 0.2])
def test_cursor_tokens_round_trip_exactly(start):
    c = Cursor(start, "quay-1-20261124-080000-a1b2c3")
    assert Cursor.parse(c.token()) == c


@pytest.mark.parametrize("raw", ["", "1.5", "1.5_", "_ev", "-1_ev", "1e9_ev", "nan_ev", "1.5_ev/x", "1.5_ev x",
                                 "1.5_" + "e" * 201, "1" * 13 + "_ev", "１.5_ev"])
def test_bad_cursor_tokens_are_refused(raw):
    with pytest.raises(ValueError):
        Cursor.parse(raw)


# ---------------------------------------------------------------- the web page and the API


def test_the_page_follows_older_links_with_filters_to_the_end(client):  # noqa: F811 (fixture)
    expected = [e.id for e in NEWEST_FIRST if "ghe" in e.zones and e.end - e.start >= 20]
    seen, path, pages = [], "/events?zone=ghe&min_length=20", 0
    while path:
        html = client.get(path).get_data(as_text=True)
        seen += re.findall(r'data-event="([^"]+)"', html)
        pages += 1
        link = re.search(r'<a rel="next" href="([^"]+)"', html)
        path = unescape(link.group(1)) if link else ""
    assert seen == expected and pages == -(-len(expected) // 50)


@pytest.mark.parametrize("query, name", [
    ("before=1.5_a&after=1.5_a", "after"),
    ("before=1.5_a&page=2", "page"),
    ("after=abc", "after"),
])
def test_conflicting_or_bad_cursors_are_one_line_400s(client, query, name):  # noqa: F811 (fixture)
    r = client.get(f"/events?{query}")
    body = r.get_data(as_text=True)
    assert r.status_code == 400 and f"{name}: expected" in body and "Traceback" not in body
    r = client.get(f"/api/v1/events?{query}")
    error = r.get_json()["error"]
    assert r.status_code == 400 and error.startswith(f"{name}: expected") and "\n" not in error


def test_api_cursor_pages_combine_with_filters(client):  # noqa: F811 (fixture)
    expected = [e.id for e in NEWEST_FIRST if e.camera == "quay-1" and "ghe" in e.zones and not e.reviewed]
    seen, older, bodies = [], None, 0
    while True:
        body = client.get("/api/v1/events?camera=quay-1&zone=ghe&reviewed=no&limit=7"
                          + (f"&before={older}" if older else "")).get_json()
        seen += [e["id"] for e in body["events"]]
        bodies += 1
        older = body["older"]
        assert body["filters"] == {"camera": "quay-1", "zone": "ghe", "reviewed": "no"}
        if older is None:
            break
    assert seen == expected and bodies == -(-len(expected) // 7)


# ---------------------------------------------------------------- event_zones: triggers, migration, fallback


def _index_rows(db) -> set[tuple]:  # noqa: ANN001
    return set(db.execute("select zone, camera, start, event_id from event_zones").fetchall())


def _expected_index(db) -> set[tuple]:  # noqa: ANN001
    rows = db.execute("select id, camera, start, zones from events").fetchall()
    return {(z, cam, start, eid) for eid, cam, start, zones in rows for z in (zones or "").split(",") if z}


def test_the_zone_index_follows_every_write_to_events(tied_db):
    db = tied_db
    assert _index_rows(db) == _expected_index(db) and len(_index_rows(db)) > 40
    w = Writer(db)
    w.apply([{"type": "event_start", "camera": "quay-1", "id": "e-00", "start": 5000.0, "t": 0}])  # insert or replace
    assert _index_rows(db) == _expected_index(db)
    w.apply([{"type": "event_end", "camera": "quay-1", "id": "e-00", "end": 5001.0, "zones": ["cua"], "t": 0}])
    db.execute("update events set start = start + 1 where id = 'e-01'")
    db.execute("update events set zones = 'hang,ghe' where id = 'e-02'")
    db.execute("update events set zones = null where id = 'e-03'")
    db.execute("update events set zones = 'bad\"quote' where id = 'e-04'")  # never a valid slug: skipped, no error
    db.execute("delete from events where id in ('e-05', 'e-06')")  # as retention prunes
    assert _index_rows(db) == {r for r in _expected_index(db) if r[3] != "e-04"}
    assert [e["id"] for e in list_events(db, filters=EventFilter(zone="cua"))] == ["e-00"]


def test_migration_008_fills_the_index_from_the_zones_column(tmp_path, monkeypatch):
    path = tmp_path / "old.db"
    before_008 = [m for m in store.MIGRATIONS if m[0] < "008"]
    monkeypatch.setattr(store, "MIGRATIONS", before_008)
    old = open_db(path)
    w = Writer(old)
    for e in TIED:
        w.apply([{"type": "event_start", "camera": e["camera"], "id": e["id"], "start": e["start"], "t": 0},
                 {"type": "event_end", "camera": e["camera"], "id": e["id"], "end": e["end"],
                  "zones": list(e["zones"]) or None, "t": 0}])
    assert not has_zone_index(old)
    unindexed = {f: [r["id"] for r in list_events(old, filters=f, limit=100)] for f, _ in TIED_FILTERS}
    old.conn.close()
    monkeypatch.undo()
    db = connect(path)
    assert "008_event_zones" in migrate(db) and has_zone_index(db)
    assert _index_rows(db) == _expected_index(db)
    for f, _keep in TIED_FILTERS:  # the same answers before (row checks) and after (the index)
        assert [r["id"] for r in list_events(db, filters=f, limit=100)] == unindexed[f]
    db.conn.close()


def test_zone_filter_without_the_index_reads_the_zones_column(tied_db):
    """A read-only connection to a database the supervisor has not migrated yet still filters zones."""
    with_index = [r["id"] for r in list_events(tied_db, filters=EventFilter(zone="ghe"), limit=100)]
    tied_db.execute("drop table event_zones")
    assert not has_zone_index(tied_db)
    assert [r["id"] for r in list_events(tied_db, filters=EventFilter(zone="ghe"), limit=100)] == with_index


def test_every_filter_combination_agrees_with_and_without_the_index(tied_db):
    """Zone queries through event_zones give exactly what the row-by-row zones check gives."""
    combos = itertools.product(("quay-1", None), ("ghe", "cho", "hang"), (None, 10.0), (None, True, False))
    cases = [EventFilter(camera=c, zone=z, min_length=m, reviewed=r) for c, z, m, r in combos]
    indexed = {f: [r["id"] for r in list_events(tied_db, filters=f, limit=100)] for f in cases}
    tied_db.execute("drop table event_zones")
    for f in cases:
        assert [r["id"] for r in list_events(tied_db, filters=f, limit=100)] == indexed[f], f
