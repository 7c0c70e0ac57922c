"""The minimal events page and its files, through Flask's test client on a real SQLite file."""

import textwrap

import pytest

from monitor.config import load_config
from monitor.store import Writer, open_db
from webui import create_app


@pytest.fixture
def site(tmp_path):
    (tmp_path / "cameras.yaml").write_text(textwrap.dedent("""\
        site: {name: "Một cửa thử nghiệm"}
        storage: {recordings: rec, database: t.db}
        cameras:
          - {id: quay-1, name: "Quầy 1", streams: {main: a.mp4}}
          - {id: quay-2, name: "Quầy 2", streams: {main: b.mp4}}
        """), encoding="utf-8")
    config = load_config(tmp_path / "cameras.yaml")
    db = open_db(config.storage.database)
    w = Writer(db)
    w.register_cameras([("quay-1", "Quầy 1", True), ("quay-2", "Quầy 2", True)])
    w.apply([{"type": "status", "camera": "quay-1", "state": "online", "t": 1.0},
             {"type": "status", "camera": "quay-2", "state": "offline", "error": "timed out", "t": 1.0}])
    clip = tmp_path / "rec" / "quay-1" / "2026-11-24" / "e1.mp4"
    clip.parent.mkdir(parents=True)
    clip.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
    clip.with_suffix(".jpg").write_bytes(b"\xff\xd8\xff\xe0fakejpeg")
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
    db.conn.close()
    return config, clip


@pytest.fixture
def client(site):
    config, _ = site
    return create_app(config, {"TESTING": True}).test_client()


def test_index_lists_newest_events_first_with_camera_states(client):
    r = client.get("/")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "Quầy 1" in html and "state-online" in html and "state-offline" in html
    assert html.index('data-event="e1"') < html.index('data-event="e-old-58"')
    assert "/events/e1/thumbnail.jpg" in html
    assert html.count('class="event"') == 50 and "older" in html


def test_pagination_and_camera_filter(client):
    html = client.get("/?page=2").get_data(as_text=True)
    assert html.count('class="event"') == 11 and "newer" in html
    html = client.get("/?camera=quay-2").get_data(as_text=True)
    assert 'data-event="e1"' not in html and 'data-event="e-old-00"' in html


@pytest.mark.parametrize("query", ["page=0", "page=-1", "page=abc", "page=99999999999", "camera=nope", "camera=%00%ff"])
def test_bad_parameters_are_400_not_500(client, query):
    for path in ("/", "/api/v1/events"):
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
    events = client.get("/api/v1/events").get_json()
    assert events[0]["id"] == "e1" and len(events) == 50
    cams = {c["id"]: c for c in client.get("/api/v1/cameras").get_json()}
    assert cams["quay-2"]["state"] == "offline"
