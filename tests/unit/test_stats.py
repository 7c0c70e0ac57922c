"""Worker statistics: rates with a replayed clock and the dropped/lag decision (tests/e2e/test_worker_stats.py
runs a real worker behind an RTSP camera)."""

from __future__ import annotations

import pytest

from monitor.camera.stats import DROP_LAG_S, RATE_WINDOW_S, LagGate, ProcessSample, WorkerStats, read_process

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
