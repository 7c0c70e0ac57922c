"""Overview, live, timeline and reports pages through Flask's test client on a real SQLite file.

The site: counter quay-1 (zones ghe = staff seat, cho = service spot, hang = waiting area) with a
hand-made day of per-second samples; quay-2 (a counter, offline, no samples); quay-3 (no zones).
"""

from __future__ import annotations

import re
import textwrap
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from monitor.site.config import load_config
from monitor.counters.reports import build_report
from monitor.db.store import Writer, connect, open_db
from webui import create_app
from webtest import add_accounts, copy_site, log_in

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = date(2026, 11, 24)  # a Tuesday: open 07:30-11:30 and 13:30-17:00
TRI = "[[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]"
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4 + b"\xff\xd9"


def at(hh: int, mm: int = 0, ss: int = 0) -> int:
    return int(datetime.combine(DAY, time(hh, mm, ss), tzinfo=TZ).timestamp())


NOW = at(16)
SERVING_S = 75  # the citizen at counter 1 sat down 75 s before NOW, the officer is there
MORNING = [(120, 420), (600, 840)]  # seconds after 08:00 when a citizen is at the counter


def _sample(cam: str, t: int, seat: bool, spot: bool, queue: float) -> dict:
    return {"type": "occupancy", "camera": cam, "t": t, "zones": {
        "ghe": {"occupied": seat, "count": float(seat)},
        "cho": {"occupied": spot, "count": float(spot)},
        "hang": {"occupied": queue > 0, "count": queue}}}


def _build_site(folder) -> None:
    zones = (f"[{{id: ghe, kind: staff_seat, points: {TRI}}}, {{id: cho, kind: service_spot, points: {TRI}}},"
             f" {{id: hang, kind: waiting_area, points: {TRI}}}]")
    (folder / "cameras.yaml").write_text(textwrap.dedent(f"""\
        site: {{name: "Một cửa thử nghiệm"}}
        storage: {{recordings: rec, database: t.db}}
        cameras:
          - {{id: quay-1, name: "Quầy 1", streams: {{main: a.mp4}}, zones: {zones}}}
          - {{id: quay-2, name: "Quầy 2", streams: {{main: b.mp4}}, zones: {zones}}}
          - {{id: quay-3, name: "Sảnh", streams: {{main: c.mp4}}}}
        """), encoding="utf-8")
    config = load_config(folder / "cameras.yaml")
    db = open_db(config.storage.database)
    w = Writer(db)
    w.register_cameras([("quay-1", "Quầy 1", True), ("quay-2", "Quầy 2", True), ("quay-3", "Sảnh", True)])
    w.apply([{"type": "status", "camera": "quay-1", "state": "online", "t": 1.0},
             {"type": "status", "camera": "quay-2", "state": "offline", "error": "timed out", "t": 1.0},
             {"type": "status", "camera": "quay-3", "state": "online", "t": 1.0}])
    # 08:00-08:20: officer seated, two citizens served; two people waiting from 08:00, one from 08:02, none from
    # 08:10 (the minute before, an empty hall: people there at the day's first sample waited from before it)
    w.apply([_sample("quay-1", at(8) + s, True, any(a <= s < b for a, b in MORNING),
                     0.0 if s < 0 else 2.0 if s < 120 else 1.0 if s < 600 else 0.0) for s in range(-60, 1200)])
    # 09:00-09:10: the seat is empty for five minutes (one absence), then the officer is back
    w.apply([_sample("quay-1", at(9) + s, s >= 300, False, 0.0) for s in range(600)])
    # the last two minutes before NOW: officer seated, three waiting, a citizen served for SERVING_S seconds
    w.apply([_sample("quay-1", t, True, t >= NOW - SERVING_S, 3.0) for t in range(NOW - 120, NOW)])
    for eid, cam, start in [("e-0803", "quay-1", at(8, 3)), ("e-noon", "quay-1", at(12)), ("e-q2", "quay-2", at(8, 3))]:
        w.apply([{"type": "event_start", "camera": cam, "id": eid, "start": float(start), "clip": False, "t": 0.0},
                 {"type": "event_end", "camera": cam, "id": eid, "end": float(start + 12), "t": 0.0}])
    live = folder / "rec" / "quay-1" / "live.jpg"
    live.parent.mkdir(parents=True)
    live.write_bytes(JPEG)
    add_accounts(db)
    db.conn.close()


@pytest.fixture(scope="module")
def template_site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pages")
    _build_site(folder)
    return folder


@pytest.fixture
def site(template_site, tmp_path):
    return load_config(copy_site(template_site, tmp_path) / "cameras.yaml")


@pytest.fixture
def make_client(site):
    """Factory: a client logged in with `role`, the app's clock at `now`, extra app settings."""

    def make(role: str = "supervisor", now: float = NOW, **settings):
        app = create_app(site, {"TESTING": True, "CLOCK": lambda: now, **settings})
        client = app.test_client()
        log_in(client, role)
        return client

    return make


