"""Recorder tests on real H.264 files: ring buffer, stream-copy clip writer, clip recorder, thumbnails."""

from __future__ import annotations

import json
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from media import MotionWindow, VideoSpec, make_video
from monitor.camera.recorder import (
    MAX_GOP_S,
    ClipInfo,
    ClipRecorder,
    ClipWriter,
    PacketRing,
    detach_stream,
    write_thumbnail,
)

FPS = 25  # media.VideoSpec default; gop=25 puts a keyframe on every whole second


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    """30 s, 320x180, motion from 8 s to 11 s, keyframe every second."""
    spec = VideoSpec(seconds=30, width=320, height=180, motion=(MotionWindow(8.0, 11.0),))
    return make_video(tmp_path_factory.mktemp("media") / "event.mp4", spec)


def demux(container) -> list[tuple[av.Packet, float]]:
    """All packets of the video stream, flush packets included, with t = pts in seconds."""
    stream = container.streams.video[0]
    return [(p, float(p.pts * p.time_base) if p.pts is not None else 0.0) for p in container.demux(stream)]


@pytest.fixture(scope="module")
def packets(video):
    """Demuxed once; the container stays open because packet.stream dies with it (see detach_stream)."""
    with av.open(str(video)) as container:
        yield demux(container)


def ffprobe(path: Path) -> dict:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-show_entries", "format=duration",
         "-of", "json", str(path)],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(out)


def decode_all(path: Path) -> int:
    """Decode every frame (any error raises); returns the frame count."""
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def segment(packets, start_s: float, end_s: float):
    return [(p, t) for p, t in packets if p.size and start_s <= t < end_s]


def fake_packet(t: float, key: bool) -> av.Packet:
    """A tiny packet for ring logic tables (the ring never looks at the payload)."""
    packet = av.Packet(b"\x00\x00\x00\x01")
    packet.time_base = Fraction(1, 1000)
    packet.pts = packet.dts = round(t * 1000)
    packet.is_keyframe = key
    return packet


# --- PyAV behaviour the recorder relies on -------------------------------------------------------


def test_demuxed_packets_stay_valid_when_held(tmp_path, video, packets):
    # The ring keeps packets from demux() without copying; their data must survive later reads
    # (and even the container being closed).
    with av.open(str(video)) as container:
        held = [p for p, _ in demux(container) if p.size]
        template = detach_stream(container.streams.video[0])
    assert [bytes(p) for p in held] == [bytes(p) for p, _ in packets if p.size]
    # ... and a detached template outlives the container (its own stream would crash the process).
    with ClipWriter(template, tmp_path / "detached.mp4") as writer:
        for p in held[:FPS]:
            writer.write(p, 0.0)
    assert decode_all(writer.path) == FPS


# --- PacketRing ----------------------------------------------------------------------------------


def test_ring_follows_a_real_stream(packets):
    ring = PacketRing(pre_roll_s=5.0)
    max_len = 0
    for p, t in packets[:20 * FPS + 1]:  # 0 .. 20 s
        ring.push(p, t)
        max_len = max(max_len, len(ring))
        if t >= 5.0:
            first, first_t = ring.since(float("-inf"))[0]
            assert first.is_keyframe
            assert ring.span_s >= 5.0
            assert first_t <= t - 5.0
    assert max_len < (5.0 + 1 + 1) * FPS  # pre-roll + one GOP + 1 s
    for t0 in (15.0, 15.5, 16.96, 19.0):
        start, start_t = ring.since(t0)[0]
        assert start.is_keyframe
        assert t0 - 1.0 < start_t <= t0
        assert ring.since(t0)[-1][1] == pytest.approx(20.0)
    # older than the ring: from its oldest keyframe
    assert ring.since(0.0)[0][1] == pytest.approx(15.0)
    ring.clear()
    assert len(ring) == 0 and ring.span_s == 0.0 and ring.since(0.0) == []


@pytest.mark.parametrize(
    "feed, expected_times",
    [
        # (t, keyframe) pushed in order -> times left in the ring; pre_roll 2 s
        ([(0, False), (1, False), (2, True), (3, False)], [2, 3]),  # waits for the first keyframe
        ([(0, True), (1, False), (2, True), (3, False), (4, True)], [2, 3, 4]),  # keyframe at 4 - 2
        ([(0, True), (1, False), (2, True), (3.9, False)], [0, 1, 2, 3.9]),  # 2 > 3.9 - 2: keep 0
        ([(0, True), (1, False), (2, True), (3, True), (6, False)], [3, 6]),
    ],
)
def test_ring_trims_to_the_keyframe_before_pre_roll(feed, expected_times):
    ring = PacketRing(pre_roll_s=2.0)
    for t, key in feed:
        ring.push(fake_packet(t, key), t)
    assert [t for _, t in ring.since(float("-inf"))] == expected_times


