"""Turn per-frame motion verdicts into events: minimum length, gap merging, maximum length."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

__all__ = ["EventTracker", "EventUpdate"]


@dataclass(frozen=True)
class EventUpdate:
    """An event started or ended."""

    kind: Literal["start", "end"]
    start: float  # time of the first moving frame of the event (seconds, clock passed in)
    end: float | None  # time of the last moving frame (for "end"), None for "start"
    peak: float  # highest score seen so far in the event


class EventTracker:
    """Motion/no-motion per frame in, event start/end updates out; the clock is passed in.

    A candidate becomes an event once its motion spans min_length_s; still frames for merge_gap_s
    end it (a candidate is dropped silently); an event is cut at max_length_s and, if motion goes
    on, the next one starts at once. A clock going backwards flushes and starts afresh.
    """

    def __init__(self, min_length_s: float, merge_gap_s: float, max_length_s: float) -> None:
        if not (math.isfinite(min_length_s) and min_length_s >= 0):
            raise ValueError(f"min_length_s must be >= 0, got {min_length_s}")
        if not (math.isfinite(merge_gap_s) and merge_gap_s >= 0):
            raise ValueError(f"merge_gap_s must be >= 0, got {merge_gap_s}")
        if not (math.isfinite(max_length_s) and max_length_s > 0):
            raise ValueError(f"max_length_s must be > 0, got {max_length_s}")
        self.min_length_s = min_length_s
        self.merge_gap_s = merge_gap_s
        self.max_length_s = max_length_s
        self._open = False  # a candidate or an event is in progress
        self._start = 0.0  # first moving time of the candidate or event
        self._last_motion = 0.0
        self._peak = 0.0
        self._active = False  # the candidate has been announced with a "start"
        self._still_seen = False  # a still frame arrived since the last moving one
        self._last_now: float | None = None

    @property
    def active(self) -> bool:
        """True while an event has started and not yet ended."""
        return self._active

    def update(self, now: float, motion: bool, score: float) -> list[EventUpdate]:
        """Feed one detect frame; returns the events that started or ended because of it."""
        out: list[EventUpdate] = []
        if self._last_now is not None and now < self._last_now:
            out += self.flush(now)  # the clock jumped back: close what we have, start afresh
        self._last_now = now

        # A gap is still frames for merge_gap_s: moving frames back to back never split (so a
        # merge_gap_s of 0 means "end at the first still frame"), nor does a pause in the frames.
        gap = self._open and now - self._last_motion >= self.merge_gap_s
        if gap and (self._still_seen or not motion):
            out += self._close(self._last_motion)
        if self._active and now - self._start >= self.max_length_s:
            out += self._close(now)
            if motion:  # still moving: the next event starts at once, without the min_length wait
                self._begin(now, score)
                out.append(self._started())
                return out
        if not motion:
            self._still_seen = True
            return out

        if not self._open:
            self._begin(now, score)
        else:
            self._last_motion = now
            self._still_seen = False
            self._peak = max(self._peak, score)
        if not self._active and self._last_motion - self._start >= self.min_length_s:
            out.append(self._started())
        return out

    def flush(self, now: float) -> list[EventUpdate]:
        """End any open event at its last moving frame (source lost, shutdown); drop a candidate.

        `now` is the time of the flush; it does not move the end, which stays the last moving frame.
        """
        out = self._close(self._last_motion)
        self._last_now = None
        return out

    def _begin(self, now: float, score: float) -> None:
        self._open = True
        self._start = now
        self._last_motion = now
        self._still_seen = False
        self._peak = score

    def _started(self) -> EventUpdate:
        self._active = True
        return EventUpdate("start", self._start, None, self._peak)

    def _close(self, end: float) -> list[EventUpdate]:
        """End the open event at `end` (a candidate is dropped silently) and go idle."""
        out = []
        if self._active:
            out.append(EventUpdate("end", self._start, end, self._peak))
        self._open = False
        self._active = False
        self._peak = 0.0
        return out
