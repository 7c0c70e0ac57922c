"""The office in the web UI: the overview by queue and field with a counter seen by two cameras, and the
counters page writing cameras.yaml (comments kept; a bad change is one line and leaves the file as it was)."""

from __future__ import annotations

import html as htmllib
import re
import textwrap
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from monitor.db.audit import AuditFilter, query
from monitor.db.store import Writer, connect, open_db
from monitor.db.tickets import TicketEvent, insert_ticket_events
from monitor.site.config import load_config
from webtest import add_accounts, csrf_token, log_in
from webui import create_app

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = date(2026, 11, 24)
TRI = "[[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]"
LOW = "[[0.1, 0.6], [0.5, 0.6], [0.5, 0.9]]"


def at(hh: int, mm: int = 0, ss: int = 0) -> int:
    return int(datetime.combine(DAY, time(hh, mm, ss), tzinfo=TZ).timestamp())


NOW = at(10)


def _build(folder, seated: bool = True) -> None:
    """Counter quay-3: seat on cam-a, spot on cam-b; the hall queue sums two areas of cam-sanh and cam-a."""
    (folder / "cameras.yaml").write_text(textwrap.dedent(f"""\
        # the office manager's notes stay after every save
        site: {{name: "Một cửa"}}
        storage: {{recordings: rec, database: t.db}}
        cameras:
          - id: cam-a
            name: "Camera A"
            streams: {{main: a.mp4}}
            zones:
              - {{id: ghe-3, kind: staff_seat, points: {TRI}}}
              - {{id: ghe-4, kind: staff_seat, points: {LOW}}}
              - {{id: ghe-cho, kind: waiting_area, points: [[0.6, 0.6], [0.9, 0.6], [0.9, 0.9]]}}
          - id: cam-b
            name: "Camera B"
            streams: {{main: b.mp4}}
            zones:
              - {{id: cho-3, kind: service_spot, points: {TRI}}}
              - {{id: cho-4, kind: service_spot, points: {LOW}}}
          - id: cam-sanh
            name: "Sảnh"
            streams: {{main: c.mp4}}
            zones:
              - {{id: day-ghe, kind: waiting_area, points: {TRI}}}
        fields:
          - {{id: dia-chinh, name: "Địa chính – xây dựng", name_en: "Land and construction"}}
        counters:   # named by the office
          - id: quay-3
            name: "Quầy 3 – Địa chính"
            field: dia-chinh
            staff_seat: {{camera: cam-a, zone: ghe-3}}
            service_spot: {{camera: cam-b, zone: cho-3}}
        queues:
          - id: sanh
            name: "Sảnh chờ"
            waiting_areas:
              - {{camera: cam-sanh, zone: day-ghe}}
              - {{camera: cam-a, zone: ghe-cho}}
            feeds: [dia-chinh]
        """), encoding="utf-8")
    db = open_db(folder / "t.db")
    w = Writer(db)
    w.register_cameras([("cam-a", "Camera A", True), ("cam-b", "Camera B", True), ("cam-sanh", "Sảnh", True)])
    w.apply([{"type": "status", "camera": c, "state": "online", "t": 1.0} for c in ("cam-a", "cam-b", "cam-sanh")])
    # the last ten minutes: the officer seated (cam-a), a citizen at the spot for the last 100 s (cam-b),
    # two people in the hall and one by the wall
    for t in range(NOW - 600, NOW):
        w.apply([{"type": "occupancy", "camera": "cam-a", "t": t, "zones": {
                     "ghe-3": {"occupied": seated, "count": float(seated)}, "ghe-cho": {"occupied": True, "count": 1.0}}},
                 {"type": "occupancy", "camera": "cam-b", "t": t, "zones": {
                     "cho-3": {"occupied": t >= NOW - 100, "count": float(t >= NOW - 100)}}},
                 {"type": "occupancy", "camera": "cam-sanh", "t": t, "zones": {
                     "day-ghe": {"occupied": True, "count": 2.0}}}])
    # tickets: A1 waited 5 min and is being served since 09:58:20; A2 and A3 are waiting since 09:50 and 09:55
    insert_ticket_events(db, [
        TicketEvent("kiosk", "A1", "issued", at(9, 53, 20), field="dia-chinh"),
        TicketEvent("kiosk", "A1", "called", at(9, 58, 20), counter="quay-3"),
        TicketEvent("kiosk", "A2", "issued", at(9, 50), field="dia-chinh"),
        TicketEvent("kiosk", "A3", "issued", at(9, 55), field="dia-chinh"),
    ], now=NOW)
    add_accounts(db)
    db.conn.close()


