"""The events page at /events: filters, pagination, review and notes, bad values, clips; migration 005."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from html import unescape
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from monitor.db import eventlist, store
from monitor.site.config import load_config
from monitor.db.store import EventFilter, Writer, connect, get_event, list_events, migrate, open_db
from webui import create_app
from webtest import ACCOUNTS, PASSWORD, add_accounts, copy_site, csrf_token, log_in  # noqa: F401 (test_api imports them)

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = date(2026, 11, 24)
NOW = datetime.combine(DAY + timedelta(days=1), time(12, 0), tzinfo=TZ).timestamp()
TRI = "[[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]"
N_EVENTS = 130  # every 10 minutes from 07:00 on DAY: crosses midnight, more than two pages
ZONES_1 = [["ghe"], ["cho", "ghe"], [], ["hang"]]


@dataclass(frozen=True)
class Ev:
    id: str
    camera: str
    start: float
    end: float
    zones: tuple[str, ...]
    reviewed: bool

    @property
    def local(self) -> datetime:
        return datetime.fromtimestamp(self.start, TZ)


def _events() -> list[Ev]:
    t0 = datetime.combine(DAY, time(7, 0), tzinfo=TZ).timestamp()
    out = []
    for i in range(N_EVENTS):
        cam = "quay-1" if i % 2 else "quay-2"
        zones = ZONES_1[i // 2 % 4] if cam == "quay-1" else (["cua"] if i % 3 == 0 else [])
        start = t0 + i * 600 + 7.25  # not on a whole second
        out.append(Ev(f"ev-{i:03d}", cam, start, start + 5 + (i % 7) * 10, tuple(zones), i % 10 == 3))
    return out


EVENTS = _events()
NEWEST_FIRST = sorted(EVENTS, key=lambda e: e.start, reverse=True)


def build_site(folder: Path) -> None:
    """A site with two cameras, EVENTS (one with a clip), a minute of occupancy and the three accounts."""
    (folder / "cameras.yaml").write_text(textwrap.dedent(f"""\
        site: {{name: "Một cửa thử nghiệm"}}
        storage: {{recordings: rec, database: t.db}}
        cameras:
          - id: quay-1
            name: "Quầy 1"
            streams: {{main: a.mp4}}
            zones:
              - {{id: ghe, kind: staff_seat, points: {TRI}}}
              - {{id: cho, kind: service_spot, points: {TRI}}}
              - {{id: hang, kind: waiting_area, points: {TRI}}}
          - id: quay-2
            name: "Quầy 2"
            streams: {{main: b.mp4}}
            zones:
              - {{id: cua, kind: motion, points: {TRI}}}
        """), encoding="utf-8")
    config = load_config(folder / "cameras.yaml")
    db = open_db(config.storage.database)
    w = Writer(db, clock=lambda: NOW)
    w.register_cameras([("quay-1", "Quầy 1", True), ("quay-2", "Quầy 2", True)])
    w.apply([{"type": "status", "camera": "quay-1", "state": "online", "t": 1.0}])
    for e in EVENTS:
        end = {"type": "event_end", "camera": e.camera, "id": e.id, "end": e.end, "t": e.end}
        if e.zones:
            end["zones"] = list(e.zones)
        w.apply([{"type": "event_start", "camera": e.camera, "id": e.id, "start": e.start, "clip": True, "t": e.start},
                 end])
        if e.reviewed:
            store.review_event(db, e.id, user="quan-tri", at=NOW - 60, note=f"ghi chú {e.id}")
    clip = folder / "rec" / "quay-1" / "2026-11-24" / "ev-001.mp4"
    clip.parent.mkdir(parents=True)
    clip.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
    clip.with_suffix(".jpg").write_bytes(b"\xff\xd8\xff\xe0fakejpeg")
    w.apply([{"type": "clip", "camera": "quay-1", "id": "ev-001", "path": "quay-1/2026-11-24/ev-001.mp4",
              "duration": 20.0, "t": 0},
             {"type": "thumbnail", "camera": "quay-1", "id": "ev-001", "path": "quay-1/2026-11-24/ev-001.jpg", "t": 0}])
    eight = int(datetime.combine(DAY, time(8, 0), tzinfo=TZ).timestamp())
    w.apply([{"type": "occupancy", "camera": "quay-1", "t": eight + s,
              "zones": {"ghe": {"occupied": True, "count": 1.0}, "hang": {"occupied": s >= 30, "count": s // 30 * 2.0}}}
             for s in range(90)])
    add_accounts(db)
    db.conn.close()


@pytest.fixture(scope="module")
def template_site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("events-site")
    build_site(folder)
    return folder


@pytest.fixture
def site(template_site, tmp_path):
    return load_config(copy_site(template_site, tmp_path) / "cameras.yaml")


@pytest.fixture
def app(site):
    return create_app(site, {"TESTING": True, "CLOCK": lambda: NOW, "SECRET_KEY": "test"})


@pytest.fixture
def client_as(app):
    def make(role: str | None):
        client = app.test_client()
        if role is not None:
            log_in(client, role)
        return client

    return make


@pytest.fixture
def client(client_as):
    return client_as("supervisor")


def row_ids(html: str) -> list[str]:
    return re.findall(r'<tr class="event[^"]*" data-event="([^"]+)"', html)


def tod(e: Ev) -> int:
    return e.local.hour * 3600 + e.local.minute * 60 + e.local.second


# ---------------------------------------------------------------- filters

# (query, which events it must keep)
FILTERS = [
    ("", lambda e: True),
    ("camera=quay-1", lambda e: e.camera == "quay-1"),
    ("zone=ghe", lambda e: "ghe" in e.zones),
    ("camera=quay-1&zone=cho", lambda e: "cho" in e.zones),
    ("zone=cua", lambda e: "cua" in e.zones),
    ("date_from=2026-11-25", lambda e: e.local.date() >= date(2026, 11, 25)),
    ("date_to=24/11/2026", lambda e: e.local.date() <= DAY),
    ("date_from=2026-11-24&date_to=2026-11-24", lambda e: e.local.date() == DAY),
    ("time_from=08:00&time_to=09:30", lambda e: 8 * 3600 <= tod(e) < 9.5 * 3600),
    ("time_from=22:00&time_to=06:00", lambda e: tod(e) >= 22 * 3600 or tod(e) < 6 * 3600),  # past midnight
    ("time_from=20:00", lambda e: tod(e) >= 20 * 3600),
    ("time_to=07:30", lambda e: tod(e) < 7.5 * 3600),
    ("min_length=40", lambda e: e.end - e.start >= 40),
    ("min_length=25.5", lambda e: e.end - e.start >= 25.5),
    ("reviewed=yes", lambda e: e.reviewed),
    ("reviewed=no", lambda e: not e.reviewed),
    ("camera=quay-1&zone=ghe&date_from=2026-11-24&time_from=09:00&time_to=18:00&min_length=20&reviewed=no",
     lambda e: e.camera == "quay-1" and "ghe" in e.zones and 9 * 3600 <= tod(e) < 18 * 3600
     and e.end - e.start >= 20 and not e.reviewed),
    ("camera=&zone=&date_from=&reviewed=", lambda e: True),  # an empty form field means no filter
]


@pytest.mark.parametrize("query, keep", FILTERS, ids=[q or "none" for q, _ in FILTERS])
def test_filters_on_page_and_api(client, query, keep):
    expected = [e.id for e in NEWEST_FIRST if keep(e)]
    assert expected or query == "reviewed=yes"
    html = client.get(f"/events?{query}").get_data(as_text=True)
    assert row_ids(html) == expected[:50]
    body = client.get(f"/api/v1/events?{query}&limit=500").get_json()
    assert [e["id"] for e in body["events"]] == expected


def test_filter_form_has_the_stable_field_names_and_keeps_values(client):
    html = client.get("/events?camera=quay-1&zone=ghe&min_length=20&reviewed=no&date_from=2026-11-24"
                      "&time_from=08:00").get_data(as_text=True)
    form = re.search(r'<form id="event-filters".*?</form>', html, re.S).group(0)
    for name in ("camera", "zone", "date_from", "date_to", "time_from", "time_to", "min_length", "reviewed"):
        assert f'name="{name}"' in form, name
    assert '<option value="quay-1" selected>' in form and '<option value="no" selected>' in form
    assert 'name="min_length" min="0" max="86400" step="any" value="20"' in form
    assert 'type="date" name="date_from" value="2026-11-24"' in form


def test_pagination_keeps_filters(client):
    """Older links carry the filters and a cursor, never a page number; newer links walk back up."""
    query = "camera=quay-1&min_length=10"
    expected = [e.id for e in NEWEST_FIRST if e.camera == "quay-1" and e.end - e.start >= 10]
    assert len(expected) > 50
    pages, path = [], f"/events?{query}"
    while True:
        html = client.get(path).get_data(as_text=True)
        pages.append(row_ids(html))
        link = re.search(r'<a rel="next" href="([^"]+)"', html)
        if link is None:
            break
        path = unescape(link.group(1))
        assert "camera=quay-1" in path and "min_length=10" in path and "before=" in path and "page=" not in path
    assert [i for p in pages for i in p] == expected and len(pages) == 2 and 'rel="prev"' in html
    prev = unescape(re.search(r'<a rel="prev" href="([^"]+)"', html).group(1))
    assert "camera=quay-1" in prev and "min_length=10" in prev and "after=" in prev
    html = client.get(prev).get_data(as_text=True)
    assert row_ids(html) == pages[0] and 'rel="prev"' not in html  # back at the newest: a full first page


def test_api_pages(client):
    first = client.get("/api/v1/events?limit=50").get_json()
    second = client.get(f"/api/v1/events?limit=50&before={first['older']}").get_json()
    last = client.get(f"/api/v1/events?limit=50&before={second['older']}").get_json()
    assert first["has_next"] and second["has_next"] and not last["has_next"] and last["older"] is None
    assert first["newer"] is None and second["newer"] and first["page"] is None
    ids = [e["id"] for p in (first, second, last) for e in p["events"]]
    assert ids == [e.id for e in NEWEST_FIRST]
    back = client.get(f"/api/v1/events?limit=50&after={last['newer']}").get_json()
    assert back["events"] == second["events"] and back["older"] == second["older"]
    # page numbers still work for old links and bookmarks
    paged = [client.get(f"/api/v1/events?limit=50&page={n}").get_json() for n in (1, 2, 3)]
    assert [p["events"] for p in paged] == [first["events"], second["events"], last["events"]]
    assert paged[1]["page"] == 2 and paged[1]["older"] == second["older"]
    assert client.get("/api/v1/events?page=9").get_json()["events"] == []


def test_empty_result_says_so(client):
    html = client.get("/events?min_length=86400").get_data(as_text=True)
    assert row_ids(html) == [] and "Không có sự kiện nào khớp với bộ lọc này." in html


def test_rows_have_thumbnails_and_download_links(client):
    html = client.get("/events?camera=quay-1&time_to=07:15").get_data(as_text=True)
    row = re.search(r'<tr class="event[^"]*" data-event="ev-001">.*?</tr>', html, re.S).group(0)
    assert "/events/ev-001/thumbnail.jpg" in row and "/events/ev-001/clip.mp4?download=1" in row
    assert "<td>ghe</td>" in row


# ---------------------------------------------------------------- bad values: 400 with one line naming the parameter

BAD = [
    ("page", "0"), ("page", "-1"), ("page", "abc"), ("page", "99999999999"), ("page", "²"), ("page", "١"),
    ("page", "2.5"), ("page", "2002"),  # past the offset cap
    ("before", "x"), ("before", "1795000000.25"), ("before", "1795000000.25_"), ("before", "-1_ev"),
    ("before", "1e400_ev"), ("before", "nan_ev"), ("before", "1.5_" + "e" * 201), ("before", "1.5_ev%00"),
    ("after", "1.5_ev/../x"), ("after", "１.5_ev"), ("after", "9" * 400 + "_ev"),
    ("camera", "nope"), ("camera", "%00%ff"), ("camera", "Quầy 1"),
    ("zone", "nope"), ("zone", "'; drop table events; --"),
    ("date_from", "2026-13-01"), ("date_from", "2026-02-30"), ("date_from", "tomorrow"), ("date_from", "24-11-2026"),
    ("date_from", "0001-01-01"), ("date_from", "9999-12-31"), ("date_to", "32/01/2026"),
    ("date_to", "2026-11-24T08:00"),
    ("date_to", "２０２６-11-24"),
    ("time_from", "25:00"), ("time_from", "8"), ("time_from", "08:60"), ("time_to", "noon"), ("time_to", "8:00"),
    ("min_length", "-1"), ("min_length", "abc"), ("min_length", "nan"), ("min_length", "inf"), ("min_length", "1e400"),
    ("min_length", "86401"), ("min_length", "9" * 400),
    ("reviewed", "maybe"), ("reviewed", "1"), ("reviewed", "YES"),
]


@pytest.mark.parametrize("name, value", BAD, ids=[f"{n}={v[:12]}" for n, v in BAD])
def test_bad_values_are_400_naming_the_parameter(client, name, value):
    r = client.get(f"/events?{name}={value}")
    assert r.status_code == 400
    assert f"{name}: expected" in r.get_data(as_text=True)
    r = client.get(f"/api/v1/events?{name}={value}")
    assert r.status_code == 400 and r.get_json()["error"].startswith(f"{name}: expected")


@pytest.mark.parametrize("query, name", [
    ("camera=quay-2&zone=ghe", "zone"),  # a zone of the other camera
    ("date_from=2026-11-25&date_to=2026-11-24", "date_to"),
    ("time_from=08:00&time_to=08:00", "time_to"),
])
def test_inconsistent_values_are_400(client, query, name):
    r = client.get(f"/events?{query}")
    assert r.status_code == 400 and f"{name}: expected" in r.get_data(as_text=True)


# ---------------------------------------------------------------- review and note


def test_review_and_note_round_trip(client, site):
    token = csrf_token(client, "/events/ev-002")
    assert "chưa xem xét" in client.get("/events/ev-002").get_data(as_text=True)
    note = "Khách quên giấy tờ — hẹn quay lại\r\ndòng 2"
    r = client.post("/events/ev-002/review", data={"csrf_token": token, "note": note, "action": "review"})
    assert r.status_code == 302 and r.location == "/events/ev-002"
    html = client.get("/events/ev-002").get_data(as_text=True)
    assert "Đã đánh dấu là đã xem xét." in html and "giam-sat" in html
    assert "Khách quên giấy tờ — hẹn quay lại\ndòng 2</textarea>" in html
    db = connect(site.storage.database, readonly=True)
    ev = get_event(db, "ev-002")
    db.conn.close()
    stored = "Khách quên giấy tờ — hẹn quay lại\ndòng 2"
    assert (ev["reviewed_by"], ev["reviewed_at"], ev["note"]) == ("giam-sat", NOW, stored)
    assert "ev-002" in row_ids(client.get("/events?reviewed=yes").get_data(as_text=True))
    api = client.get("/api/v1/events/ev-002").get_json()
    assert api["reviewed"] and api["reviewed_by"] == "giam-sat" and api["note"].endswith("dòng 2")

    r = client.post("/events/ev-002/review", data={"csrf_token": token, "note": "", "action": "unreview"})
    assert r.status_code == 302
    api = client.get("/api/v1/events/ev-002").get_json()
    assert (api["reviewed"], api["reviewed_by"], api["reviewed_at"], api["note"]) == (False, None, None, None)
    assert "ev-002" in [e["id"] for e in client.get("/api/v1/events?reviewed=no&limit=500").get_json()["events"]]


def test_review_needs_csrf_and_a_supervisor(client_as, site):
    client = client_as("supervisor")
    assert client.post("/events/ev-002/review", data={"note": "x"}).status_code == 400
    assert client.post("/events/ev-002/review", data={"note": "x", "csrf_token": "forged"}).status_code == 400
    viewer = client_as("viewer")
    r = viewer.post("/events/ev-002/review", data={"csrf_token": csrf_token(viewer, "/reports"), "note": "x"})
    assert r.status_code == 403
    db = connect(site.storage.database, readonly=True)
    assert get_event(db, "ev-002")["reviewed_at"] is None
    db.conn.close()


@pytest.mark.parametrize("form, code", [
    ({"note": "x" * 2001}, 400), ({"note": "a\x00b"}, 400), ({"note": "ok", "action": "delete"}, 400),
])
def test_bad_review_posts_are_400(client, form, code):
    r = client.post("/events/ev-002/review", data={"csrf_token": csrf_token(client, "/events"), **form})
    assert r.status_code == code


def test_review_of_a_missing_event_is_404(client):
    r = client.post("/events/nope/review", data={"csrf_token": csrf_token(client, "/events"), "note": "x"})
    assert r.status_code == 404


# ---------------------------------------------------------------- clip player and files


def test_clip_player_range_requests_and_download(client, site):
    clip = Path(site.storage.recordings) / "quay-1" / "2026-11-24" / "ev-001.mp4"
    html = client.get("/events/ev-001").get_data(as_text=True)
    assert '<video id="clip"' in html and "/events/ev-001/clip.mp4" in html
    assert '<dd class="zones">ghe</dd>' in html
    with client.get("/events/ev-001/clip.mp4", headers={"Range": "bytes=10-19"}) as part:
        assert part.status_code == 206 and part.data == clip.read_bytes()[10:20]
        assert part.headers["Content-Range"] == f"bytes 10-19/{clip.stat().st_size}"
    with client.get("/events/ev-001/clip.mp4?download=1") as dl:
        assert dl.status_code == 200 and 'attachment; filename=ev-001.mp4' in dl.headers["Content-Disposition"]


# ---------------------------------------------------------------- store: migration 005, zones, indexes


def test_event_end_stores_zones_only_when_sent(tmp_path):
    db = open_db(tmp_path / "z.db")
    w = Writer(db)
    w.apply([{"type": "event_start", "camera": "c", "id": "a", "start": 1.0, "t": 1.0},
             {"type": "event_end", "camera": "c", "id": "a", "end": 2.0, "zones": ["ghe", "cho", "ghe"], "t": 2.0},
             {"type": "event_start", "camera": "c", "id": "b", "start": 3.0, "t": 3.0},
             {"type": "event_end", "camera": "c", "id": "b", "end": 4.0, "t": 4.0}])
    assert get_event(db, "a")["zones"] == "cho,ghe" and get_event(db, "b")["zones"] is None
    db.conn.close()


def test_migration_005_upgrades_a_004_database(tmp_path, monkeypatch):
    path = tmp_path / "old.db"
    monkeypatch.setattr(store, "MIGRATIONS", store.MIGRATIONS[:4])
    old = open_db(path)
    Writer(old).apply([{"type": "event_start", "camera": "c", "id": "e1", "start": 1.0, "t": 1.0}])
    old.conn.close()
    monkeypatch.undo()
    db = connect(path)
    assert migrate(db) == [name for name, _ in store.MIGRATIONS[4:]] and migrate(db) == []
    ev = get_event(db, "e1")
    assert ev["camera"] == "c" and ev["zones"] is None and ev["reviewed_at"] is None and ev["note"] is None
    db.conn.close()


@pytest.mark.parametrize("filters, index", [
    (EventFilter(), "idx_events_start_end"),
    (EventFilter(camera="quay-1", min_length=5, tod_from=3600, tod_to=7200, tz=TZ), "idx_events_camera_start_end"),
    (EventFilter(camera="quay-1", zone="ghe", min_length=5), "SEARCH z USING PRIMARY KEY"),
    (EventFilter(zone="ghe", reviewed=False), "idx_event_zones_zone_start"),
    (EventFilter(since=1.0, until=2.0, reviewed=False), "idx_events_start_end"),
    (EventFilter(min_length=30.0), "idx_events_start_end"),
    (EventFilter(reviewed=True), "idx_events_reviewed_start"),
    (EventFilter(camera="quay-1", reviewed=True), "idx_events_reviewed_camera_start"),
])
@pytest.mark.parametrize("cursor", [None, "before", "after"])
def test_event_lists_walk_an_index_in_start_order(tmp_path, filters, index, cursor):
    """No filter or cursor may turn the list into a table scan plus sort (1,000,000 events must stay fast)."""
    db = open_db(tmp_path / "i.db")
    at = eventlist.Cursor(1.5, "ev-1")
    sql, params = eventlist.list_sql(db, filters, before=at if cursor == "before" else None,
                                 after=at if cursor == "after" else None)
    plan = " ".join(row[3] for row in db.execute(f"explain query plan {sql}", [*params, 51, 0]).fetchall())
    assert index in plan and not re.search(r"SCAN \w+ (?!USING)", plan + " "), plan  # no full table scan
    # only events with the same start (ties) may be sorted by id: the index gives the start order
    assert "TEMP B-TREE FOR ORDER BY" not in plan, plan
    db.conn.close()


def test_time_of_day_in_a_zone_with_daylight_saving(tmp_path):
    db = open_db(tmp_path / "d.db")
    w = Writer(db)
    paris = ZoneInfo("Europe/Paris")
    for i, day in enumerate((date(2026, 1, 15), date(2026, 7, 15))):  # winter +01:00, summer +02:00
        start = datetime.combine(day, time(9, 30), paris).timestamp()
        w.apply([{"type": "event_start", "camera": "c", "id": f"e{i}", "start": start, "t": start}])
    rows = list_events(db, filters=EventFilter(tod_from=9 * 3600, tod_to=10 * 3600, tz=paris))
    assert {r["id"] for r in rows} == {"e0", "e1"}
    db.conn.close()
