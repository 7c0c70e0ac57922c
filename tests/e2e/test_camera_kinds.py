"""Cameras as installed: H.265 main and sub-streams, single-stream cameras, AAC and G.711 audio.

Real encoded streams (libx265 / libx264, AAC / PCMA / PCMU) through the GStreamer RTSP test server
into a real `onestop run`; clips are checked with ffprobe and decoded whole with ffmpeg.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from support import free_port, require_ffprobe
from harness import Onestop
from media import MotionWindow, VideoSpec, make_video
from faultkit import site_config

pytestmark = [pytest.mark.slow, pytest.mark.rtsp]

SECONDS = 20
MOTION = (MotionWindow(1, SECONDS - 1),)  # a clip starts within seconds and lasts the file


@pytest.fixture(scope="module")
def kinds(tmp_path_factory) -> dict[str, Path]:
    """One small file per stream kind a camera sends (made once)."""
    folder = tmp_path_factory.mktemp("kinds")
    specs = {
        "h265.mp4": VideoSpec(SECONDS, motion=MOTION, codec="libx265"),
        "h264-aac.mp4": VideoSpec(SECONDS, motion=MOTION, audio="aac"),
        "h264-pcma.mov": VideoSpec(SECONDS, motion=MOTION, audio="pcm_alaw"),
        "h264-pcmu.mov": VideoSpec(SECONDS, motion=MOTION, audio="pcm_mulaw"),
    }
    return {name.split(".")[0]: make_video(folder / name, spec) for name, spec in specs.items()}


def streams(path: Path) -> list[dict]:
    """ffprobe's streams of a file (codec_type, codec_name, codec_tag_string)."""
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries",
                          "stream=codec_type,codec_name,codec_tag_string,sample_rate", "-of", "json", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)["streams"]


def decodes_cleanly(path: Path) -> str:
    """ffmpeg's error output when decoding every stream of the file ('' for a clip that plays)."""
    r = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-f", "null", "-"],
                       capture_output=True, text=True)
    return r.stderr.strip() if r.returncode == 0 else f"exit {r.returncode}: {r.stderr.strip()}"


@pytest.fixture
def site(tmp_path, rtsp_server, kinds):
    """`onestop run` over one camera of each kind; stopped (SIGTERM) so every open clip is finished."""
    require_ffprobe()
    server = rtsp_server({f"/{k}": p for k, p in kinds.items()})
    cams = {
        "hevc-both": server.url("/h265"),  # H.265 main and H.265 sub
        "hevc-single": server.url("/h265"),  # one H.265 stream, decoded for detection
        "aac": server.url("/h264-aac"),
        "pcma": server.url("/h264-pcma"),  # defaults.audio: aac -> transcoded
        "pcmu-keep": server.url("/h264-pcmu"),
        "aac-drop": server.url("/h264-aac"),
    }
    config = site_config(cams, sub={"hevc-both": server.url("/h265")})
    config = config.replace('name: "pcmu-keep"', 'name: "pcmu-keep"\n    detect: {audio: keep}')
    config = config.replace('name: "aac-drop"', 'name: "aac-drop"\n    detect: {audio: drop}')
    app = Onestop(tmp_path, config, free_port())
    app.start()
    try:
        app.wait("an event on every camera", lambda: len(app.rows(
            "select distinct camera from events")) == len(cams), 90)
        app.wait("a clip closed on every camera", lambda: len(app.rows(
            "select distinct camera from events where clip_state = 'complete'")) == len(cams), 90)
        assert app.stop() == 0
        yield app
    finally:
        if app.proc is not None and app.proc.poll() is None:
            os.killpg(app.proc.pid, signal.SIGKILL)
            app.proc.wait()


def clips_of(app: Onestop, cam: str) -> list[Path]:
    rows = app.rows("select clip_path from events where camera = ? and clip_state = 'complete'", (cam,))
    return [app.folder / "recordings" / r["clip_path"] for r in rows]


def test_each_kind_of_camera_records_playable_clips(site):
    app = site
    expected = {  # camera -> (video codec, tag, audio codec or None)
        "hevc-both": ("hevc", "hvc1", None),
        "hevc-single": ("hevc", "hvc1", None),
        "aac": ("h264", "avc1", "aac"),
        "pcma": ("h264", "avc1", "aac"),
        "pcmu-keep": ("h264", "avc1", None),
        "aac-drop": ("h264", "avc1", None),
    }
    seen = {}
    for cam, (vcodec, tag, acodec) in expected.items():
        clips = clips_of(app, cam)
        assert clips, cam
        for clip in clips:
            found = streams(clip)
            video = [s for s in found if s["codec_type"] == "video"]
            audio = [s for s in found if s["codec_type"] == "audio"]
            assert [(s["codec_name"], s["codec_tag_string"]) for s in video] == [(vcodec, tag)], (cam, found)
            assert [s["codec_name"] for s in audio] == ([acodec] if acodec else []), (cam, found)
            assert decodes_cleanly(clip) == "", (cam, clip)
            assert clip.with_suffix(".jpg").stat().st_size > 0  # the thumbnail, from the decoded frames
        seen[cam] = f"{len(clips)} clip(s) {vcodec}/{tag}" + (f"+{acodec}" if acodec else "")
    frames = {c["id"]: c["frames"] for c in app.rows("select id, frames from cameras")}
    print("\n" + "; ".join(f"{cam}: {what}, {frames.get(cam)} frames analysed" for cam, what in seen.items()))
    assert all(frames[cam] > 0 for cam in expected)  # H.265 sub and single-stream H.265 decoded for detection