@pytest.fixture
def site(make_site):
    return make_site(_build)


@pytest.fixture
def app(site):
    return create_app(load_config(site / "cameras.yaml"), {"TESTING": True, "CLOCK": lambda: NOW})


@pytest.fixture
def admin(app):
    client = app.test_client()
    log_in(client, "admin")
    return client


def test_overview_groups_a_two_camera_counter_under_its_queue_and_field(admin):
    page = admin.get("/").get_data(as_text=True)
    group = re.search(r'<section class="queue-group" data-queue="sanh">(.*?)</section>', page, re.S).group(1)
    assert "Sảnh chờ" in group and 'class="queue" data-count="3"' in group  # 2 in the hall + 1 by the wall
    assert 'data-field="dia-chinh"' in group
    card = re.search(r'<article class="counter-card state-online" data-camera="cam-b" data-counter="cho-3" '
                     r'data-counter-id="quay-3">(.*?)</article>', group, re.S).group(1)
    assert "Quầy 3 – Địa chính" in card and 'class="staff" data-present="1"' in card
    assert 'class="serving" data-seconds="100"' in card
    assert "/timeline?counter=quay-3" in card  # the named counter's timeline, its seat and spot on two cameras
    # the current wait from the tickets: A1's 5 min; two tickets waiting, the first since 09:50
    assert 'class="current-wait" data-source="tickets" data-seconds="300"' in group
    assert 'class="tickets-waiting" data-count="2"' in group and "10:00" in group
    assert 'data-source="tickets">1 ' in card  # served today: A1, from the tickets


def test_overview_says_when_the_camera_never_sees_the_officer(make_site):
    """The seat never occupied today while a citizen sits at the spot: not 'away', but not visible (and served)."""
    folder = make_site(lambda f: _build(f, seated=False))
    client = create_app(load_config(folder / "cameras.yaml"), {"TESTING": True, "CLOCK": lambda: NOW}).test_client()
    log_in(client, "admin")
    page = client.get("/").get_data(as_text=True)
    card = re.search(r'data-counter-id="quay-3">(.*?)</article>', page, re.S).group(1)
    assert 'data-present="0" data-hidden="1"' in card and "camera không thấy" in card
    assert 'class="serving" data-seconds="100"' in card  # the citizen is being served all the same


def _post(client, path: str, data: dict, page: str):
    return client.post(path, data={"csrf_token": csrf_token(client, page), **data})


def _error(r) -> list[str]:
    return re.findall(r'<p class="error" role="alert">([^<]*)</p>', htmllib.unescape(r.get_data(as_text=True)))


def test_counters_page_adds_edits_and_deletes_keeping_comments(admin, site):
    path = site / "cameras.yaml"
    page = admin.get("/site/counters").get_data(as_text=True)
    assert 'data-counter-id="quay-3"' in page and 'data-queue-id="sanh"' in page
    form = {"id": "quay-4", "name": "Quầy 4 – Tư pháp", "field": "tu-phap", "seat": "cam-a/ghe-4",
            "spot": "cam-b/cho-4", "queue": "sanh"}
    assert _post(admin, "/site/counters/new", form, "/site/counters/new").status_code == 302
    config = load_config(path)
    assert [c.id for c in config.counters] == ["quay-3", "quay-4"]
    assert config.queues[0].feeds == ["dia-chinh", "quay-4"]  # its field is not fed: the queue names the counter
    text = path.read_text(encoding="utf-8")
    assert "# the office manager's notes stay after every save" in text and "# named by the office" in text
    assert "staff_seat: {camera: cam-a, zone: ghe-4}" in text

    r = _post(admin, "/site/counters/quay-4/edit", {**form, "name": "Quầy Bốn"}, "/site/counters/quay-4/edit")
    assert r.status_code == 302 and load_config(path).counters[1].name == "Quầy Bốn"
    assert _post(admin, "/site/counters/quay-4/delete", {}, "/site/counters").status_code == 302
    config = load_config(path)
    assert [c.id for c in config.counters] == ["quay-3"] and config.queues[0].feeds == ["dia-chinh"]
    db = connect(site / "t.db", readonly=True)
    rows = query(db, AuditFilter(action="config_change"), limit=10)
    db.conn.close()
    assert [(r.target, r.detail) for r in rows][:3] == [("counter quay-4", "deleted"), ("counter quay-4", "edited"),
                                                         ("counter quay-4", "added")]


