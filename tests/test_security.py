"""Security of the web app through Flask's test client on a real SQLite file: every route by role, CSRF,
path traversal, login throttling, cookie flags, security headers, the audit log, and a planted secret."""

from __future__ import annotations

import csv
import io
import logging
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import free_port
from monitor.db import audit as audit_store
from monitor.cli import main as cli
from monitor.site.config import load_config
from monitor.camera.sources import SourceStatus, StreamSource
from monitor.db.store import connect
from sectest import CSRF_EXEMPT, NOW, OUTSIDE, ROUTE_TABLE, SECRET, build_site, secret_env, write_config
from webtest import PASSWORD, copy_site, csrf_token, log_in
from webui import create_app
from webui import security

WEBUI = Path(__file__).resolve().parent.parent / "webui"
ROLES = (None, "viewer", "supervisor", "admin")

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def _source_error(config) -> str:  # noqa: ANN001 - monitor.site.config.Config
    """quay-1's error as its real source reports it: the RTSP URL with the planted password, connection refused."""
    cam = config.camera("quay-1")
    source = StreamSource(cam.stream_url("main"), cam.id, packets=True, decode=False)
    for item in source.items():
        if isinstance(item, SourceStatus) and item.error:
            return item.error
    raise AssertionError("the source reported no error")


@pytest.fixture(scope="module")
def template_site(tmp_path_factory):
    """Built once (password hashing is slow on purpose); quay-1 points at a closed port with the planted password."""
    folder = tmp_path_factory.mktemp("secsite")
    with secret_env():
        write_config(folder, rtsp_port=free_port())
        error = _source_error(load_config(folder / "cameras.yaml"))
        build_site(folder, status_error=error)
    return folder


@pytest.fixture
def folder(template_site, tmp_path):
    folder = copy_site(template_site, tmp_path)
    link = folder / "rec" / "quay-1" / "link.mp4"  # copytree copied the file the link points to: link again
    link.unlink()
    link.symlink_to(folder / "outside.txt")
    return folder


@pytest.fixture
def make_app(folder):
    def make(language: str = "vi", **extra):
        with secret_env():
            if language != "vi":
                write_config(folder, language=language)
            config = load_config(folder / "cameras.yaml")
        return create_app(config, {"TESTING": True, "CLOCK": lambda: NOW, "MJPEG_MAX_S": 0.2, **extra})

    return make


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client_as(app):
    def make(role: str | None, ip: str = "10.0.0.7"):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = ip
        if role is not None:
            log_in(client, role)
        return client

    return make


def audit_rows(folder: Path, action: str | None = None) -> list[audit_store.Entry]:
    db = connect(folder / "t.db", readonly=True)
    try:
        return audit_store.query(db, audit_store.AuditFilter(action=action), limit=1000)
    finally:
        db.conn.close()


def send(client, method: str, path: str, token: bool = True):  # noqa: ANN001 - flask test client
    """The table's request; forms carry a valid CSRF token unless token=False."""
    if method == "GET":
        return client.get(path, buffered=path.endswith(".mjpeg"))
    data = {"language": "en", "action": "review", "next": "/reports"}
    if token:
        data["csrf_token"] = csrf_token(client, "/reports" if client.get("/reports").status_code == 200 else "/login")
    return client.open(path, method=method, data=data)


# ---------------------------------------------------------------- who may use which route


def test_every_route_is_in_the_table(app):
    missing = []
    for rule in app.url_map.iter_rules():
        methods = set(rule.methods or ()) - {"HEAD", "OPTIONS"}
        entry = ROUTE_TABLE.get(rule.endpoint)
        if entry is None or entry[0] not in methods:
            missing.append(f"{sorted(methods)} {rule.rule} ({rule.endpoint})")
    assert not missing, "add these routes to ROUTE_TABLE with the status each role gets: " + ", ".join(missing)


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
@pytest.mark.parametrize("endpoint", sorted(ROUTE_TABLE))
def test_route_status_by_role(client_as, endpoint, role):
    method, path, expected = ROUTE_TABLE[endpoint]
    with secret_env(), send(client_as(role), method, path) as r:  # saving a camera re-reads ${SECRET_ENV}
        want = expected[ROLES.index(role)]
        assert r.status_code in (want if isinstance(want, tuple) else (want,)), r.get_data(as_text=True)[:300]
        if r.status_code == 302 and role is None and endpoint != "auth.login":
            assert r.location.startswith("/login")
        if r.status_code in (401, 403):
            assert r.is_json == path.startswith("/api/")


