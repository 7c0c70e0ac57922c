"""The web app through Flask's test client on a real SQLite file: login, roles, CSRF, language, pages, files."""

from __future__ import annotations

import csv
import io
import re
import stat
import textwrap
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from monitor.db import users
from monitor.site.config import load_config
from monitor.db.store import Writer, connect, open_db
from webui import PUBLIC_ENDPOINTS, create_app
from webtest import ACCOUNTS, PASSWORD, add_accounts, csrf_token

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = date(2026, 11, 24)  # a Tuesday: the counters are open
NOW = datetime.combine(DAY, time(16, 0), tzinfo=TZ).timestamp()
TRI = "[[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]"
WEBUI = Path(__file__).resolve().parents[2] / "webui"
REPORT_RENDERING = WEBUI.parent / "monitor" / "counters"


def at(hh: int, mm: int = 0) -> int:
    return int(datetime.combine(DAY, time(hh, mm), tzinfo=TZ).timestamp())


def _build_site(folder: Path) -> None:
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
          - {{id: quay-2, name: "Quầy 2", streams: {{main: b.mp4}}}}
        """), encoding="utf-8")
    config = load_config(folder / "cameras.yaml")
    db = open_db(config.storage.database)
    w = Writer(db)
    w.register_cameras([("quay-1", "Quầy 1", True), ("quay-2", "Quầy 2", True)])
    w.apply([{"type": "status", "camera": "quay-1", "state": "online", "t": 1.0},
             {"type": "status", "camera": "quay-2", "state": "offline", "error": "timed out", "t": 1.0}])
    clip = folder / "rec" / "quay-1" / "2026-11-24" / "e1.mp4"
    clip.parent.mkdir(parents=True)
    clip.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
    clip.with_suffix(".jpg").write_bytes(b"\xff\xd8\xff\xe0fakejpeg")
    (folder / "rec" / "quay-1" / "live.jpg").write_bytes(b"\xff\xd8\xff\xe0live")  # the worker's live snapshot
    for i in range(60):
        eid = "e1" if i == 59 else f"e-old-{i:02d}"
        w.apply([{"type": "event_start", "camera": "quay-1" if i % 2 else "quay-2", "id": eid,
                  "start": 1_790_000_000.0 + i * 60, "clip": True, "t": 0.0},
                 {"type": "event_end", "camera": "quay-1", "id": eid, "end": 1_790_000_000.0 + i * 60 + 12, "t": 0.0}])
    w.apply([{"type": "clip", "camera": "quay-1", "id": "e1", "path": "quay-1/2026-11-24/e1.mp4", "duration": 20.0, "t": 0},
             {"type": "thumbnail", "camera": "quay-1", "id": "e1", "path": "quay-1/2026-11-24/e1.jpg", "t": 0},
             # a row whose stored path tries to leave the recordings folder must never be served
             {"type": "event_start", "camera": "quay-1", "id": "evil", "start": 1.0, "clip": True, "t": 0},
             {"type": "clip", "camera": "quay-1", "id": "evil", "path": "../cameras.yaml", "duration": 1.0, "t": 0}])
    # 08:00-08:20 at counter 1: the officer seated throughout, two citizens served (08:02-08:07, 08:10-08:14)
    served = [(120, 420), (600, 840)]
    w.apply([{"type": "occupancy", "camera": "quay-1", "t": at(8) + s, "zones": {
        "ghe": {"occupied": True, "count": 1.0},
        "cho": {"occupied": any(a <= s < b for a, b in served), "count": 1.0}}} for s in range(1200)])
    add_accounts(db)
    db.conn.close()


@pytest.fixture
def site(make_site):
    folder = make_site(_build_site)
    return load_config(folder / "cameras.yaml"), folder / "rec" / "quay-1" / "2026-11-24" / "e1.mp4"


@pytest.fixture
def app(site):
    return create_app(site[0], {"TESTING": True, "CLOCK": lambda: NOW})


def login(client, username: str, password: str = PASSWORD, next_: str | None = None):
    form = {"csrf_token": csrf_token(client), "username": username, "password": password}
    if next_ is not None:
        form["next"] = next_
    return client.post("/login", data=form)


@pytest.fixture
def client(client_as):
    return client_as("supervisor")


# ---------------------------------------------------------------- who may see what

REPORT = "/reports/download?from=2026-11-24&to=2026-11-24&format=csv"
# (method, path, lowest role allowed); every route of the app appears here (checked below)
ROUTES = [
    ("GET", "/cameras", "admin"),
    ("GET", "/cameras/new", "admin"),
    ("GET", "/cameras/quay-1/edit", "admin"),
    ("GET", "/cameras/quay-1/delete", "admin"),
    ("GET", "/cameras/quay-1/zones", "admin"),
    ("GET", "/cameras/quay-1/snapshot.jpg", "admin"),
    ("GET", "/cameras/test/no-such-draft/main.jpg", "admin"),
    ("POST", "/cameras/quay-2/enabled", "admin"),
    ("POST", "/cameras/probe", "admin"),
    ("POST", "/cameras/manual", "admin"),
    ("POST", "/cameras/setup/no-such-draft", "admin"),
    ("POST", "/cameras/quay-1/zones", "admin"),
    ("POST", "/cameras/discover", "admin"),
    ("GET", "/", "supervisor"),  # a viewer is sent on to /reports (REDIRECTS)
    ("GET", "/overview/counters", "supervisor"),
    ("GET", "/live", "viewer"),  # viewers see the cameras' privacy masks blurred
    ("GET", "/live/quay-1.jpg", "viewer"),
    ("GET", "/live/quay-1.mjpeg", "viewer"),
    ("GET", "/timeline?camera=quay-1&counter=cho&date=2026-11-24", "supervisor"),
    ("GET", "/recordings?camera=quay-1&date=2026-11-24", "supervisor"),
    ("GET", "/recordings/segments/1.mp4", "supervisor"),  # 404: this site has no segments (test_web_recordings.py)
    ("GET", "/recordings/segments/1.h264.mp4", "supervisor"),
    ("GET", "/events", "supervisor"),
    ("GET", "/health", "supervisor"),
    ("GET", "/health/cameras", "supervisor"),
    ("POST", "/health/cameras/quay-1/heights", "admin"),  # 400 for admins: no height check found these markers off
    ("GET", "/alerts", "supervisor"),
    ("POST", "/alerts/1/ack", "supervisor"),
    ("GET", "/compliance?date=2026-11-24", "supervisor"),
    ("GET", "/compliance/week?date=2026-11-24", "supervisor"),
    ("GET", "/cases", "supervisor"),
    ("POST", "/cases", "supervisor"),  # 400: the generic form has no time range
    ("GET", "/cases/1", "supervisor"),  # 404: no cases on this site
    ("POST", "/cases/1/notes", "supervisor"),
    ("POST", "/cases/1/close", "admin"),
    ("POST", "/cases/1/release", "admin"),
    ("GET", "/cases/1/export.zip", "supervisor"),
    ("GET", "/notice", "viewer"),
    ("GET", "/events/e1", "supervisor"),
    ("POST", "/events/e1/review", "supervisor"),
    ("GET", "/events/e1/clip.mp4", "supervisor"),
    ("GET", "/events/e1/clip.h264.mp4", "supervisor"),  # 404: e1's clip is no H.265 (test_web_rendition.py)
    ("GET", "/events/e1/thumbnail.jpg", "supervisor"),
    ("GET", "/api/v1/events", "supervisor"),
    ("GET", "/api/v1/cameras", "supervisor"),
    ("GET", "/api/v1/events/e1", "supervisor"),
    ("GET", "/api/v1/occupancy?camera=quay-1", "supervisor"),
    ("GET", "/api/v1/occupancy/now?camera=quay-1", "supervisor"),
    ("GET", "/api/v1/reports?from=2026-11-24&to=2026-11-24", "viewer"),
    ("GET", "/api/v1/openapi.json", "viewer"),
    ("GET", "/reports", "viewer"),
    ("GET", REPORT, "viewer"),
    ("POST", "/language", "viewer"),
    ("POST", "/logout", "viewer"),
    ("GET", "/site/counters", "admin"),
    ("GET", "/site/counters/new", "admin"),
    ("GET", "/site/counters/quay-1/edit", "admin"),
    ("POST", "/site/counters/quay-1/delete", "admin"),
    ("GET", "/site/queues/new", "admin"),
    ("GET", "/site/queues/no-such-queue/edit", "admin"),
    ("GET", "/site/queues/no-such-queue/delete", "admin"),
    ("GET", "/audit", "admin"),
    ("GET", "/audit/export.csv", "admin"),
]
ROLES = [None, "viewer", "supervisor", "admin"]
# (path, role) -> where that role is redirected instead of being refused
REDIRECTS = {("/", "viewer"): "/reports"}
# allowed requests that answer other than 200 (GET) / 302 (POST): the generic form lacks their fields
ALLOWED_STATUS = {("GET", "/recordings/segments/1.mp4"): (404,), ("GET", "/recordings/segments/1.h264.mp4"): (404,),
                  ("GET", "/cameras/test/no-such-draft/main.jpg"): (404,), ("GET", "/events/e1/clip.h264.mp4"): (404,), ("POST", "/cameras/probe"): (400,),
                  ("POST", "/cameras/manual"): (400,), ("POST", "/cameras/setup/no-such-draft"): (404,),
                  ("POST", "/cameras/quay-1/zones"): (400,), ("POST", "/alerts/1/ack"): (400,), ("GET", "/site/queues/no-such-queue/edit"): (404,),
                  ("GET", "/site/queues/no-such-queue/delete"): (404,), ("POST", "/cases"): (400,),
                  ("GET", "/cases/1"): (404,), ("POST", "/cases/1/notes"): (404,), ("POST", "/cases/1/close"): (404,),
                  ("POST", "/health/cameras/quay-1/heights"): (400,),
                  ("POST", "/cases/1/release"): (404,), ("GET", "/cases/1/export.zip"): (404,),
                  # quay-1, derived, has no waiting area: as a named counter it would be fed by no queue
                  ("POST", "/site/counters/quay-1/delete"): (302, 400), ("POST", "/cameras/discover"): (200, 400)}  # 400 where the machine has no multicast route


def _request(client, method: str, path: str):
    if method == "GET":
        return client.get(path)
    token = csrf_token(client, "/reports" if path != "/login" else "/login")
    return client.post(path, data={"csrf_token": token, "language": "en", "next": "/reports"})


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
@pytest.mark.parametrize("method, path, minimum", ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_routes_by_role(client_as, role, method, path, minimum):
    client = client_as(role)
    if role is None:
        if method == "POST":  # an anonymous visitor has a CSRF token from the login page, but no session
            token = csrf_token(client)
            r = client.post(path, data={"csrf_token": token, "language": "en"})
            assert r.status_code == 302 and r.location == "/login"
        elif path.startswith("/api/"):
            r = client.get(path)
            assert r.status_code == 401 and r.get_json() == {"error": "login required"}
        else:
            r = client.get(path)
            assert r.status_code == 302 and r.location.startswith("/login?next=")
        return
    with _request(client, method, path) as r:  # closes the file of a served clip
        if (path, role) in REDIRECTS:
            assert r.status_code == 302 and r.location == REDIRECTS[(path, role)]
        elif users.role_at_least(role, minimum):
            expected = ALLOWED_STATUS.get((method, path), (200 if method == "GET" else 302,))
            assert r.status_code in expected, r.get_data(as_text=True)[:300]
        else:
            assert r.status_code == 403
            assert r.is_json == path.startswith("/api/")


def test_every_route_is_in_the_role_table(app):
    adapter = app.url_map.bind("localhost")
    covered = {adapter.match(path.split("?")[0], method=method)[0] for method, path, _ in ROUTES}
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()} - PUBLIC_ENDPOINTS  # these check access themselves
    assert endpoints == covered


def test_login_page_and_static_files_need_no_session(client_as):
    anon = client_as(None)
    assert anon.get("/login").status_code == 200
    with anon.get("/static/style.css") as css:
        assert css.status_code == 200
    assert anon.get("/no/such/page").status_code == 302  # unknown paths do not reveal themselves either


# ---------------------------------------------------------------- login, logout, CSRF, sessions


def test_login_redirects_back_and_records_last_login(client_as, site):
    anon = client_as(None)
    r = anon.get("/events/e1")
    assert r.status_code == 302 and r.location == "/login?next=/events/e1"
    html = anon.get(r.location).get_data(as_text=True)
    assert 'name="next" value="/events/e1"' in html
    r = login(anon, "giam-sat", next_="/events/e1")
    assert r.status_code == 302 and r.location == "/events/e1"
    assert anon.get("/events/e1").status_code == 200
    db = connect(site[0].storage.database, readonly=True)
    assert users.get_user(db, "giam-sat").last_login == NOW
    db.conn.close()


@pytest.mark.parametrize("role, home", [("viewer", "/reports"), ("supervisor", "/"), ("admin", "/")])
def test_login_lands_on_a_page_the_role_may_see(client_as, role, home):
    r = login(client_as(None), ACCOUNTS[role])
    assert r.status_code == 302 and r.location == home


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"])
def test_login_never_redirects_off_site(client_as, target):
    r = login(client_as(None), "giam-sat", next_=target)
    assert r.status_code == 302 and r.location == "/"


def test_wrong_password_and_unknown_user_look_the_same(client_as):
    anon = client_as(None)
    pages = []
    for name, password in [("giam-sat", "wrong-password"), ("khong-co", PASSWORD)]:
        r = login(anon, name, password)
        assert r.status_code == 200
        html = r.get_data(as_text=True)
        assert "Sai tên đăng nhập hoặc mật khẩu." in html  # the site's language: Vietnamese
        pages.append(re.sub(r'value="[^"]*"', 'value=""', html))
    assert pages[0] == pages[1]
    assert anon.get("/").status_code == 302  # still not logged in


def test_a_password_typed_as_username_is_not_logged(client_as, caplog):
    caplog.set_level("INFO", logger="webui.auth")
    login(client_as(None), "Hunter2 secret!", "x")
    login(client_as(None), "giam-sat", "wrong-password")
    assert "Hunter2" not in caplog.text and "failed login for giam-sat" in caplog.text


def test_username_is_case_insensitive_at_login(client_as):
    assert login(client_as(None), "  Giam-Sat ").status_code == 302


def test_posts_without_csrf_token_are_refused(client_as):
    anon = client_as(None)
    anon.get("/login")
    r = anon.post("/login", data={"username": "giam-sat", "password": PASSWORD})
    assert r.status_code == 400 and anon.get("/").status_code == 302
    client = client_as("supervisor")
    assert client.post("/logout").status_code == 400
    assert client.post("/language", data={"language": "en"}).status_code == 400
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 400
    assert client.get("/").status_code == 200  # still logged in


def test_logout_ends_the_session(client):
    token = csrf_token(client, "/")
    assert client.get("/logout").status_code == 405  # a link or an <img> cannot log anyone out
    r = client.post("/logout", data={"csrf_token": token})
    assert r.status_code == 302 and r.location == "/login"
    assert "Bạn đã đăng xuất." in client.get("/login").get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert client.get("/api/v1/events").status_code == 401


def test_a_removed_user_is_logged_out_at_the_next_request(client, site):
    assert client.get("/").status_code == 200
    db = open_db(site[0].storage.database)
    users.remove_user(db, "giam-sat")
    db.conn.close()
    assert client.get("/").status_code == 302


def test_session_cookie_is_httponly_and_samesite_lax(client_as):
    r = login(client_as(None), "giam-sat")
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_secret_key_is_kept_in_a_private_file_next_to_the_database(site, monkeypatch):
    monkeypatch.delenv("ONESTOP_SECRET_KEY", raising=False)
    config = site[0]
    key = create_app(config).config["SECRET_KEY"]
    path = Path(str(config.storage.database) + ".secret-key")
    assert path.read_text().strip() == key and len(key) == 64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert create_app(config).config["SECRET_KEY"] == key  # sessions survive a restart
    monkeypatch.setenv("ONESTOP_SECRET_KEY", "from-the-environment")
    assert create_app(config).config["SECRET_KEY"] == "from-the-environment"


# ---------------------------------------------------------------- language


def test_language_switch_is_stored_per_user(client_as, site):
    client = client_as("supervisor")
    html = client.get("/events/e1").get_data(as_text=True)
    start = datetime.fromtimestamp(1_790_000_000 + 59 * 60, TZ)
    assert '<html lang="vi">' in html and "Thời lượng đoạn ghi" in html and start.strftime("%d/%m/%Y") in html
    r = client.post("/language", data={"csrf_token": csrf_token(client, "/"), "language": "en", "next": "/events/e1"})
    assert r.status_code == 302 and r.location == "/events/e1"
    html = client.get("/events/e1").get_data(as_text=True)
    assert '<html lang="en">' in html and "Clip length" in html and start.strftime("%Y-%m-%d") in html
    # stored with the account: a new session of the same user is in English, other users are not
    assert "Minimum length (s)" in client_as("supervisor").get("/events").get_data(as_text=True)
    assert "Thời lượng tối thiểu (giây)" in client_as("admin").get("/events").get_data(as_text=True)
    db = connect(site[0].storage.database, readonly=True)
    assert users.get_user(db, "giam-sat").language == "en"
    db.conn.close()


def test_vietnamese_labels_on_every_page(client_as):
    client = client_as("admin")
    expected = {"/events": ["Sự kiện", "Camera", "Vùng", "Bắt đầu", "cũ hơn", "Lọc", "Đăng xuất"],
                "/events/e1": ["tất cả sự kiện", "tải đoạn ghi", "Chuyển động lớn nhất"],
                "/reports": ["Báo cáo", "Hôm nay", "Tuần này", "Tải về", "24/11/2026"]}
    for path, labels in expected.items():
        html = client.get(path).get_data(as_text=True)
        for label in labels:
            assert label in html, (path, label)


def test_bad_language_is_400(client):
    r = client.post("/language", data={"csrf_token": csrf_token(client, "/"), "language": "fr"})
    assert r.status_code == 400


def _messages(catalog) -> dict:
    """Message id -> translation of every translated, non-fuzzy entry (what gettext will use)."""
    def key(value):  # plural entries: read_po gives tuples, read_mo lists
        return tuple(value) if isinstance(value, (list, tuple)) else value
    return {key(m.id): key(m.string) for m in catalog if m.id and m.string and not m.fuzzy}


def test_compiled_catalog_is_up_to_date():
    """The committed .mo holds the .po's translations (compared by content: Babel releases differ in bytes)."""
    po = WEBUI / "translations" / "vi" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as f:
        source = _messages(read_po(f, locale="vi"))
    with po.with_suffix(".mo").open("rb") as f:
        compiled = _messages(read_mo(f))
    assert source, "no translations read from messages.po"
    assert compiled == source, "run: .venv/bin/pybabel compile -d webui/translations"


