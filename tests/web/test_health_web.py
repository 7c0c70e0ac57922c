"""The /health page and Prometheus /metrics on a real SQLite file filled through the Writer."""

from __future__ import annotations

import textwrap

import pytest
from prometheus_client.parser import text_string_to_metric_families

from monitor.site.config import load_config
from monitor.ops.metrics import Family, escape_label, render
from monitor.db.store import Writer, open_db
from monitor.detect.tiles import scaled_heights
from webtest import add_accounts, csrf_token, log_in
from webui import create_app
from webui.site import site_state

NOW = 1_790_000_000.0
SECRET = "Pl4nted-S3cret"
TOKEN = "scrape-token-123"
STATS = {"input_fps": 25.0, "sub_fps": 12.5, "detect_fps": 5.0, "dropped": 7, "lag_s": 0.4,
         "last_frame_age_s": 0.2, "bitrate_bps": 2_048_000.0, "cpu_pct": 31.5, "rss_bytes": 123_456_789}
CLIP_BYTES = 5000


def _build(folder) -> None:
    (folder / "cameras.yaml").write_text(textwrap.dedent(f"""\
        site: {{name: "Một cửa"}}
        storage: {{recordings: rec, database: t.db}}
        alerts: {{offline_after_s: 120}}
        cameras:
          - id: quay-1
            name: "Quầy 1"
            streams: {{main: "rtsp://cam1.lan/live", sub: "rtsp://cam1.lan/sub"}}
            username: admin
            password: "{SECRET}"
            zones:
              - {{id: ghe, kind: staff_seat, points: [[0, 0], [0.5, 0], [0.5, 0.5]]}}
              - {{id: cho, kind: waiting_area, points: [[0.5, 0.5], [1, 0.5], [1, 1]]}}
          - id: quay-2
            name: "Quầy \\"2\\""
            streams: {{main: "rtsp://cam2.lan/live"}}
            username: admin
            password: "{SECRET}"
          - {{id: kho, name: "Kho", enabled: false, streams: {{main: k.mp4}}}}
        """), encoding="utf-8")
    config = load_config(folder / "cameras.yaml")
    db = open_db(config.storage.database)
    w = Writer(db)
    w.register_cameras([(c.id, c.name, c.enabled) for c in config.cameras])
    w.apply([
        {"type": "status", "camera": "quay-1", "state": "online", "reconnects": 2, "t": NOW - 500},
        {"type": "heartbeat", "camera": "quay-1", "t": NOW - 1, "stats": STATS},
        {"type": "status", "camera": "quay-2", "state": "online", "t": NOW - 1000},
        {"type": "status", "camera": "quay-2", "state": "reconnecting", "reconnects": 4, "t": NOW - 600,
         "error": f"OSError: connection refused: rtsp://admin:{SECRET}@cam2.lan/live"},
        {"type": "status", "camera": "quay-2", "state": "offline", "reconnects": 4, "t": NOW - 585,
         "error": f"timed out ({SECRET})"},
        {"type": "heartbeat", "camera": "quay-2", "t": NOW - 2},
        {"type": "occupancy", "camera": "quay-1", "t": int(NOW) - 20,
         "zones": {"ghe": {"occupied": True, "count": 1.0}, "cho": {"occupied": True, "count": 3.0}}},
        *[{"type": "event_start", "camera": "quay-1", "id": f"e{i}", "start": NOW - 100 * i, "t": 0} for i in range(3)],
    ])
    clip = folder / "rec" / "quay-1" / "2026-09-21" / "e1.mp4"
    clip.parent.mkdir(parents=True)
    clip.write_bytes(b"\0" * CLIP_BYTES)
    add_accounts(db)
    db.conn.close()


@pytest.fixture
def app(make_site):
    folder = make_site(_build)
    return create_app(load_config(folder / "cameras.yaml"), {"TESTING": True, "CLOCK": lambda: NOW})