def test_state_changing_routes_refuse_a_missing_or_forged_csrf_token(app, client_as):
    client = client_as("admin")
    checked = 0
    for rule in app.url_map.iter_rules():
        for method in sorted(set(rule.methods or ()) & STATE_CHANGING):
            path = ROUTE_TABLE[rule.endpoint][1]
            if rule.endpoint in CSRF_EXEMPT:  # a bearer token instead: the admin's session alone gets nothing
                assert send(client, method, path, token=False).status_code == 401, path
                continue
            assert send(client, method, path, token=False).status_code == 400, path
            forged = client.open(path, method=method, data={"csrf_token": "forged", "language": "en"})
            assert forged.status_code == 400, path
            checked += 1
    assert checked >= 3  # logout, language, review at least
    assert client.get("/audit").status_code == 200  # still logged in: nothing happened
    assert client_as(None).post("/login", data={"username": "quan-tri", "password": PASSWORD}).status_code == 400


# ---------------------------------------------------------------- files by id only


@pytest.mark.parametrize("path", [
    "/events/evil-0/clip.mp4", "/events/evil-1/clip.mp4", "/events/evil-2/clip.mp4", "/events/evil-3/clip.mp4",
    "/events/evil-0/thumbnail.jpg", "/events/evil-1/thumbnail.jpg", "/events/evil-2/thumbnail.jpg",
    "/events/..%2F..%2Foutside.txt/clip.mp4", "/events/%2e%2e/clip.mp4", "/events/../../outside.txt",
    "/static/../outside.txt", "/static/..%2F..%2Foutside.txt", "/static/%2e%2e/%2e%2e/etc/passwd",
    "/static//etc/passwd", "/live/..%2F..%2Foutside.jpg", "/live/%2e%2e.jpg", "/live/quay-1%00.jpg",
    "/api/v1/events/..%2F..%2Foutside.txt",
])
def test_path_traversal_never_serves_a_file_outside(client_as, path):
    with client_as("admin").get(path, follow_redirects=True) as r:  # /static//x redirects to /static/x
        assert r.status_code in (400, 404), r.status_code
        assert OUTSIDE.encode() not in r.data and b"root:" not in r.data


# ---------------------------------------------------------------- login throttling


def _login(client, username: str, password: str):  # noqa: ANN001 - flask test client
    return client.post("/login", data={"csrf_token": csrf_token(client), "username": username, "password": password})


def test_repeated_failures_lock_the_username_even_for_the_right_password(make_app):
    now = [NOW]
    app = make_app(CLOCK=lambda: now[0])
    client = app.test_client()
    for _ in range(security.MAX_FAILURES_PER_USER):
        assert _login(client, "giam-sat", "wrong-password").status_code == 200
    r = _login(client, "giam-sat", PASSWORD)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) == security.LOCKOUT_S
    assert "Đăng nhập sai quá nhiều lần" in r.get_data(as_text=True) and "15 phút" in r.get_data(as_text=True)
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.9.9.9"
    assert _login(other, "giam-sat", PASSWORD).status_code == 429  # the username is locked from every address
    assert _login(other, "quan-tri", PASSWORD).status_code == 302  # other accounts are not
    now[0] += security.LOCKOUT_S + 1
    assert _login(client, "giam-sat", PASSWORD).status_code == 302  # the lock ends by itself


def test_failures_from_one_address_lock_that_address(make_app, folder):
    app = make_app()
    client = app.test_client()
    for i in range(security.MAX_FAILURES_PER_IP):
        assert _login(client, f"doan-{i}", "wrong-password").status_code == 200
    assert _login(client, "quan-tri", PASSWORD).status_code == 429
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    assert _login(elsewhere, "quan-tri", PASSWORD).status_code == 302
    locked = audit_rows(folder, "login_locked")
    assert locked and locked[0].ip == "127.0.0.1"


