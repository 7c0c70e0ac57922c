"""Worker statistics for the health page and /metrics: rates, dropped frames, lag, CPU and memory.

Pure classes with the clock passed in; the only I/O is `read_process()` (this process's /proc entry).
The heartbeat sends `WorkerStats.snapshot()` as `stats`: input_fps, sub_fps, detect_fps, dropped,
lag_s, last_frame_age_s, bitrate_bps, cpu_pct, rss_bytes (the names are read by the store, the web
app and the capacity benchmark: keep them stable).
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

# A live detect frame arriving more than this behind real time is decoded but not analysed (and
# counted as dropped), so a worker that fell behind catches up instead of lagging forever. Two
# seconds rides out a GC pause or a burst of events (clip start, thumbnail) without dropping, yet
# keeps zone presence and events within a few seconds of what the camera sees.
DROP_LAG_S = 2.0
RATE_WINDOW_S = 5.0  # rates are averaged over the last 5 s: steady on the page, quick to show a stall
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@dataclass(frozen=True)
class ProcessSample:
    """This process's CPU seconds so far (all threads) and resident memory in bytes (None if unknown)."""

    cpu_s: float
    rss_bytes: int | None


def read_process() -> ProcessSample:
    """CPU time from os.times() and the resident set from /proc/self/statm (Linux)."""
    times = os.times()
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            rss = int(f.read().split()[1]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError):
        rss = None
    return ProcessSample(times.user + times.system, rss)


class LagGate:
    """Decides for each live detect frame whether it is analysed or dropped because the worker is behind.

    Lag is how far the frame's presentation time trails the wall clock, relative to the best (smallest)
    gap seen since the connection started: network and buffering delay is the floor, a backlog is above it.
    """

    def __init__(self, drop_lag_s: float = DROP_LAG_S):
        if drop_lag_s <= 0:
            raise ValueError(f"drop_lag_s must be positive, got {drop_lag_s}")
        self.drop_lag_s = drop_lag_s
        self.lag_s = 0.0
        self._floor: float | None = None  # smallest (wall - pts) seen on this connection
        self._last_pts: float | None = None

    def reset(self) -> None:
        """A new connection: its timestamps start again."""
        self._floor = self._last_pts = None
        self.lag_s = 0.0

    def admit(self, pts_s: float | None, now: float) -> bool:
        """True: analyse the frame; False: skip it (the worker is more than drop_lag_s behind)."""
        if pts_s is None:
            return True
        if self._last_pts is not None and pts_s < self._last_pts:
            self.reset()  # the camera's clock jumped back (wrap, camera restart): measure afresh
        self._last_pts = pts_s
        offset = now - pts_s
        if self._floor is None or offset < self._floor:
            self._floor = offset
        self.lag_s = offset - self._floor
        return self.lag_s <= self.drop_lag_s


@dataclass
class _Mark:
    """Counter values at one moment (for rates over a window)."""

    t: float
    packets: int
    bytes: int
    decoded: int
    analysed: int
    cpu_s: float


class WorkerStats:
    """Counts what one camera worker receives and analyses; snapshot() gives the heartbeat's stats.

    Each counter has one writing thread (packets: the main-stream thread; frames: the detect thread),
    so plain integers need no lock; snapshot() runs on the heartbeat thread and only reads them.
    """

    def __init__(self, clock: Callable[[], float], *, live: bool,
                 process: Callable[[], ProcessSample] = read_process, drop_lag_s: float = DROP_LAG_S):
        self.clock, self.live, self.process = clock, live, process
        self.gate = LagGate(drop_lag_s)
        self.packets = 0
        self.bytes = 0
        self.analysed = 0
        self.dropped = 0
        self.last_frame: float | None = None
        self._marks: deque[_Mark] = deque()

    def on_packet(self, size: int) -> None:
        """One main-stream packet of `size` bytes arrived."""
        self.packets += 1
        self.bytes += size

    def on_connect(self) -> None:
        """The detect stream (re)connected: lag is measured afresh."""
        self.gate.reset()

    def admit(self, pts_s: float | None) -> bool:
        """A detect frame arrived: True to analyse it, False when it is dropped (live and too far behind)."""
        now = self.clock()
        self.last_frame = now
        if self.live and not self.gate.admit(pts_s, now):
            self.dropped += 1
            return False
        self.analysed += 1
        return True

    def snapshot(self, decoded: int | None = None) -> dict[str, float | int | None]:
        """The figures for the heartbeat; decoded: frames the detect sub-stream decoded so far (None: no sub)."""
        now = self.clock()
        proc = self.process()
        mark = _Mark(now, self.packets, self.bytes, decoded or 0, self.analysed, proc.cpu_s)
        self._marks.append(mark)
        while len(self._marks) > 2 and now - self._marks[1].t >= RATE_WINDOW_S:
            self._marks.popleft()
        first = self._marks[0]
        span = now - first.t

        def rate(value: float, start: float) -> float | None:
            return round((value - start) / span, 2) if span > 0 else None

        cpu = rate(100.0 * mark.cpu_s, 100.0 * first.cpu_s)
        return {
            "input_fps": rate(mark.packets, first.packets),
            "sub_fps": rate(mark.decoded, first.decoded) if decoded is not None else None,
            "detect_fps": rate(mark.analysed, first.analysed),
            "dropped": self.dropped,
            "lag_s": round(self.gate.lag_s, 3) if self.live else None,  # files are paced: no lag to measure
            "last_frame_age_s": round(now - self.last_frame, 2) if self.last_frame is not None else None,
            "bitrate_bps": rate(8 * mark.bytes, 8 * first.bytes),
            "cpu_pct": round(cpu, 1) if cpu is not None else None,
            "rss_bytes": proc.rss_bytes,
        }