def test_ring_ignores_flush_packets_and_bounds_a_keyframeless_stream():
    ring = PacketRing(pre_roll_s=2.0)
    ring.push(av.Packet(), 0.0)
    assert len(ring) == 0
    ring.push(fake_packet(0.0, True), 0.0)
    for i in range(1, int((2.0 + MAX_GOP_S + 1) * 10)):  # 10 pps, never another keyframe
        ring.push(fake_packet(i / 10, False), i / 10)
    assert len(ring) == 0  # emptied rather than growing; waits for the next keyframe
    ring.push(fake_packet(40.0, True), 40.0)
    assert len(ring) == 1


# --- ClipWriter ----------------------------------------------------------------------------------


def test_writer_copies_a_browser_playable_segment(tmp_path, packets):
    source = segment(packets, 4.0, 9.0)  # keyframe at 4 s, up to the frame before the one at 9 s
    pts_before = [p.pts for p, _ in source]
    out = tmp_path / "clips" / "seg.mp4"
    writer = ClipWriter(source[0][0].stream, out)
    for p, t in source:
        writer.write(p, t)
    assert writer.part_path.exists() and not out.exists()
    info = writer.close()

    assert info == ClipInfo(out, pytest.approx(5.0), 5 * FPS, out.stat().st_size, 4.0, pytest.approx(8.96))
    assert not writer.part_path.exists()
    probe = ffprobe(out)
    assert probe["streams"] == [{"codec_name": "h264"}]
    assert float(probe["format"]["duration"]) == pytest.approx(5.0, abs=0.1)
    data = out.read_bytes()
    assert 0 <= data.index(b"moov") < data.index(b"mdat")  # faststart
    assert decode_all(out) == 5 * FPS
    assert [p.pts for p, _ in source] == pts_before  # the caller's packets are not rebased


def test_writer_starts_at_a_keyframe_and_skips_flush_packets(tmp_path, packets):
    source = segment(packets, 3.5, 6.0) + [(av.Packet(), 6.0)]
    out = tmp_path / "late.mp4"
    with ClipWriter(source[0][0].stream, out) as writer:
        for p, t in source:
            writer.write(p, t)
    assert writer.packets == 2 * FPS and writer.started_at == 4.0
    assert float(ffprobe(out)["format"]["duration"]) == pytest.approx(2.0, abs=0.1)
    assert decode_all(out) == 2 * FPS


def test_writer_repairs_missing_and_backward_timestamps(tmp_path, video):
    with av.open(str(video)) as container:  # own packets: they are modified in place
        source = segment(demux(container), 2.0, 6.0)
        template = detach_stream(container.streams.video[0])
    for i, (p, _) in enumerate(source):
        if i % 7 == 3:
            p.dts = None  # e.g. RTSP packets without dts
    source[40][0].dts = source[40][0].pts = source[39][0].dts  # a repeated timestamp
    for p, _ in source[60:]:  # the camera clock jumps back 10 s mid-clip
        p.pts -= 10 * 12800
        p.dts = None if p.dts is None else p.dts - 10 * 12800
    out = tmp_path / "fixed.mp4"
    writer = ClipWriter(template, out)
    for p, t in source:
        writer.write(p, t)
    info = writer.close()
    assert writer.fixed_timestamps == 2
    assert info.duration_s == pytest.approx(4.0, abs=0.1)
    assert float(ffprobe(out)["format"]["duration"]) == pytest.approx(4.0, abs=0.1)
    assert decode_all(out) == 4 * FPS


def test_writer_abort_and_empty_close_leave_no_files(tmp_path, packets):
    writer = ClipWriter(packets[0][0].stream, tmp_path / "a.mp4")
    for p, t in segment(packets, 0.0, 2.0):
        writer.write(p, t)
    assert writer.part_path.exists()
    writer.abort()
    writer.abort()  # idempotent

    empty = ClipWriter(packets[0][0].stream, tmp_path / "b.mp4")
    empty.write(packets[1][0], packets[1][1])  # not a keyframe: skipped
    with pytest.raises(ValueError, match="no packets"):
        empty.close()
    assert list(tmp_path.iterdir()) == []


# --- ClipRecorder --------------------------------------------------------------------------------


def run_event(recorder: ClipRecorder, packets, path: Path, start: float, end: float | None):
    """Feed packets like the worker: start() once t reaches the event start, stop() at its end."""
    closed: list[ClipInfo] = []
    started = stopped = False
    for p, t in packets:
        info = recorder.on_packet(p, t)
        if info:
            closed.append(info)
        if not started and t >= start:
            started = True
            assert recorder.start(path, start) is None
        if end is not None and started and not stopped and t >= end:
            stopped = True
            recorder.stop(end)
    return closed