@pytest.mark.parametrize("path, page, form, expected", [
    ("/site/counters/new", "/site/counters/new",
     {"id": "quay-4", "name": "Quầy 4", "seat": "cam-a/ghe-3", "spot": "cam-b/cho-4", "queue": "sanh"},
     "zone cam-a/ghe-3 is already used by counters[0].staff_seat"),
    ("/site/counters/new", "/site/counters/new",
     {"id": "Quầy 4", "name": "Quầy 4", "seat": "cam-a/ghe-4", "spot": "cam-b/cho-4", "queue": "sanh"},
     "counters[1].id"),
    ("/site/counters/new", "/site/counters/new",
     {"id": "quay-4", "name": "Quầy 4", "seat": "cam-a/ghe-4", "spot": "cam-b/cho-4", "queue": ""},
     "counter 'quay-4' is fed by no queue"),
    ("/site/counters/new", "/site/counters/new",
     {"id": "quay-4", "name": "", "seat": "cam-a/ghe-4", "spot": "cam-b/cho-4", "queue": "sanh"},
     "Hãy nhập tên quầy."),
    ("/site/queues/sanh/delete", "/site/counters", {}, "counter 'quay-3' is fed by no queue"),
    ("/site/queues/new", "/site/queues/new",
     {"id": "q2", "name": "Q2", "areas": "cam-sanh/day-ghe", "feeds": "quay-3"},
     "zone cam-sanh/day-ghe is already used by queues[0].waiting_areas[0]"),
])
def test_a_refused_change_is_one_line_and_leaves_the_file(admin, site, path, page, form, expected):
    before = (site / "cameras.yaml").read_bytes()
    r = _post(admin, path, form, page)
    errors = _error(r)
    assert r.status_code == 400 and len(errors) == 1 and expected in errors[0], errors
    assert "\n" not in errors[0] and "/tmp" not in errors[0]
    assert (site / "cameras.yaml").read_bytes() == before


def test_first_change_of_a_derived_office_writes_its_counters_out(make_site):
    folder = make_site(_build)
    path = folder / "cameras.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[:text.index("counters:")], encoding="utf-8")  # no sections: derived (no pairs on one camera)
    text = path.read_text(encoding="utf-8").replace("- {id: cho-3, kind: service_spot", "- {id: x-3, kind: motion")
    text = text.replace("      - {id: ghe-3, kind: staff_seat",
                        "      - {id: cho-3, kind: service_spot, points: [[0.6, 0.1], [0.9, 0.1], [0.9, 0.3]]}\n"
                        "      - {id: ghe-3, kind: staff_seat")
    path.write_text(text, encoding="utf-8")
    config = load_config(path)
    assert config.counters is None
    client = create_app(config, {"TESTING": True, "CLOCK": lambda: NOW}).test_client()
    log_in(client, "admin")
    assert 'data-counter-id="cam-a"' in client.get("/site/counters").get_data(as_text=True)
    r = _post(client, "/site/counters/cam-a/edit", {"name": "Quầy 3", "field": "", "seat": "cam-a/ghe-3",
                                                    "spot": "cam-a/cho-3", "queue": "cam-a"}, "/site/counters")
    assert r.status_code == 302, _error(r)
    config = load_config(path)
    assert [(c.id, c.name) for c in config.counters] == [("cam-a", "Quầy 3")]
    assert [q.id for q in config.queues] == ["cam-a"]


