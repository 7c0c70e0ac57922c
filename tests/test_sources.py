"""Stream sources against real files and a real RTSP server (GStreamer)."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import free_port
from media import VideoSpec, make_video
from monitor.camera.sources import (
    BACKOFF_MAX_S,
    RTSP_READ_TIMEOUT_S,
    SourceFrame,
    SourcePacket,
    SourceStatus,
    StreamSource,
    grey_small,
)

Item = SourcePacket | SourceFrame | SourceStatus
RTSP_LOSS_TIMEOUT_S = 4.0  # a stopped server closes the TCP connection: noticed at once, not by the watchdog


class FakeClock:
    """A clock that only moves when the source sleeps."""

    def __init__(self, start: float = 1_000_000.0):
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Collector:
    """Runs source.items() in a thread so a test can wait for items with a deadline."""

    def __init__(self, source: StreamSource):
        self.source = source
        self.queue: queue.Queue[Item | None] = queue.Queue()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            for item in self.source.items():
                self.queue.put(item)
        finally:
            self.queue.put(None)

    def until(self, predicate: Callable[[Item], bool], timeout: float) -> list[Item]:
        """Items up to and including the first one matching predicate; fails after timeout."""
        deadline = time.monotonic() + timeout
        seen: list[Item] = []
        while True:
            try:
                item = self.queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"timed out after {timeout} s; statuses: {statuses(seen)}")
            if item is None:
                pytest.fail(f"source ended; statuses: {statuses(seen)}")
            seen.append(item)
            if predicate(item):
                return seen

    def close(self, timeout: float = 5.0) -> float:
        """Set stop and return how long items() took to end."""
        t0 = time.monotonic()
        self.source.stop.set()
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "items() did not end after stop"
        return time.monotonic() - t0


def statuses(items: list[Item]) -> list[SourceStatus]:
    return [i for i in items if isinstance(i, SourceStatus)]


def is_state(state: str) -> Callable[[Item], bool]:
    return lambda i: isinstance(i, SourceStatus) and i.state == state


@pytest.fixture(scope="module")
def short_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2 s 640x360 file: loops quickly."""
    return make_video(tmp_path_factory.mktemp("short") / "short.mp4", VideoSpec(seconds=2))


# -- files -------------------------------------------------------------------------------------


def test_file_is_paced_in_real_time(test_videos):
    source = StreamSource(str(test_videos.sub), "cam1/sub", packets=True, decode=False, is_file=True)
    t0 = time.monotonic()
    first: float | None = None
    for item in source.items():
        if isinstance(item, SourcePacket):
            first = item.t if first is None else first
            if item.t - first >= 3.0:
                break
    assert time.monotonic() - t0 >= 2.5


def test_file_with_fake_clock_takes_no_time_and_loops_monotonically(short_video):
    clock = FakeClock()
    source = StreamSource(str(short_video), "cam1/main", packets=True, decode=False, loop=True, is_file=True,
                          clock=clock, sleep=clock.sleep)
    t0 = time.monotonic()
    times, keyframes = [], 0
    for item in source.items():
        if isinstance(item, SourcePacket):
            times.append(item.t)
            keyframes += item.keyframe
            if len(times) == 3 * 50 + 10:  # three laps of a 2 s, 25 fps file and a bit
                break
    assert time.monotonic() - t0 < 5.0
    steps = [b - a for a, b in zip(times, times[1:])]
    assert all(s == pytest.approx(0.04, abs=1e-6) for s in steps), "t continues across the loop seams"
    assert times[-1] - times[0] == pytest.approx((len(times) - 1) * 0.04)
    assert keyframes == 7  # one per second: laps start on a keyframe


def test_non_looping_file_ends_with_stopped(short_video):
    clock = FakeClock()
    source = StreamSource(str(short_video), "cam1/main", packets=True, decode=False, is_file=True,
                          clock=clock, sleep=clock.sleep)
    items = list(source.items())
    assert [s.state for s in statuses(items)] == ["connecting", "online", "stopped"]
    assert sum(isinstance(i, SourcePacket) for i in items) == 50


def test_detect_fps_picks_frames_and_grey_small_shape(test_videos):
    clock = FakeClock()
    source = StreamSource(str(test_videos.sub), "cam1/sub", packets=False, decode=True, detect_fps=5,
                          is_file=True, clock=clock, sleep=clock.sleep)
    frames: list[SourceFrame] = []
    for item in source.items():
        assert not isinstance(item, SourcePacket)
        if isinstance(item, SourceFrame):
            frames.append(item)
            if item.t - frames[0].t >= 10.0:
                break
    assert len(frames) == 51  # 5 per second of video, both ends included
    gaps = [b.t - a.t for a, b in zip(frames, frames[1:])]
    assert all(g == pytest.approx(0.2, abs=1e-6) for g in gaps)
    grey = grey_small(frames[0].frame, 320)
    assert grey.shape == (180, 320) and grey.dtype.name == "uint8"
    assert 40 < grey.mean() < 200  # a real picture, not padding


def test_missing_file_retries():
    clock = FakeClock()
    source = StreamSource("/nonexistent/cam.mp4", "cam1/main", packets=True, decode=False, is_file=True,
                          clock=clock, sleep=clock.sleep)
    items = []
    for item in source.items():
        items.append(item)
        if len(items) == 3:
            break
    assert [s.state for s in items] == ["connecting", "reconnecting", "reconnecting"]
    assert "No such file" in items[1].error


# -- RTSP ------------------------------------------------------------------------------------


