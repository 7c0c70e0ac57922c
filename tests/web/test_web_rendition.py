"""The player of an H.265 clip: the original first, an on-demand cached H.264 rendition second."""

from __future__ import annotations

import shutil
from pathlib import Path

import av
import pytest

from support import require
from media import MotionWindow, VideoSpec, make_video
from monitor.camera.rendition import RENDITION_CACHE_FILES, evict, rendition_path
from monitor.db.store import open_db
from eventsite import app, site  # noqa: F401 - fixtures (client and client_as come from conftest)

CLIP = Path("quay-1") / "2026-11-24" / "ev-001.mp4"


@pytest.fixture(scope="module")
def hevc_clip(tmp_path_factory) -> Path:
    require("ffmpeg with libx264", shutil.which("ffmpeg") is not None, "apt-get install ffmpeg")
    folder = tmp_path_factory.mktemp("hevc")
    return make_video(folder / "clip.mp4", VideoSpec(3, motion=(MotionWindow(0, 3),), codec="libx265", audio="aac"))


@pytest.fixture
def hevc_site(site, hevc_clip):  # noqa: F811 (fixture)
    """The events site with ev-001's clip replaced by a real H.265 clip with AAC audio."""
    shutil.copyfile(hevc_clip, Path(site.storage.recordings) / CLIP)
    return site


def codecs(data_or_path: bytes | Path, tmp_path: Path) -> list[str]:
    path = data_or_path if isinstance(data_or_path, Path) else tmp_path / "got.mp4"
    if not isinstance(data_or_path, Path):
        path.write_bytes(data_or_path)
    with av.open(str(path)) as c:
        return [s.codec_context.name for s in c.streams]


def test_an_h265_clip_is_offered_with_an_h264_rendition(client, hevc_site, tmp_path):  # noqa: F811
    html = client.get("/events/ev-001").get_data(as_text=True)
    original = html.index('<source src="/events/ev-001/clip.mp4" type=\'video/mp4; codecs="hvc1')
    fallback = html.index('<source src="/events/ev-001/clip.h264.mp4" type=\'video/mp4; codecs="avc1')
    assert original < fallback  # a browser that decodes HEVC never asks for the rendition
    assert "/events/ev-001/clip.mp4?download=1" in html  # the download stays the original
    with client.get("/events/ev-001/clip.h264.mp4") as r:
        assert r.status_code == 200 and r.mimetype == "video/mp4"
        assert codecs(r.data, tmp_path) == ["h264", "aac"]
        whole = r.data
    cached = rendition_path(Path(hevc_site.storage.recordings), "ev-001")
    made = cached.stat().st_mtime_ns
    with client.get("/events/ev-001/clip.h264.mp4", headers={"Range": "bytes=100-199"}) as part:
        assert part.status_code == 206 and part.data == whole[100:200]
    assert cached.stat().st_mtime_ns == made  # served from the cache, not made again
    with client.get("/events/ev-001/clip.mp4?download=1") as dl:
        assert codecs(dl.data, tmp_path) == ["hevc", "aac"]


def test_an_h264_clip_gets_no_rendition(client, hevc_site, hevc_clip, tmp_path):  # noqa: F811
    make_video(Path(hevc_site.storage.recordings) / CLIP, VideoSpec(1))
    html = client.get("/events/ev-001").get_data(as_text=True)
    assert "<source" not in html and 'src="/events/ev-001/clip.mp4"' in html
    assert client.get("/events/ev-001/clip.h264.mp4").status_code == 404
    assert client.get("/events/ev-404/clip.h264.mp4").status_code == 404


def test_the_rendition_needs_a_supervisor(client_as, hevc_site):  # noqa: F811
    assert client_as(None).get("/events/ev-001/clip.h264.mp4").status_code in (302, 401)
    assert client_as("viewer").get("/events/ev-001/clip.h264.mp4").status_code == 403


def test_renditions_are_not_clips_for_recovery_and_the_cache_is_bounded(client, hevc_site):  # noqa: F811
    from monitor.upkeep.recovery import recover

    with client.get("/events/ev-001/clip.h264.mp4") as r:
        assert r.status_code == 200
    cached = rendition_path(Path(hevc_site.storage.recordings), "ev-001")
    db = open_db(hevc_site.storage.database)
    try:
        recover(hevc_site, db)
        ids = {row[0] for row in db.conn.execute("select id from events").fetchall()}
    finally:
        db.conn.close()
    assert cached.is_file() and not any("h264" in i or "renditions" in i for i in ids)
    for i in range(RENDITION_CACHE_FILES + 3):
        shutil.copyfile(cached, cached.with_name(f"old-{i}.mp4"))
    assert evict(cached.parent, keep=RENDITION_CACHE_FILES) == 4
    assert len(list(cached.parent.glob("*.mp4"))) == RENDITION_CACHE_FILES
