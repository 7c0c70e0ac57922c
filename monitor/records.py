"""Plain records shared by the stages: per-second zone samples and the time spans they are cut by.

ZoneSamples is what the database returns (monitor.db.store.zone_samples) and what the counter
analytics (monitor.counters.analytics) consume. It lives here, below both, so that the store does
not import the analytics and the data flow source -> detect -> db -> counters -> web stays one-way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class ZoneSamples:
    """Per-second samples of one zone: time, seat presence and people estimate (parallel arrays)."""

    t: np.ndarray  # int64 seconds, strictly increasing
    occupied: np.ndarray  # bool
    count: np.ndarray  # float32

    def __post_init__(self) -> None:
        t = np.asarray(self.t, dtype=np.int64)
        occupied = np.asarray(self.occupied, dtype=bool)
        count = np.asarray(self.count, dtype=np.float32)
        if t.ndim != 1 or occupied.shape != t.shape or count.shape != t.shape:
            raise ValueError(
                f"t, occupied and count must be 1-D arrays of one length, got shapes "
                f"{t.shape}, {occupied.shape}, {count.shape}"
            )
        if t.size > 1 and not bool(np.all(t[1:] > t[:-1])):
            raise ValueError("sample times must be strictly increasing (one sample per second)")
        object.__setattr__(self, "t", t)
        object.__setattr__(self, "occupied", occupied)
        object.__setattr__(self, "count", count)

    def __len__(self) -> int:
        return int(self.t.size)

    @classmethod
    def empty(cls) -> ZoneSamples:
        """No samples at all."""
        return cls(np.empty(0, np.int64), np.empty(0, bool), np.empty(0, np.float32))

    @classmethod
    def from_records(cls, records: Iterable[tuple[int, bool, float]]) -> ZoneSamples:
        """Build from (t, occupied, count) rows in any order; a repeated second raises ValueError."""
        rows = sorted(records, key=lambda row: row[0])
        if not rows:
            return cls.empty()
        t, occupied, count = zip(*rows, strict=True)
        return cls(np.array(t, np.int64), np.array(occupied, bool), np.array(count, np.float32))

    def window(self, t0: float, t1: float) -> ZoneSamples:
        """The samples with t0 <= t < t1."""
        i0, i1 = np.searchsorted(self.t, [t0, t1], side="left")
        return ZoneSamples(self.t[i0:i1], self.occupied[i0:i1], self.count[i0:i1])

    def select(self, intervals: Sequence[Interval]) -> ZoneSamples:
        """The samples whose second starts inside one of the intervals."""
        mask = _in_intervals(self.t, intervals)
        return ZoneSamples(self.t[mask], self.occupied[mask], self.count[mask])


@dataclass(frozen=True, order=True)
class Interval:
    """A half-open time span [start, end) in seconds."""

    start: float
    end: float

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"interval ends before it starts: [{self.start}, {self.end})")

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.end - self.start


def merge_intervals(intervals: Iterable[Interval], gap_s: float) -> list[Interval]:
    """Sorted union where overlapping or touching intervals, and ones separated by less than gap_s, become one."""
    out: list[Interval] = []
    for iv in sorted(intervals):
        if out and (iv.start <= out[-1].end or iv.start - out[-1].end < gap_s):
            if iv.end > out[-1].end:
                out[-1] = Interval(out[-1].start, iv.end)
        else:
            out.append(iv)
    return out



def _in_intervals(t: np.ndarray, intervals: Iterable[Interval]) -> np.ndarray:
    """Boolean mask of the times that fall inside one of the intervals."""
    spans = merge_intervals(intervals, 0)
    if not spans:
        return np.zeros(t.shape, bool)
    starts = np.array([iv.start for iv in spans])
    ends = np.array([iv.end for iv in spans])
    k = np.searchsorted(starts, t, side="right") - 1
    return (k >= 0) & (t < ends[np.maximum(k, 0)])