def test_the_lockout_page_speaks_english_on_an_english_site(make_app):
    client = make_app(language="en").test_client()
    for _ in range(security.MAX_FAILURES_PER_USER):
        _login(client, "giam-sat", "nope-nope-nope")
    r = _login(client, "giam-sat", PASSWORD)
    html = r.get_data(as_text=True)
    assert r.status_code == 429 and "Too many failed logins" in html and "15 minutes" in html


def test_a_success_forgets_the_users_failures():
    throttle = security.LoginThrottle()
    for i in range(security.MAX_FAILURES_PER_USER - 1):
        assert not throttle.failed("lan", "1.2.3.4", NOW + i)
    throttle.succeeded("lan")
    assert not throttle.failed("lan", "1.2.3.4", NOW + 10)
    assert throttle.locked_for("lan", "1.2.3.4", NOW + 10) == 0
    # failures older than the window are forgotten too
    for i in range(security.MAX_FAILURES_PER_USER - 1):
        throttle.failed("mai", "1.2.3.5", NOW + i)
    assert not throttle.failed("mai", "1.2.3.5", NOW + security.WINDOW_S + 10)


def test_throttle_memory_is_bounded():
    throttle = security.LoginThrottle()
    for i in range(security.MAX_TRACKED_KEYS + 50):
        throttle.failed(f"u{i}", f"10.0.{i // 250}.{i % 250}", NOW)
    assert len(throttle._records) <= security.MAX_TRACKED_KEYS


# ---------------------------------------------------------------- cookies and headers


def test_session_cookie_flags(client_as):
    client = client_as(None)
    r = _login(client, "giam-sat", PASSWORD)
    cookies = r.headers.getlist("Set-Cookie")
    assert len(cookies) == 1 and cookies[0].startswith("session=")
    assert "HttpOnly" in cookies[0] and "SameSite=Lax" in cookies[0] and "Path=/" in cookies[0]


def _assert_security_headers(r) -> None:  # noqa: ANN001 - a response
    csp = r.headers.get("Content-Security-Policy", "")
    for directive in ("script-src 'self'", "object-src 'none'", "frame-ancestors 'none'", "base-uri 'self'",
                      "form-action 'self'", "img-src 'self' data: blob:", "media-src 'self'"):
        assert directive in csp, (directive, csp)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "same-origin"


def test_security_headers_on_pages_api_files_and_errors(client_as):
    anon, admin = client_as(None), client_as("admin")
    responses = [anon.get("/login"), anon.get("/static/style.css"), anon.get("/api/v1/events"), anon.get("/events"),
                 admin.get("/"), admin.get("/api/v1/events"), admin.get("/events/nope"), admin.get("/events?page=x"),
                 admin.get("/api/v1/events?page=x"), admin.get("/logout"), admin.post("/logout"),
                 admin.get("/events/e1/clip.mp4"), admin.get("/reports/download?from=2026-11-24&to=2026-11-24"),
                 client_as("viewer").get("/events")]
    for r in responses:
        with r:
            _assert_security_headers(r)
    assert {r.status_code for r in responses} >= {200, 302, 400, 401, 403, 404, 405}


def test_server_errors_carry_the_headers_and_no_traceback(make_app):
    app = make_app(TESTING=False)
    app.view_functions["overview.counters_fragment"] = _boom  # a bug in a view; the deny-by-default check still sees its role
    client = app.test_client()
    log_in(client, "admin")
    r = client.get("/overview/counters")
    assert r.status_code == 500
    _assert_security_headers(r)
    assert "Traceback" not in r.get_data(as_text=True) and "Lỗi máy chủ" in r.get_data(as_text=True)


def _boom() -> str:
    raise RuntimeError("a bug")


_boom.min_role = "supervisor"  # type: ignore[attr-defined]


def test_html_report_allows_exactly_its_own_inline_style(client_as):
    r = client_as("viewer").get("/reports/download?from=2026-11-24&to=2026-11-24&format=html")
    style = re.search(r"<style>(.*?)</style>", r.get_data(as_text=True), re.S).group(1)
    assert f"'{security.style_hash(style)}'" in r.headers["Content-Security-Policy"]
    _assert_security_headers(r)


