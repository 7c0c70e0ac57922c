"""'Smart codec' cameras: a keyframe only every 10 s. The pre-roll ring keeps whole GOPs, so a clip
still reaches back at least pre_roll_s, and its memory stays bounded by (ring span + one GOP) of video."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import pytest

from media import MotionWindow, VideoSpec, make_video
from monitor.camera.recorder import MAX_GOP_S, ClipRecorder, PacketRing

FPS = 25
GOP_S = 10.0
BITRATE = 4_000_000  # bits/s: a 1080p main stream
PRE_ROLL_S, MIN_LENGTH_S = 5.0, 1.0
RING_S = PRE_ROLL_S + MIN_LENGTH_S + 2.0  # what the worker gives ClipRecorder (monitor/camera/worker.py)
KEY_FACTOR = 8  # a keyframe weighs as much as this many P-frames


def packet(t: float, size: int, key: bool) -> av.Packet:
    p = av.Packet(bytes(size))
    p.time_base = Fraction(1, 90_000)
    p.pts = p.dts = round(t * 90_000)
    p.is_keyframe = key
    return p


def stream_4mbit(seconds: float):
    """(packet, t) of a 25 fps stream at 4 Mbit/s with a keyframe every GOP_S."""
    per_gop = BITRATE / 8 * GOP_S
    frames = int(GOP_S * FPS)
    p_size = int(per_gop / (frames - 1 + KEY_FACTOR))
    for i in range(int(seconds * FPS)):
        key = i % frames == 0
        yield packet(i / FPS, p_size * (KEY_FACTOR if key else 1), key), i / FPS


def test_the_ring_reaches_back_a_full_pre_roll_with_bounded_memory():
    ring = PacketRing(RING_S)
    worst_bytes, shortest_reach = 0, float("inf")
    for p, t in stream_4mbit(120):
        ring.push(p, t)
        worst_bytes = max(worst_bytes, ring.nbytes)
        if t >= RING_S:  # past the start-up, any event start may come now
            first_t = ring.since(t - RING_S)[0][1]
            shortest_reach = min(shortest_reach, t - first_t)
    bound = BITRATE / 8 * (RING_S + GOP_S) * 1.1  # + the keyframe's weight and a frame of slack
    print(f"\n4 Mbit/s, keyframe every {GOP_S:.0f} s, ring {RING_S:.0f} s: holds at most {worst_bytes / 1e6:.1f} MB "
          f"(bound {bound / 1e6:.1f} MB; a stream with no keyframe at all is dropped after "
          f"{RING_S + MAX_GOP_S:.0f} s = {BITRATE / 8 * (RING_S + MAX_GOP_S) / 1e6:.0f} MB); "
          f"reaches back at least {shortest_reach:.1f} s")
    assert shortest_reach >= RING_S  # a late-confirmed event still gets its whole pre-roll
    assert worst_bytes <= bound


def test_a_clip_from_a_10_s_gop_stream_starts_at_the_keyframe_before_the_pre_roll(tmp_path):
    spec = VideoSpec(30, 320, 180, gop=int(GOP_S * FPS), motion=(MotionWindow(20, 24),))
    video = make_video(tmp_path / "gop10.mp4", spec)
    recorder = ClipRecorder(PRE_ROLL_S, post_roll_s=2.0, max_clip_s=60.0, ring_s=RING_S)
    event_start, event_end = 22.0, 24.0
    closed = []
    with av.open(str(video)) as container:
        for p in container.demux(video=0):
            if p.pts is None:
                continue
            t = float(p.pts * p.time_base)
            closed += [i for i in [recorder.on_packet(p, t)] if i]
            if t == event_start:
                recorder.start(tmp_path / "clip.mp4", event_start)
            if t == event_end:
                recorder.stop(event_end)
    closed += [i for i in [recorder.close()] if i]
    assert len(closed) == 1
    info = closed[0]
    assert info.started_at == pytest.approx(10.0)  # the keyframe at or before 22 - 5 = 17 s
    assert event_start - info.started_at >= PRE_ROLL_S
    with av.open(str(info.path)) as clip:
        frames = sum(1 for _ in clip.decode(video=0))
    assert frames == pytest.approx((event_end + 2.0 - 10.0) * FPS, abs=2)
    assert Path(info.path).stat().st_size > 0