def scrape(client, **kw) -> dict:
    """GET /metrics, check the content type and parse it strictly: {(name, labels...): value}."""
    r = client.get("/metrics", **kw)
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.content_type == "text/plain; version=0.0.4; charset=utf-8"
    text = r.get_data(as_text=True)
    out = {}
    for fam in text_string_to_metric_families(text):
        assert fam.documentation, fam.name  # every family has HELP
        for s in fam.samples:
            out[(s.name, *sorted(s.labels.items()))] = s.value
    return out


def test_metrics_values_from_the_database(app):
    m = scrape(app.test_client())
    q1, q2 = ("camera", "quay-1"), ("camera", "quay-2")
    assert m[("onestop_camera_up", q1)] == 1 and m[("onestop_camera_up", q2)] == 0
    assert m[("onestop_camera_up", ("camera", "kho"))] == 0
    assert m[("onestop_camera_state", q2, ("state", "offline"))] == 1
    assert m[("onestop_camera_state", ("camera", "kho"), ("state", "disabled"))] == 1
    assert m[("onestop_camera_down_seconds", q2)] == 600
    assert m[("onestop_camera_input_fps", q1)] == 25.0
    assert m[("onestop_camera_sub_input_fps", q1)] == 12.5
    assert m[("onestop_camera_detect_fps", q1)] == 5.0
    assert m[("onestop_camera_dropped_frames_total", q1)] == 7
    assert m[("onestop_camera_reconnects_total", q1)] == 2 and m[("onestop_camera_reconnects_total", q2)] == 4
    assert m[("onestop_camera_bitrate_bits_per_second", q1)] == 2_048_000
    assert m[("onestop_worker_resident_memory_bytes", q1)] == 123_456_789
    assert ("onestop_camera_input_fps", q2) not in m  # quay-2 sent no stats: unknown, not 0
    assert m[("onestop_events_total", q1)] == 3 and m[("onestop_events_total", q2)] == 0
    assert m[("onestop_queue_length", q1, ("zone", "cho"))] == 3
    assert m[("onestop_zone_occupied", q1, ("kind", "staff_seat"), ("zone", "ghe"))] == 1
    assert m[("onestop_zone_people", q1, ("kind", "waiting_area"), ("zone", "cho"))] == 3
    assert m[("onestop_recordings_disk_used_bytes",)] == CLIP_BYTES
    assert m[("onestop_recordings_disk_free_bytes",)] > 0


def test_stale_zone_samples_are_left_out(make_site):
    folder = make_site(_build)
    app = create_app(load_config(folder / "cameras.yaml"), {"TESTING": True, "CLOCK": lambda: NOW + 3600})
    m = scrape(app.test_client())
    assert not [k for k in m if k[0] in ("onestop_queue_length", "onestop_zone_people")]
    assert ("onestop_camera_input_fps", ("camera", "quay-1")) not in m  # the worker's stats are an hour old
    assert m[("onestop_camera_state", ("camera", "quay-1"), ("state", "offline"))] == 1  # nobody reports


def test_label_values_and_help_are_escaped():
    fam = Family("x_total", "counter", "a \\ b\nc")
    fam.add({"camera": 'Quầy "2"\\\n'}, 1)
    text = render([fam])
    assert 'camera="Quầy \\"2\\"\\\\\\n"' in text and "# HELP x_total a \\\\ b\\nc" in text
    (parsed,) = text_string_to_metric_families(text)
    assert parsed.samples[0].labels == {"camera": 'Quầy "2"\\\n'}
    assert escape_label("plain") == "plain"


def test_metrics_without_token_only_from_loopback(app):
    client = app.test_client()
    assert client.get("/metrics").status_code == 200
    r = client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert r.status_code == 403 and "metrics.token" in r.get_data(as_text=True)
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200


def test_metrics_with_token_need_the_bearer_header(app, monkeypatch):
    monkeypatch.setenv("ONESTOP_METRICS_TOKEN", TOKEN)
    site_state(app).config.metrics.token = "${ONESTOP_METRICS_TOKEN}"
    client = app.test_client()
    far = {"REMOTE_ADDR": "192.0.2.7"}
    r = client.get("/metrics", environ_base=far)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    scrape(client, environ_base=far, headers={"Authorization": f"Bearer {TOKEN}"})