INLINE = [(re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I), "inline <script>"),
          (re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I), "event handler attribute"),
          (re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I), "style attribute"),
          (re.compile(r"<style", re.I), "<style> block"),
          (re.compile(r"javascript:", re.I), "javascript: URL")]


def test_templates_have_no_inline_script_or_style():
    found = []
    for template in sorted((WEBUI / "templates").glob("*.html")):
        text = template.read_text(encoding="utf-8")
        found += [f"{template.name}: {what}" for pattern, what in INLINE if pattern.search(text)]
    assert not found, found


def test_rendered_pages_have_no_inline_script_or_style(client_as):
    client = client_as("admin")
    for endpoint, (method, path, _) in ROUTE_TABLE.items():
        if method != "GET" or endpoint in ("live.mjpeg", "static") or "download" in path or "." in path.rsplit("/", 1)[-1]:
            continue
        r = client.get(path)
        if r.mimetype == "text/html":
            html = r.get_data(as_text=True)
            assert not [what for pattern, what in INLINE if pattern.search(html)], path


# ---------------------------------------------------------------- the audit log


def test_audit_rows_for_logins_clips_exports_and_reviews(client_as, folder):
    anon = client_as(None, ip="10.0.0.99")
    _login(anon, "giam-sat", "wrong-password")
    _login(anon, "Hunter2 secret!", "x")  # a password typed as username never reaches the log
    client = client_as("supervisor", ip="10.0.0.8")
    with client.get("/events/e1/clip.mp4") as r:
        assert r.status_code == 200
    for rng in ("bytes=100-199", "bytes=2000-"):  # the player's later chunks are the same viewing
        with client.get("/events/e1/clip.mp4", headers={"Range": rng}) as r:
            assert r.status_code == 206
    with client.get("/events/e1/clip.mp4?download=1") as r:
        assert r.status_code == 200
    client.get("/reports/download?from=2026-11-24&to=2026-11-24&format=csv")
    client.get("/api/v1/reports?from=2026-11-24&to=2026-11-24&camera=quay-1")
    client.post("/events/e1/review", data={"csrf_token": csrf_token(client, "/"), "action": "review", "note": "ok"})
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    rows = audit_rows(folder)
    got = [(e.action, e.user, e.ip, e.target) for e in reversed(rows)]
    assert got == [
        ("login_failed", "giam-sat", "10.0.0.99", ""),
        ("login_failed", "(not a valid username)", "10.0.0.99", ""),
        ("login", "giam-sat", "10.0.0.8", ""),
        ("clip_view", "giam-sat", "10.0.0.8", "e1"),
        ("clip_download", "giam-sat", "10.0.0.8", "e1"),
        ("export", "giam-sat", "10.0.0.8", "report.csv"),
        ("export", "giam-sat", "10.0.0.8", "api.reports"),
        ("event_review", "giam-sat", "10.0.0.8", "e1"),
        ("logout", "giam-sat", "10.0.0.8", ""),
    ]
    assert all(e.t == NOW for e in rows)
    assert "Hunter2" not in repr(rows)


def test_cli_user_changes_are_audited_as_cli(folder):
    runner = CliRunner()
    with secret_env():
        args = ["-c", str(folder / "cameras.yaml")]
        r = runner.invoke(cli, ["users", "add", "lan", "--role", "viewer", "--password-stdin", *args], input="mat-khau-dai\n")
        assert r.exit_code == 0, r.output
        assert runner.invoke(cli, ["users", "remove", "lan", *args]).exit_code == 0
    rows = audit_rows(folder, "user_change")
    assert [(e.user, e.ip, e.target, e.detail) for e in reversed(rows)] == [
        ("cli", "local", "lan", "added (viewer)"), ("cli", "local", "lan", "removed")]