def _card(html: str, camera: str, counter: str) -> str:
    m = re.search(rf'<article class="counter-card[^"]*" data-camera="{camera}" data-counter="{counter}"[^>]*>(.*?)</article>',
                  html, re.S)
    assert m, f"no card for {camera}/{counter}"
    return m.group(1)


def _group(html: str, queue: str) -> str:
    m = re.search(rf'<section class="queue-group" data-queue="{queue}">(.*?)</section>', html, re.S)
    assert m, f"no queue group {queue}"
    return m.group(1)


def _no_inline_scripts(html: str) -> None:
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline <script> would break a strict CSP"


# ---------------------------------------------------------------- overview


def test_overview_shows_each_counter_now_and_today(make_client, site):
    r = make_client("supervisor").get("/")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    _no_inline_scripts(html)
    assert 'data-refresh-url="/overview/counters"' in html and "refresh.js" in html
    card = _card(html, "quay-1", "cho")
    assert 'class="staff" data-present="1"' in card
    assert f'class="serving" data-seconds="{SERVING_S}"' in card and "1:15" in card
    assert 'class="queue" data-count="3"' in _group(html, "quay-1")  # the camera's waiting area is its queue
    # today: the two morning citizens and the one at the counter now; waits 120, 600 and 45 s
    db = connect(site.storage.database, readonly=True)
    day_row = next(r for r in build_report(site, db, DAY, DAY).rows if r.hour is None and r.camera == "quay-1")
    db.conn.close()
    assert day_row.served == 3 and round(day_row.mean_wait_s) == 255
    assert re.search(r'<dd class="served" data-source="camera">3</dd>', card) and '<dd class="mean-wait">4:15</dd>' in card
    assert 'class="absences" data-minutes="5"' in card and "5 phút" in card


def test_overview_marks_offline_cameras_and_cameras_without_counters(make_client):
    html = make_client("admin").get("/").get_data(as_text=True)
    offline = re.search(r'<article class="counter-card state-offline stale" data-camera="quay-2" data-counter="cho"', html)
    assert offline and "Camera mất kết nối: không có số liệu trực tiếp." in _card(html, "quay-2", "cho")
    assert 'class="camera-card state-online" data-camera="quay-3"' in html


def test_overview_without_recent_samples_shows_no_live_figures(make_client):
    card = _card(make_client(now=NOW + 60).get("/").get_data(as_text=True), "quay-1", "cho")
    assert 'class="serving"' not in card and "Không có dữ liệu gần đây." in card
    assert 'data-source="camera">3</dd>' in card  # today's figures stay


def test_counter_cards_fragment_is_the_cards_alone(make_client):
    r = make_client().get("/overview/counters")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" not in html and 'data-counter="cho"' in html


def test_viewer_is_sent_to_reports(make_client):
    r = make_client("viewer").get("/")
    assert r.status_code == 302 and r.location == "/reports"
    assert make_client("viewer").get("/overview/counters").status_code == 403


def test_navigation_per_role(make_client):
    nav = re.search(r'<nav class="main-nav".*?</nav>', make_client("supervisor").get("/live").get_data(as_text=True), re.S)
    links = re.findall(r'href="([^"]+)"', nav.group(0))
    assert links == ["/", "/live", "/events", "/timeline", "/recordings", "/health", "/alerts", "/compliance",
                     "/cases", "/reports"]
    assert 'href="/live" aria-current="page"' in nav.group(0)
    nav = re.search(r'<nav class="main-nav".*?</nav>', make_client("viewer").get("/reports").get_data(as_text=True), re.S)
    assert re.findall(r'href="([^"]+)"', nav.group(0)) == ["/live", "/reports"]  # live with privacy masks blurred


# ---------------------------------------------------------------- live


def test_live_page_lists_cameras_with_refreshing_snapshots(make_client):
    html = make_client().get("/live").get_data(as_text=True)
    _no_inline_scripts(html)
    assert "live.js" in html
    for cam in ("quay-1", "quay-2", "quay-3"):
        assert f'data-src="/live/{cam}.jpg"' in html and f'href="/live/{cam}.mjpeg"' in html
    assert 'class="live-cam state-offline" id="cam-quay-2"' in html


def test_live_snapshot(make_client):
    client = make_client()
    r = client.get("/live/quay-1.jpg")
    assert r.status_code == 200 and r.mimetype == "image/jpeg" and r.data == JPEG
    assert r.headers["Cache-Control"] == "no-store"
    assert client.get("/live/quay-2.jpg").status_code == 404  # configured, but no picture yet
    assert client.get("/live/nope.jpg").status_code == 404  # not a configured camera
    assert client.get("/live/..%2Fcameras.yaml.jpg").status_code == 404


def test_mjpeg_stream_sends_the_snapshot_as_a_multipart_part(make_client):
    client = make_client()
    with client.get("/live/quay-1.mjpeg", buffered=False) as r:
        assert r.status_code == 200
        assert r.headers["Content-Type"] == "multipart/x-mixed-replace; boundary=frame"
        assert r.headers["Cache-Control"] == "no-store"
        first = next(iter(r.response))
    head = f"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: {len(JPEG)}\r\n\r\n".encode()
    assert first == head + JPEG + b"\r\n"