def test_every_ui_string_has_a_vietnamese_translation():
    with (WEBUI / "translations" / "vi" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale="vi")
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2.ext:babel_extract")]
    missing = []
    keywords = {**DEFAULT_KEYWORDS, "_l": None}  # webui marks module-level strings with _l = lazy_gettext
    found = [m for folder in (WEBUI, REPORT_RENDERING)  # the standalone report shares the catalogue
             for _file, _line, m, _comments, _context in extract_from_dir(str(folder), method_map, keywords=keywords)]
    assert "One-stop counter report" in found and "Mean service time (s)" in found  # the report's strings are read
    for message in found:
        msgid = message[0] if isinstance(message, tuple) else message
        entry = catalog.get(msgid)
        strings = entry.string if entry is not None and isinstance(entry.string, tuple) else [getattr(entry, "string", "")]
        if entry is None or entry.fuzzy or not all(strings):
            missing.append(msgid)
    assert not missing, "add to messages.po, then pybabel compile: " + repr(missing)


# ---------------------------------------------------------------- reports


def test_reports_page_links_to_real_reports(client_as):
    client = client_as("viewer")
    html = client.get("/reports").get_data(as_text=True)
    assert "from=2026-11-24&amp;to=2026-11-24&amp;format=csv" in html  # today
    assert "from=2026-11-23&amp;to=2026-11-24&amp;format=html" in html  # this week, Monday to today
    r = client.get("/reports/download?from=2026-11-24&to=2026-11-24&format=csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert 'attachment; filename="onestop-report-2026-11-24.csv"' == r.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    day_rows = [row for row in rows[1:] if row[0] == "24/11/2026" and "quay-1" in row]
    assert day_rows and "2" in day_rows[0]  # two citizens served at counter 1 that day
    r = client.get("/reports/download?from=2026-11-23&to=2026-11-24&format=html&camera=quay-1")
    assert r.status_code == 200 and r.mimetype == "text/html" and b"<html" in r.data


@pytest.mark.parametrize("query", ["from=2026-11-25&to=2026-11-24", "from=24/11/2026&to=2026-11-24",
                                   "from=2026-11-24&to=2026-11-24&format=xls",
                                   "from=2026-11-24&to=2026-11-24&camera=nope", "from=2020-01-01&to=2026-01-01"])
def test_bad_report_parameters_are_400(client_as, query):
    assert client_as("viewer").get(f"/reports/download?{query}").status_code == 400


# ---------------------------------------------------------------- events pages (logged in as a supervisor)


def test_events_page_lists_newest_events_first(client):
    r = client.get("/events")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "Quầy 1" in html  # in the camera filter
    assert html.index('data-event="e1"') < html.index('data-event="e-old-58"')
    assert "/events/e1/thumbnail.jpg" in html
    assert html.count('class="event"') == 50 and 'rel="next"' in html


def test_pagination_and_camera_filter(client):
    html = client.get("/events?page=2").get_data(as_text=True)
    assert html.count('class="event"') == 11 and 'rel="prev"' in html
    html = client.get("/events?camera=quay-2").get_data(as_text=True)
    assert 'data-event="e1"' not in html and 'data-event="e-old-00"' in html


@pytest.mark.parametrize("query", ["page=0", "page=-1", "page=abc", "page=99999999999", "camera=nope", "camera=%00%ff"])
def test_bad_parameters_are_400_not_500(client, query):
    for path in ("/events", "/api/v1/events"):
        r = client.get(f"{path}?{query}")
        assert r.status_code == 400, (path, query)


def test_event_page_plays_clip_with_range_requests(client, site):
    _, clip = site
    html = client.get("/events/e1").get_data(as_text=True)
    assert '<video id="clip"' in html and "/events/e1/clip.mp4" in html
    with client.get("/events/e1/clip.mp4") as full:
        assert full.status_code == 200 and full.data == clip.read_bytes() and full.mimetype == "video/mp4"
    with client.get("/events/e1/clip.mp4", headers={"Range": "bytes=100-199"}) as part:
        assert part.status_code == 206 and part.data == clip.read_bytes()[100:200]
    with client.get("/events/e1/clip.mp4?download=1") as dl:
        assert "attachment" in dl.headers["Content-Disposition"]
    with client.get("/events/e1/thumbnail.jpg") as thumb:
        assert thumb.data.startswith(b"\xff\xd8")


@pytest.mark.parametrize("path", ["/events/nope", "/events/nope/clip.mp4", "/events/e-old-00/clip.mp4",
                                  "/events/evil/clip.mp4", "/events/e-old-00/thumbnail.jpg"])
def test_missing_or_unsafe_files_are_404(client, path):
    assert client.get(path).status_code == 404


def test_json_api(client):
    events = client.get("/api/v1/events").get_json()["events"]
    assert events[0]["id"] == "e1" and len(events) == 50
    cams = {c["id"]: c for c in client.get("/api/v1/cameras").get_json()}
    assert cams["quay-2"]["state"] == "offline"