def test_rtsp_packets_and_frames(rtsp_server):
    server = rtsp_server()
    main = Collector(StreamSource(server.url("/main"), "cam1/main", packets=True, decode=False))
    sub = Collector(StreamSource(server.url("/sub"), "cam1/sub", packets=False, decode=True, detect_fps=5))
    try:
        seen = main.until(lambda i: isinstance(i, SourcePacket) and i.keyframe, timeout=15)
        seen += main.until(lambda i: isinstance(i, SourcePacket) and i.keyframe, timeout=5)
        assert [s.state for s in statuses(seen)] == ["connecting", "online"]
        online = statuses(seen)[1]
        assert online.info["codec"] == "h264"
        assert (online.info["width"], online.info["height"]) == (1280, 720)
        assert online.info["fps"] == pytest.approx(25, abs=0.5)
        packets = [i for i in seen if isinstance(i, SourcePacket)]
        assert packets[0].stream.codec_context.name == "h264"
        assert all(p.packet.size > 0 for p in packets)
        assert all(a.t <= b.t for a, b in zip(packets, packets[1:]))
        # 25 fps with a keyframe each second: 25 packets from one keyframe to the next
        assert sum(p.keyframe for p in packets) >= 2

        frames = sub.until(lambda i: isinstance(i, SourceFrame), timeout=15)
        frames += sub.until(lambda i: isinstance(i, SourceFrame), timeout=5)
        frame_items = [f for f in frames if isinstance(f, SourceFrame)]
        assert (frame_items[0].frame.width, frame_items[0].frame.height) == (640, 360)
        assert grey_small(frame_items[0].frame, 320).shape == (180, 320)
        assert frame_items[1].t - frame_items[0].t >= 0.15  # detect_fps=5 thins 25 fps out
    finally:
        main.close()
        sub.close()


def test_rtsp_reconnects_after_server_restart(rtsp_server):
    server = rtsp_server()
    col = Collector(StreamSource(server.url("/main"), "cam1/main", packets=True, decode=False))
    try:
        col.until(is_state("online"), timeout=15)
        col.until(lambda i: isinstance(i, SourcePacket), timeout=5)
        server.stop()
        t0 = time.monotonic()
        lost = col.until(is_state("reconnecting"), timeout=RTSP_LOSS_TIMEOUT_S)[-1]
        assert time.monotonic() - t0 < RTSP_LOSS_TIMEOUT_S
        assert lost.error and lost.retry_in_s == 1.0
        server.start()
        back = col.until(is_state("online"), timeout=20)[-1]
        assert back.reconnects == 1
        col.until(lambda i: isinstance(i, SourcePacket), timeout=5)
    finally:
        assert col.close() < 2.0


def test_unreachable_backs_off_and_stops_promptly():
    url = f"rtsp://127.0.0.1:{free_port()}/main"
    clock = FakeClock()
    source = StreamSource(url, "cam1/main", packets=True, decode=False, clock=clock, sleep=clock.sleep)
    seen = []
    for item in source.items():
        seen.append(item)
        if len(seen) == 8:
            break
    assert seen[0].state == "connecting"
    assert all(s.state == "reconnecting" and s.error for s in seen[1:])
    assert [s.retry_in_s for s in seen[1:]] == [1, 2, 4, 8, 16, BACKOFF_MAX_S, BACKOFF_MAX_S]
    assert clock.sleeps == [1, 2, 4, 8, 16, BACKOFF_MAX_S]

    # With real waiting, stop cuts the back-off short.
    col = Collector(StreamSource(url, "cam1/main", packets=True, decode=False))
    col.until(is_state("reconnecting"), timeout=10)
    assert col.close() < 0.5
    rest = []
    while (item := col.queue.get(timeout=1)) is not None:
        rest.append(item)
    assert rest[-1].state == "stopped"


def test_credentials_never_logged(rtsp_server, caplog):
    caplog.set_level(logging.DEBUG, logger="monitor")
    secret = "s3cretPW"
    server = rtsp_server()
    dead = f"rtsp://user:{secret}@127.0.0.1:{free_port()}/main"
    clock = FakeClock()
    errors = []
    source = StreamSource(dead, "cam1/main", packets=True, decode=False, clock=clock, sleep=clock.sleep)
    for item in source.items():
        if isinstance(item, SourceStatus) and item.error:
            errors.append(item.error)
            if len(errors) == 2:
                break
    assert "127.0.0.1" in errors[0]  # the error still says where

    col = Collector(StreamSource(server.url("/main", credentials=f"user:{secret}"), "cam1/main",
                                 packets=True, decode=False))
    try:
        col.until(lambda i: isinstance(i, SourcePacket), timeout=15)
        server.stop()
        lost = col.until(is_state("reconnecting"), timeout=RTSP_LOSS_TIMEOUT_S)[-1]
        errors.append(lost.error)
    finally:
        col.close()
    assert caplog.records, "the source logs its connection attempts"
    assert secret not in caplog.text
    assert all(secret not in e for e in errors)
    assert "cam1/main" in caplog.text


def test_rtsp_stall_is_detected_by_the_read_timeout(rtsp_server):
    server = rtsp_server()
    col = Collector(StreamSource(server.url("/sub"), "cam1/sub", packets=True, decode=False))
    try:
        col.until(lambda i: isinstance(i, SourcePacket), timeout=15)
        server.freeze()
        t0 = time.monotonic()
        lost = col.until(is_state("reconnecting"), timeout=RTSP_READ_TIMEOUT_S + 5)[-1]
        waited = time.monotonic() - t0
        # The socket stayed open: only the time-out sees it (packets already in flight arrive first).
        assert RTSP_READ_TIMEOUT_S - 2 <= waited <= RTSP_READ_TIMEOUT_S + 2
        assert lost.error and ("stalled" in lost.error or "exit" in lost.error.lower())
        server.thaw()
        assert col.until(is_state("online"), timeout=20)[-1].reconnects == 1
    finally:
        server.thaw()
        col.close()
