"""Worker statistics: rates with a replayed clock, the dropped/lag decision, and a real worker behind an RTSP camera."""

from __future__ import annotations

import textwrap
import threading
import time

import pytest

from monitor.site.config import load_config
from monitor.camera.sources import SourceFrame
from monitor.camera.stats import DROP_LAG_S, RATE_WINDOW_S, LagGate, ProcessSample, WorkerStats, read_process
from monitor.camera.worker import CameraWorker, run_camera
from monitor.messages import Heartbeat, Message

HEARTBEAT_KEYS = {"input_fps", "sub_fps", "detect_fps", "dropped", "lag_s", "last_frame_age_s", "bitrate_bps",
                  "cpu_pct", "rss_bytes"}


class Clock:
    """A replayed clock."""

    def __init__(self, t: float = 1000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


# ---------------------------------------------------------------- the lag gate

# (pts of the frame, wall time it arrives, analysed?, lag after it)
GATE_CASES = {
    "in step with the camera": [(0.0, 100.0, True, 0.0), (0.2, 100.2, True, 0.0), (0.4, 100.4, True, 0.0)],
    "network delay is the floor, not lag": [(0.0, 100.5, True, 0.0), (0.2, 100.7, True, 0.0)],
    "a burst at connect lowers the floor": [(0.0, 101.0, True, 0.0), (0.2, 101.0, True, 0.0), (0.4, 101.5, True, 0.3)],
    "behind by up to the threshold: analysed": [(0.0, 100.0, True, 0.0), (1.0, 101.0 + DROP_LAG_S, True, DROP_LAG_S)],
    "further behind: dropped until caught up": [
        (0.0, 100.0, True, 0.0), (1.0, 103.5, False, 2.5), (1.2, 103.6, False, 2.4), (3.4, 103.7, True, 0.3)],
    "the camera clock jumps back: measured afresh": [(50.0, 100.0, True, 0.0), (0.0, 110.0, True, 0.0),
                                                      (0.2, 110.2, True, 0.0)],
}


@pytest.mark.parametrize("steps", GATE_CASES.values(), ids=GATE_CASES.keys())
def test_lag_gate(steps):
    gate = LagGate()
    for pts, now, analysed, lag in steps:
        assert gate.admit(pts, now) is analysed, (pts, now)
        assert gate.lag_s == pytest.approx(lag)


def test_lag_gate_reset_starts_a_new_connection():
    gate = LagGate()
    gate.admit(0.0, 100.0)
    assert gate.admit(10.0, 113.0) is False  # 3 s behind
    gate.reset()  # reconnected: the camera's timestamps start again
    assert gate.admit(0.0, 200.0) is True and gate.lag_s == 0.0


def test_frames_without_timestamps_are_always_analysed():
    assert LagGate().admit(None, 5.0) is True


def test_lag_threshold_must_be_positive():
    with pytest.raises(ValueError, match="drop_lag_s"):
        LagGate(0)


# ---------------------------------------------------------------- WorkerStats


def _stats(clock: Clock, live: bool = True, cpu: list[float] | None = None) -> WorkerStats:
    cpu = cpu if cpu is not None else [0.0]
    return WorkerStats(clock, live=live, process=lambda: ProcessSample(cpu[0], 50_000_000))


def test_rates_over_the_window():
    clock, cpu = Clock(), [10.0]
    stats = _stats(clock, cpu=cpu)
    assert stats.snapshot(decoded=0)["input_fps"] is None  # no span yet
    for second in range(1, 4):
        for i in range(25):
            stats.on_packet(4000)
        for i in range(5):
            stats.admit(second + i * 0.2)
            clock.t += 0.2
        cpu[0] += 0.25  # a quarter of a core
        snap = stats.snapshot(decoded=25 * second)
    assert set(snap) == HEARTBEAT_KEYS
    assert snap["input_fps"] == 25.0
    assert snap["sub_fps"] == 25.0
    assert snap["detect_fps"] == 5.0
    assert snap["bitrate_bps"] == 25 * 4000 * 8
    assert snap["cpu_pct"] == 25.0
    assert snap["rss_bytes"] == 50_000_000
    assert snap["dropped"] == 0
    assert snap["last_frame_age_s"] == 0.2  # the clock moved on after the last frame
    assert stats.snapshot()["sub_fps"] is None  # no sub-stream: unknown, not zero


def test_rates_forget_what_is_older_than_the_window():
    clock = Clock()
    stats = _stats(clock)
    stats.snapshot()
    for _ in range(100):
        stats.on_packet(1000)
    for _ in range(int(RATE_WINDOW_S) + 3):  # then a stall: nothing arrives
        clock.t += 1.0
        snap = stats.snapshot()
    assert snap["input_fps"] == 0.0 and snap["bitrate_bps"] == 0.0


def test_live_frames_behind_real_time_are_dropped_and_counted():
    """A camera at 5 fps and analysis taking 0.6 s a frame: skipped frames cost nothing, so the lag stays bounded."""
    clock = Clock(100.0)
    stats = _stats(clock)
    analysed, lags = [], []
    for i in range(100):
        clock.t = max(clock.t, 100.0 + i * 0.2)  # frame i is there at its presentation time, or when we get to it
        if stats.admit(i * 0.2):
            analysed.append(i)
            clock.t += 0.6
        lags.append(stats.gate.lag_s)
    snap = stats.snapshot()
    assert snap["dropped"] == 100 - len(analysed) > 0
    assert max(lags) <= DROP_LAG_S + 0.6  # without dropping it would reach 100 * 0.4 = 40 s
    assert analysed[:4] == [0, 1, 2, 3] and len(analysed) >= 30  # one frame in three still analysed


def test_file_sources_never_drop():
    clock = Clock(100.0)
    stats = _stats(clock, live=False)
    for i in range(20):
        clock.t = 100.0 + i * 5.0
        assert stats.admit(i * 0.2)
    snap = stats.snapshot()
    assert snap["dropped"] == 0 and snap["lag_s"] is None


def test_read_process_sees_this_process():
    sample = read_process()
    assert sample.cpu_s > 0
    assert sample.rss_bytes is not None and sample.rss_bytes > 10_000_000  # a Python with NumPy loaded


# ---------------------------------------------------------------- a real worker


class SlowWorker(CameraWorker):
    """A worker whose analysis takes longer than the frame interval (an overloaded machine)."""

    ANALYSIS_S = 0.4

    def on_frame(self, item: SourceFrame) -> None:
        time.sleep(self.ANALYSIS_S)
        super().on_frame(item)


def test_worker_heartbeat_stats_from_a_real_rtsp_camera(rtsp_server, tmp_path):
    """Heartbeats carry the stats; a worker 4x slower than the stream drops frames and keeps its lag bounded."""
    server = rtsp_server(loop=True)
    (tmp_path / "cameras.yaml").write_text(textwrap.dedent(f"""\
        site: {{name: t}}
        defaults: {{detect_fps: 10}}
        cameras:
          - id: cam
            name: Cam
            streams: {{main: "{server.url('/main')}", sub: "{server.url('/sub')}"}}
        """), encoding="utf-8")
    config = load_config(tmp_path / "cameras.yaml")
    sent: list[Message] = []
    lock = threading.Lock()

    def send(msg: Message) -> None:
        with lock:
            sent.append(msg)

    worker = SlowWorker(config, config.cameras[0], send)
    stop = threading.Event()
    runner = threading.Thread(target=run_camera, args=(worker, stop), daemon=True)
    runner.start()
    deadline = time.monotonic() + 40
    try:
        while time.monotonic() < deadline:
            with lock:
                beats = [m.stats for m in sent if isinstance(m, Heartbeat)]
            if beats and beats[-1]["dropped"] >= 10 and beats[-1]["input_fps"]:
                break
            time.sleep(0.5)
    finally:
        stop.set()
        runner.join(30)
    assert beats, "no heartbeat"
    last = beats[-1]
    assert set(last) == HEARTBEAT_KEYS
    assert last["dropped"] >= 10, last
    assert last["input_fps"] > 0 and last["sub_fps"] > 0 and last["detect_fps"] > 0
    assert last["bitrate_bps"] > 0 and last["rss_bytes"] > 0 and last["cpu_pct"] is not None
    # without dropping, the lag would grow by ~0.3 s per analysed frame for the whole run
    assert max(b["lag_s"] for b in beats) < DROP_LAG_S + 2 * SlowWorker.ANALYSIS_S + 1.0