def test_admin_browses_filters_pages_and_exports_the_audit_log(client_as, folder):
    db = connect(folder / "t.db")
    for i in range(120):
        audit_store.write(db, audit_store.Entry(NOW - 86400 * (i % 3) - i, "xem" if i % 2 else "giam-sat", "10.0.0.5",
                                                "clip_view", f"e{i}", "=HYPERLINK(\"http://evil\")" if i == 0 else ""))
    db.conn.close()
    admin = client_as("admin")
    html = admin.get("/audit").get_data(as_text=True)
    assert "Nhật ký truy cập" in html and html.count('class="audit-row"') == 50 and 'rel="next"' in html
    html = admin.get("/audit?user=xem&action=clip_view").get_data(as_text=True)
    assert html.count('class="audit-row"') == 50 and "giam-sat</td>" not in html
    html = admin.get("/audit?date_from=2026-11-24&date_to=2026-11-24&action=clip_view&page=1").get_data(as_text=True)
    assert html.count('class="audit-row"') == 40
    assert admin.get("/audit?page=2&action=clip_view").get_data(as_text=True).count('class="audit-row"') == 50
    for bad in ("action=drop", "date_from=2026-13-01", "page=0", "date_from=2026-11-25&date_to=2026-11-24", "user=" + "x" * 99):
        assert admin.get(f"/audit?{bad}").status_code == 400, bad
    r = admin.get("/audit/export.csv?action=clip_view&date_from=24/11/2026&date_to=24/11/2026")
    assert r.status_code == 200 and r.mimetype == "text/csv" and "attachment" in r.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert rows[0] == ["time", "user", "ip", "action", "target", "detail"] and len(rows) == 41
    assert rows[1][0] == "2026-11-24 16:00:00" and rows[1][5] == "'=HYPERLINK(\"http://evil\")"  # never a formula
    exports = audit_rows(folder, "export")
    assert exports[0].target == "audit" and "action=clip_view" in exports[0].detail and exports[0].user == "quan-tri"


@pytest.mark.parametrize("role", ["viewer", "supervisor"])
def test_non_admins_cannot_see_or_export_the_audit_log(client_as, role):
    client = client_as(role)
    assert client.get("/audit").status_code == 403
    assert client.get("/audit/export.csv").status_code == 403
    assert "/audit" not in client.get("/reports").get_data(as_text=True)


def test_an_unwritable_audit_log_never_fails_the_request(client_as, folder, caplog):
    client = client_as("supervisor")
    db = connect(folder / "t.db")
    db.execute("drop table audit")
    db.conn.close()
    with caplog.at_level(logging.ERROR, logger="webui.audit"), client.get("/events/e1/clip.mp4") as r:
        assert r.status_code == 200
    assert "audit row not stored" in caplog.text and "clip_view" in caplog.text


def test_audit_fields_are_single_printable_lines():
    assert audit_store.clean("a\nb\x00c\x1b[31m") == "a b c [31m"
    assert len(audit_store.clean("x" * 10_000)) == audit_store.MAX_FIELD_CHARS
    with pytest.raises(audit_store.UnknownAction):
        audit_store.write(None, audit_store.Entry(NOW, "u", "ip", "made_up"))  # type: ignore[arg-type]


# ---------------------------------------------------------------- the camera password


def test_a_planted_camera_password_never_leaks(client_as, folder, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    admin = client_as("admin")
    bodies = []
    for endpoint, (method, path, _) in ROUTE_TABLE.items():
        if method == "GET":
            with admin.get(path, buffered=True) as r:
                bodies.append(r.data.decode("utf-8", "replace"))
    for path in ("/", "/live", "/api/v1/cameras", "/audit/export.csv", "/events?camera=%00", "/nope"):
        bodies.append(admin.get(path).data.decode("utf-8", "replace"))
    assert "ConnectionRefusedError" in admin.get("/api/v1/cameras").get_data(as_text=True)  # the error is shown...
    with secret_env():
        r = CliRunner().invoke(cli, ["check-config", "-c", str(folder / "cameras.yaml")])
    bodies.append(r.output)
    out, err = capfd.readouterr()
    captured = "\n".join([*bodies, caplog.text, out, err, *(e.detail for e in audit_rows(folder))])
    assert SECRET not in captured  # ...but never the password
    assert "admin:" not in captured.replace("quan-tri", "")