def test_reports_office_view_puts_tickets_beside_the_cameras(app):
    client = app.test_client()
    log_in(client, "viewer")
    page = client.get("/reports?by=office").get_data(as_text=True)
    row = re.search(r'<tr data-level="counter" data-id="quay-3">(.*?)</tr>', page, re.S).group(1)
    assert "Quầy 3 – Địa chính" in row and '<td class="source">phiếu</td>' in row
    assert '<td class="served">1</td>' in row and '<td class="camera-served">1</td>' in row
    assert '<td class="mean-wait">5:00</td>' in row  # A1: issued 09:53:20, called 09:58:20
    assert re.search(r'<tr data-level="field" data-id="dia-chinh">', page)
    assert re.search(r'<tr data-level="queue" data-id="sanh">.*?Sảnh chờ', page, re.S)
    agreement = re.search(r'<tr data-id="quay-3">(.*?)</tr>', page, re.S).group(1)
    assert '<td class="served-diff">0</td>' in agreement  # the camera saw the same citizen sit down
    r = client.get("/reports/download?from=2026-11-24&to=2026-11-24&format=csv&by=office")
    assert r.status_code == 200 and 'filename="onestop-office-report-2026-11-24.csv"' in r.headers["Content-Disposition"]
    lines = r.data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Ngày,Giờ,Loại,Mã,Tên,Nguồn")
    assert any(",quầy,quay-3,Quầy 3 – Địa chính,phiếu,1," in line for line in lines)
    html = client.get("/reports/download?from=2026-11-24&to=2026-11-24&format=html&by=office")
    assert html.status_code == 200 and "Quầy 3 – Địa chính" in html.get_data(as_text=True)
    assert client.get("/reports?by=floor").status_code == 400
    assert client.get("/reports/download?from=2026-11-24&to=2026-11-24&format=csv&by=x").status_code == 400


def _lanes(page: str) -> list[str]:
    return re.findall(r'<text class="lane-label"[^>]*data-lane="(\w+)">', page)


def test_named_counter_timeline_has_its_lanes_across_cameras_and_its_rows(admin):
    r = admin.get(f"/timeline?counter=quay-3&date={DAY.isoformat()}")
    page = htmllib.unescape(r.get_data(as_text=True))
    assert r.status_code == 200 and "Quầy 3 – Địa chính" in page and 'data-counter="quay-3"' in page
    assert _lanes(page) == ["staff", "service", "queue", "events"]
    # the officer on cam-a all ten minutes, the citizen on cam-b for the last 100 s: one session still running
    sessions = re.findall(r'<rect class="session"[^>]*data-start="(\d+)" data-end="(\d+)"', page)
    assert len(sessions) == 1 and int(sessions[0][0]) == NOW - 100
    assert re.search(r'<path class="queue" d="M', page)  # the hall and the wall area summed
    day_row = re.search(r'<tr data-level="counter" data-id="quay-3" data-hour="day">(.*?)</tr>', page, re.S).group(1)
    assert 'class="source">phiếu<' in day_row and 'class="served">1<' in day_row  # A1, from the tickets
    assert 'class="camera-served">1<' in day_row  # the running session found by the cameras, beside the ticket
    assert 'data-level="queue" data-id="sanh"' in page and '<tr data-id="quay-3">' in page  # queue row, agreement row
    assert 'data-field="dia-chinh">Lĩnh vực: Địa chính – xây dựng</a>' in page  # the field by its display name


def test_field_timeline_shows_each_counter_and_the_field_in_english(admin):
    assert admin.post("/language", data={"language": "en", "csrf_token": csrf_token(admin, "/")}).status_code == 302
    page = htmllib.unescape(admin.get(f"/timeline?field=dia-chinh&date={DAY.isoformat()}").get_data(as_text=True))
    assert 'data-field="dia-chinh"' in page and "Land and construction" in page
    assert _lanes(page) == ["staff", "service", "queue", "events"]  # one counter in the field, its queue
    assert "Quầy 3 – Địa chính · " in page  # a field's lanes are named after their counter
    assert 'data-level="field" data-id="dia-chinh" data-hour="day"' in page


@pytest.mark.parametrize("query, message", [
    ("counter=quay-9", "counter: no counter 'quay-9' (known: quay-3)"),
    ("field=tu-phap", "field: no field 'tu-phap' (known: dia-chinh)"),
    ("counter=quay-3&date=24-11-2026", "date: expected a date like 2026-11-24"),
])
def test_timeline_refuses_an_unknown_counter_or_field_in_one_line(admin, query, message):
    r = admin.get(f"/timeline?{query}")
    assert r.status_code == 400 and message in htmllib.unescape(r.get_data(as_text=True))


def test_field_names_replace_raw_ids_on_the_overview_and_the_office_report(admin):
    page = htmllib.unescape(admin.get("/").get_data(as_text=True))
    assert "Địa chính – xây dựng" in page
    report = htmllib.unescape(admin.get(f"/reports?by=office&period=day&date={DAY.isoformat()}").get_data(as_text=True))
    row = re.search(r'<tr data-level="field" data-id="dia-chinh">(.*?)</tr>', report, re.S).group(1)
    assert "Địa chính – xây dựng" in row