def test_mjpeg_streams_are_limited_and_bounded_in_time(make_client):
    client = make_client(MJPEG_MAX_STREAMS=1, MJPEG_MAX_S=0.3)
    first = client.get("/live/quay-1.mjpeg", buffered=False)
    assert first.status_code == 200
    busy = client.get("/live/quay-1.mjpeg")
    assert busy.status_code == 503 and busy.headers["Retry-After"]
    first.close()  # the viewer goes away: the slot is free again
    with client.get("/live/quay-2.mjpeg", buffered=False) as r:  # no picture: the stream just ends on time
        assert r.status_code == 200 and r.get_data() == b"--frame--\r\n"
    assert client.get("/live/nope.mjpeg").status_code == 404


# ---------------------------------------------------------------- timeline


def test_timeline_draws_sessions_absences_queue_and_events(make_client):
    r = make_client().get("/timeline?camera=quay-1&counter=cho&date=2026-11-24")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert re.search(r'<svg class="timeline"[^>]*data-camera="quay-1" data-counter="cho"', html)
    sessions = re.findall(r'<a href="([^"]+)"><rect class="session"[^>]*data-start="(\d+)" data-end="(\d+)"', html)
    assert [(int(s), int(e)) for _, s, e in sessions] == [
        (at(8, 2), at(8, 7)), (at(8, 10), at(8, 14)), (NOW - SERVING_S, NOW)]
    # each links to the nearest event of that camera; none within 15 minutes of the last one
    assert [href for href, _, _ in sessions] == ["/events/e-0803", "/events/e-0803", "#"]
    absences = re.findall(r'<rect class="absence"[^>]*data-start="(\d+)" data-end="(\d+)"', html)
    assert absences == [(str(at(9)), str(at(9, 5)))]
    assert '<path class="queue" d="M' in html
    ticks = re.findall(r'<a href="/events/([^"]+)"><line class="event-tick"', html)
    assert ticks == ["e-0803", "e-noon"]  # quay-2's event is not on quay-1's timeline
    assert "24/11/2026" in html and "08:00" in html


def test_timeline_defaults_to_the_first_counter_today(make_client):
    html = make_client().get("/timeline").get_data(as_text=True)
    assert 'data-camera="quay-1" data-counter="cho"' in html and 'class="session"' in html


@pytest.mark.parametrize("query", ["camera=nope", "camera=quay-3", "camera=quay-1&counter=hang",
                                   "camera=quay-1&counter=cho&date=24/11/2026"])
def test_timeline_bad_parameters_are_400(make_client, query):
    assert make_client().get(f"/timeline?{query}").status_code == 400


# ---------------------------------------------------------------- reports


def _bars(html: str, chart: str) -> dict[str, str]:
    svg = re.search(rf'<svg class="chart" data-chart="{chart}".*?</svg>', html, re.S).group(0)
    return dict(re.findall(r'<rect class="bar"[^>]*data-label="([^"]+)" data-value="([^"]+)"', svg))


def test_reports_day_has_charts_with_the_report_numbers(make_client):
    r = make_client("viewer").get("/reports?period=day&date=2026-11-24")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    _no_inline_scripts(html)
    assert html.count('<svg class="chart"') == 4
    served = _bars(html, "served")
    assert served["08"] == "2.0" and served["15"] == "1.0" and served["12"] == "0.0"
    waits = _bars(html, "waits")  # 45 s, 2 min and 10 min, in one-minute bins
    assert len(waits) == 11 and (waits["0–1"], waits["2–3"], waits["10–11"], waits["5–6"]) == ("1.0", "1.0", "1.0", "0.0")
    assert _bars(html, "absence") == {"quay-1 · cho": "5.0"}
    assert 'data-series="quay-1"' in html  # the queue over the day
    assert re.search(r'<tr data-camera="quay-1" data-counter="cho">.*?<td class="served">3</td>', html, re.S)
    assert "from=2026-11-24&amp;to=2026-11-24&amp;format=csv" in html


@pytest.mark.parametrize("period, first, last", [("week", "2026-11-23", "2026-11-24"),
                                                 ("month", "2026-11-01", "2026-11-24")])
def test_reports_week_and_month(make_client, period, first, last):
    html = make_client("viewer").get(f"/reports?period={period}&date=2026-11-24").get_data(as_text=True)
    assert f"from={first}&amp;to={last}&amp;format=html" in html
    assert re.search(r'<td class="served">3</td>', html)


def test_reports_of_a_period_without_data(make_client):
    html = make_client("viewer").get("/reports?period=day&date=2026-11-20").get_data(as_text=True)
    assert "Không có dữ liệu quầy trong kỳ này." in html and '<svg class="chart"' not in html


@pytest.mark.parametrize("query", ["period=year", "date=24/11/2026", "camera=nope"])
def test_reports_bad_parameters_are_400(make_client, query):
    assert make_client("viewer").get(f"/reports?{query}").status_code == 400
