"""The recordings page: a camera's day of continuous segments on a bar with a player, segment files by
Range request for supervisors only, every viewing audited, bad parameters answered with a one-line 400."""

from __future__ import annotations

import html as htmllib
import json
import re
import shutil
import textwrap
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from media import VideoSpec, make_video
from monitor.camera.rendition import video_codec
from monitor.db.store import Writer, connect, open_db
from monitor.messages import SegmentReady
from monitor.site.config import load_config
from support import require
from webtest import add_accounts
from webui import create_app

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = date(2026, 11, 24)
NINE = datetime.combine(DAY, time(9, 0), tzinfo=TZ).timestamp()
NOW = NINE + 6 * 3600
SEGMENT_S = 2.0
STARTS = (NINE, NINE + SEGMENT_S, NINE + 2 * SEGMENT_S, NINE + 3600)  # three in a row, one an hour later


def build_site(folder: Path) -> None:
    (folder / "cameras.yaml").write_text(textwrap.dedent("""\
        site: {name: "Một cửa"}
        storage: {recordings: rec, database: t.db}
        cameras:
          - {id: quay-1, name: "Quầy 1", recording: always, streams: {main: a.mp4}}
          - {id: quay-2, name: "Quầy 2", streams: {main: b.mp4}}
        """), encoding="utf-8")
    config = load_config(folder / "cameras.yaml")
    db = open_db(config.storage.database)
    video = make_video(folder / "seg.mp4", VideoSpec(SEGMENT_S, 320, 180))
    rec = Path(config.storage.recordings)
    for start in STARTS:
        rel = f"quay-1/{DAY}/segments/{datetime.fromtimestamp(start, TZ):%H%M%S}-000.mp4"
        (rec / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(video, rec / rel)
        Writer(db).apply([SegmentReady(camera="quay-1", t=start, path=rel, start=start, duration=SEGMENT_S,
                                       bytes=video.stat().st_size)])
    add_accounts(db)
    db.conn.close()


@pytest.fixture
def site(make_site):
    return load_config(make_site(build_site) / "cameras.yaml")


@pytest.fixture
def app(site):
    return create_app(site, {"TESTING": True, "CLOCK": lambda: NOW, "SECRET_KEY": "test"})


def player_data(page: str) -> dict[str, str]:
    tag = re.search(r'<div id="recording-player"[^>]*>', page).group(0)
    return {k: htmllib.unescape(v) for k, v in re.findall(r'data-([a-z0-9-]+)="([^"]*)"', tag)}


def audit_rows(site) -> list[tuple[str, str, str]]:
    db = connect(site.storage.database, readonly=True)
    try:
        return [tuple(r) for r in db.execute("select action, target, detail from audit order by id")]
    finally:
        db.conn.close()


def test_the_day_shows_its_segments_on_the_bar_and_in_the_player(client, site):
    page = client.get(f"/recordings?camera=quay-1&date={DAY}&at=09:00:03").get_data(as_text=True)
    data = player_data(page)
    segments = json.loads(data["segments"])
    assert [s["start"] for s in segments] == list(STARTS)
    assert all(s["end"] - s["start"] == SEGMENT_S for s in segments)
    assert segments[0]["src"] == "/recordings/segments/1.mp4"
    assert float(data["at"]) == NINE + 3 and data["hevc"] == "0" and data["tz"] == "Asia/Ho_Chi_Minh"
    assert len(re.findall(r'<rect class="recorded"', page)) == 2  # 09:00:00-09:00:06 and 10:00:00-10:00:02
    assert "09:00:00–09:00:06" in page
    assert ("recordings_view", "quay-1", str(DAY)) in audit_rows(site)


def test_a_day_or_camera_without_footage_says_so(client):
    page = client.get("/recordings?camera=quay-1&date=2026-11-23").get_data(as_text=True)
    assert "Không có ghi hình liên tục trong ngày này." in page  # the site speaks Vietnamese
    assert 'id="recording-player"' not in page
    page = client.get(f"/recordings?camera=quay-2&date={DAY}").get_data(as_text=True)
    assert "recording: events" in page and 'id="recording-player"' not in page


@pytest.mark.parametrize("segment", ["99", str(2**63 - 1), str(2**63), "99999999999999999999999"])
def test_a_segment_that_is_not_there_is_a_404_even_past_sqlites_largest_integer(client, segment):
    """The fuzz test's find: a segment id over 2**63 - 1 reached SQLite and raised OverflowError (a 500)."""
    for suffix in (".mp4", ".h264.mp4"):
        assert client.get(f"/recordings/segments/{segment}{suffix}").status_code == 404


def test_segments_are_served_by_range_and_each_viewing_audited_once(client, site):
    with client.get("/recordings/segments/2.mp4") as whole:
        assert whole.status_code == 200 and whole.mimetype == "video/mp4"
        data = whole.data
    with client.get("/recordings/segments/2.mp4", headers={"Range": "bytes=100-199"}) as part:
        assert part.status_code == 206 and part.data == data[100:200]
    views = [r for r in audit_rows(site) if r[0] == "segment_view"]
    assert views == [("segment_view", f"quay-1/{DAY}/segments/090002-000.mp4", "quay-1")]  # not the chunk
    with client.get("/recordings/segments/2.mp4?download=1") as dl:
        assert "attachment" in dl.headers["Content-Disposition"]
    assert ("segment_download", f"quay-1/{DAY}/segments/090002-000.mp4", "quay-1") in audit_rows(site)
    assert client.get("/recordings/segments/2.h264.mp4").status_code == 404  # H.264 plays everywhere


@pytest.mark.parametrize(("role", "codes"), [(None, (302, 401)), ("viewer", (403,))])
def test_only_supervisors_see_recordings(client_as, role, codes):
    c = client_as(role)
    assert c.get("/recordings").status_code in codes
    assert c.get("/recordings/segments/1.mp4").status_code in codes


@pytest.mark.parametrize(("query", "message"), [
    ("camera=nope", "camera: expected one of quay-1, quay-2, got 'nope'"),
    ("date=24/13/2026", "date: expected a date like 2026-11-24 or 24/11/2026 (years 1970-9998), got '24/13/2026'"),
    ("at=25:00", "at: expected a time of day like 09:30 or 09:30:15, got '25:00'"),
])
def test_bad_parameters_get_one_line_400s(client, query, message):
    r = client.get(f"/recordings?{query}")
    assert r.status_code == 400 and message in htmllib.unescape(r.get_data(as_text=True))


def test_an_unknown_segment_is_404(client):
    assert client.get("/recordings/segments/99.mp4").status_code == 404


def test_h265_footage_is_offered_with_h264_renditions(client, site, tmp_path):
    require("ffmpeg with libx264", shutil.which("ffmpeg") is not None, "apt-get install ffmpeg")
    hevc = make_video(tmp_path / "hevc.mp4", VideoSpec(SEGMENT_S, 320, 180, codec="libx265"))
    rec = Path(site.storage.recordings)
    for path in rec.glob("quay-1/*/segments/*.mp4"):
        shutil.copy(hevc, path)
    data = player_data(client.get(f"/recordings?camera=quay-1&date={DAY}").get_data(as_text=True))
    assert data["hevc"] == "1"  # the page's script plays "alt" where the browser lacks HEVC
    assert json.loads(data["segments"])[0]["alt"] == "/recordings/segments/1.h264.mp4"
    with client.get("/recordings/segments/1.h264.mp4") as r:
        assert r.status_code == 200 and r.mimetype == "video/mp4"
        (tmp_path / "got.mp4").write_bytes(r.data)
    assert video_codec(tmp_path / "got.mp4") == "h264"
    assert ("segment_view", f"quay-1/{DAY}/segments/090000-000.mp4", "quay-1") in audit_rows(site)