def test_recorder_clip_has_pre_roll_and_post_roll(tmp_path, packets):
    recorder = ClipRecorder(pre_roll_s=5.0, post_roll_s=4.0, max_clip_s=60.0)
    out = tmp_path / "event.mp4"
    closed = run_event(recorder, packets, out, start=8.0, end=11.0)

    assert len(closed) == 1 and not recorder.recording
    info = closed[0]
    assert info.path == out and info.started_at == 3.0  # keyframe at 8 - 5 s
    assert info.ended_at == pytest.approx(15.0 - 1 / FPS)  # stops at 11 + 4 s
    assert info.duration_s == pytest.approx(12.0, abs=0.1)
    assert float(ffprobe(out)["format"]["duration"]) == pytest.approx(12.0, abs=0.1)
    with av.open(str(out)) as clip:
        first = next(p for p in clip.demux(video=0) if p.size)
    keyframe_at_3s = next(p for p, t in packets if t == 3.0)
    assert bytes(first) == bytes(keyframe_at_3s)  # a copy, not a re-encode
    assert decode_all(out) == 12 * FPS
    assert recorder.close() is None


def test_recorder_caps_clip_length(tmp_path, packets):
    recorder = ClipRecorder(pre_roll_s=5.0, post_roll_s=4.0, max_clip_s=6.0)
    closed = run_event(recorder, packets, tmp_path / "long.mp4", start=8.0, end=None)
    assert len(closed) == 1
    assert closed[0].duration_s == pytest.approx(6.0, abs=0.05)
    assert float(ffprobe(closed[0].path)["format"]["duration"]) == pytest.approx(6.0, abs=0.1)


def test_recorder_start_while_recording_closes_the_previous_clip(tmp_path, packets):
    recorder = ClipRecorder(pre_roll_s=2.0, post_roll_s=4.0, max_clip_s=60.0)
    first = second = None
    for p, t in packets:
        assert recorder.on_packet(p, t) is None
        if t == 8.0:
            assert recorder.start(tmp_path / "one.mp4", 8.0) is None
        if t == 20.0:
            first = recorder.start(tmp_path / "two.mp4", 20.0)
    second = recorder.close()
    assert first.path.name == "one.mp4" and first.duration_s == pytest.approx(14.0, abs=0.1)  # 6..20 s
    assert second.path.name == "two.mp4" and second.started_at == 18.0
    assert second.duration_s == pytest.approx(12.0, abs=0.1)  # 18 s to the end of the file
    assert sorted(f.name for f in tmp_path.iterdir()) == ["one.mp4", "two.mp4"]


def test_recorder_started_before_any_keyframe_opens_at_the_next_one(tmp_path, packets):
    recorder = ClipRecorder(pre_roll_s=5.0, post_roll_s=1.0, max_clip_s=60.0)
    assert recorder.start(tmp_path / "early.mp4", 0.0) is None
    recorder.stop(2.5)  # a short event, over before the stream delivered anything
    assert recorder.recording
    for p, t in packets[10:]:  # joins mid-GOP, like a fresh RTSP connection
        if info := recorder.on_packet(p, t):
            break
    assert info.started_at == 1.0 and info.duration_s == pytest.approx(2.5, abs=0.05)
    assert decode_all(info.path) == info.packets == 63  # 1.00 s .. 3.48 s, the last frame before 3.5 s


# --- thumbnails ----------------------------------------------------------------------------------


def test_thumbnail_is_a_scaled_jpeg(tmp_path):
    frame = np.zeros((360, 640, 3), np.uint8)
    frame[:, 320:] = (0, 0, 255)
    path = write_thumbnail(frame, tmp_path / "thumbs" / "e1.jpg")
    data = path.read_bytes()
    assert data[:2] == b"\xff\xd8"
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (180, 320, 3)
    assert image[90, 300, 2] > 200 and image[90, 10, 2] < 50
    assert [f.name for f in path.parent.iterdir()] == ["e1.jpg"]


def test_failed_clips_are_reported_once(tmp_path):
    """A clip that never got a keyframe before its stop time is handed to the worker as failed."""
    from monitor.camera.recorder import ClipRecorder

    rec = ClipRecorder(5, 2, 60)
    rec.start(tmp_path / "e1.mp4", 100.0)  # nothing buffered: waits for a keyframe
    assert rec.recording
    assert rec.close() is None
    assert rec.take_failed() == [tmp_path / "e1.mp4"]
    assert rec.take_failed() == []