def test_no_password_in_metrics_health_or_api(app):
    scraped = app.test_client().get("/metrics").get_data(as_text=True)
    client = app.test_client()
    log_in(client, "admin")
    pages = [client.get(p).get_data(as_text=True) for p in ("/health", "/health/cameras", "/api/v1/cameras")]
    for text in [scraped, *pages]:
        assert SECRET not in text
    assert "timed out (***)" in pages[1]  # the stored error is shown, with the password blanked
    assert "timed out (***)" in pages[2] and '"input_fps": 25.0' in pages[2].replace('":25', '": 25')


@pytest.mark.parametrize("role, status", [("viewer", 403), ("supervisor", 200), ("admin", 200)])
def test_health_page_roles(app, role, status):
    client = app.test_client()
    log_in(client, role)
    assert client.get("/health").status_code == status
    assert client.get("/health/cameras").status_code == status


def test_health_page_shows_every_figure_and_the_alert(app):
    client = app.test_client()
    log_in(client, "supervisor")
    html = client.get("/health").get_data(as_text=True)
    assert 'data-refresh-url="/health/cameras"' in html and "refresh.js" in html
    assert 'href="/health" aria-current="page"' in html  # the nav link
    row1 = html[html.index('data-camera="quay-1" data-state'):html.index('data-camera="quay-2" data-state')]
    for text in ("25.0 / 12.5", "5.0", ">7<", "0.4", "0.2", "2.0 Mbit/s", "32 %", "123.5 MB", ">2<", "trực tuyến"):
        assert text in row1, text
    assert 'data-state="disabled"' in html and 'data-state="offline"' in html
    banner = html[html.index('class="alert-banner"'):html.index("</div>", html.index('class="alert-banner"'))]
    assert 'data-camera="quay-2"' in banner and "quay-1" not in banner and "10 phút" in banner
    assert f'data-used="{CLIP_BYTES}"' in html
    assert "Tình trạng camera" in html and "Khung hình bỏ qua" in html


@pytest.mark.parametrize("factor, shown, corrected", [(None, False, False), (1.0, False, False), (1.29, False, False),
                                                     (1.47, True, False), (0.77, True, True)])
def test_health_page_says_when_the_person_height_markers_look_wrong(make_site, factor, shown, corrected):
    """A worker's heartbeat carries the person detector's height check (PersonOccupancy.height_check): a factor
    outside tiles.HEIGHT_FACTOR_OK names the camera, with the factor, under the table."""
    folder = make_site(_build)
    config = load_config(folder / "cameras.yaml")
    db = open_db(config.storage.database)
    stats = {**STATS, "height_factor": factor, "height_corrected": corrected}
    Writer(db).apply([{"type": "heartbeat", "camera": "quay-1", "t": NOW, "stats": stats}])
    db.conn.close()
    client = create_app(config, {"TESTING": True, "CLOCK": lambda: NOW}).test_client()
    log_in(client, "admin")
    html = client.get("/health").get_data(as_text=True)
    assert ('class="alert-banner height-check"' in html) == shown
    if shown:
        banner = html[html.index('class="alert-banner height-check"'):]
        banner = banner[:banner.index("</div>")]
        assert 'data-camera="quay-1"' in banner and f"Quầy 1: người cao gấp {factor:.2f} lần" in banner, banner
        assert ("đã hiệu chỉnh" in banner) == corrected  # the worker analyses with the markers corrected
        assert "Điểm mốc chiều cao người trên các camera này có vẻ sai" in banner and "quay-2" not in banner


def test_no_banner_while_outage_is_shorter_than_the_limit(make_site):
    folder = make_site(_build)
    config = load_config(folder / "cameras.yaml")
    config.alerts.offline_after_s = 3600
    app = create_app(config, {"TESTING": True, "CLOCK": lambda: NOW})
    client = app.test_client()
    log_in(client, "admin")
    assert "alert-banner" not in client.get("/health").get_data(as_text=True)


def _checked(make_site, factor, markers):  # noqa: ANN001, ANN202 - the make_site fixture
    """A site whose quay-1 worker reports a height check (factor, measured against `markers`), and its config."""
    folder = make_site(_build)
    config = load_config(folder / "cameras.yaml")
    db = open_db(config.storage.database)
    stats = {**STATS, "height_factor": factor, "height_corrected": True, "height_markers": markers}
    Writer(db).apply([{"type": "heartbeat", "camera": "quay-1", "t": NOW, "stats": stats}])
    db.conn.close()
    return folder, config


def test_an_admin_sets_the_markers_the_height_check_found(make_site):
    """The banner's button (admins only) writes person_height times the worker's factor into cameras.yaml: quay-1 has no
    marker, so its waiting area gets the default camera's heights times 1.47 (tiles.scaled_heights); the file keeps
    everything else, and the page says what was done."""
    folder, config = _checked(make_site, 1.47, {})
    before = (folder / "cameras.yaml").read_text(encoding="utf-8")
    client = create_app(config, {"TESTING": True, "CLOCK": lambda: NOW}).test_client()
    log_in(client, "supervisor")
    html = client.get("/health").get_data(as_text=True)
    assert "height-fix" not in html and "Quản trị viên có thể ghi điểm mốc đã hiệu chỉnh" in html  # an admin can
    client = create_app(config, {"TESTING": True, "CLOCK": lambda: NOW}).test_client()
    log_in(client, "admin")
    html = client.get("/health").get_data(as_text=True)
    assert 'action="/health/cameras/quay-1/heights"' in html and "Đặt điểm mốc của Quầy 1 gấp 1.47 lần" in html
    assert "height-admin" not in html
    r = client.post("/health/cameras/quay-1/heights", data={"csrf_token": csrf_token(client, "/health")})
    assert r.status_code == 302 and r.headers["Location"].endswith("/health")
    assert "gấp 1.47 lần giá trị cũ" in client.get("/health").get_data(as_text=True)
    saved = load_config(folder / "cameras.yaml").camera("quay-1")
    cho = next(z for z in saved.zones if z.id == "cho")
    assert cho.person_height == scaled_heights(config.camera("quay-1").zones, 1.47)["cho"]
    assert cho.person_height == (round(0.45 * 1.47, 4), round(0.35 * 1.47, 4))  # the default line at rows 1.0 and 0.5
    after = (folder / "cameras.yaml").read_text(encoding="utf-8")
    assert after == before.replace("[1, 0.5], [1, 1]]}", "[1, 0.5], [1, 1]], person_height: [0.6615, 0.5145]}")


@pytest.mark.parametrize("factor, markers, says", [
    (1.1, {}, "không có lần kiểm tra chiều cao nào thấy điểm mốc sai"),  # the check finds the markers right
    (None, {}, "không có lần kiểm tra chiều cao nào thấy điểm mốc sai"),  # no check yet
    (1.47, {"cho": [0.3, 0.2]}, "đã được thay đổi sau lần kiểm tra"),  # measured against other markers (applied already)
])
def test_a_correction_is_refused_unless_the_check_found_these_markers_off(make_site, factor, markers, says):
    folder, config = _checked(make_site, factor, markers)
    before = (folder / "cameras.yaml").read_text(encoding="utf-8")
    client = create_app(config, {"TESTING": True, "CLOCK": lambda: NOW}).test_client()
    log_in(client, "admin")
    token = csrf_token(client, "/health")
    r = client.post("/health/cameras/quay-1/heights", data={"csrf_token": token})
    assert r.status_code == 400 and says in r.get_data(as_text=True)
    assert (folder / "cameras.yaml").read_text(encoding="utf-8") == before
    assert client.post("/health/cameras/nope/heights", data={"csrf_token": token}).status_code == 404


def test_only_admins_correct_markers(make_site):
    folder, config = _checked(make_site, 1.47, {})
    client = create_app(config, {"TESTING": True, "CLOCK": lambda: NOW}).test_client()
    log_in(client, "supervisor")
    r = client.post("/health/cameras/quay-1/heights", data={"csrf_token": csrf_token(client, "/health")})
    assert r.status_code == 403
    assert "person_height" not in (folder / "cameras.yaml").read_text(encoding="utf-8")
