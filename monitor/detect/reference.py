"""The hall as it usually looks: a slow per-pixel median of the grey picture (pure: the clock is passed in).

A seated citizen who scores low (half hidden by the row in front, turned away) looks to the detector
much like an empty chair, which scores as low. What tells them apart is that the chair was there an
hour ago and the citizen arrived minutes ago: a box that differs from the hall's median picture of
the last minutes holds something that came in. The median of frames sampled every `every_s` over
`keep` samples shows what stayed for more than half of that window (chairs, bollards, plants, a
crowd seated since before it began); people passing and people seated for less than half of it are
left out.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from monitor.detect.persons import Detection

__all__ = ["HallMedian", "Vacated"]


class HallMedian:
    """Samples of the grey picture, one per every_s seconds, the last `keep` of them; their median."""

    def __init__(self, every_s: float = 10.0, keep: int = 60, min_samples: int = 6) -> None:
        if not every_s > 0 or keep < 1 or not 1 <= min_samples <= keep:
            raise ValueError(f"need every_s > 0 and 1 <= min_samples <= keep, got every_s={every_s}, "
                             f"keep={keep}, min_samples={min_samples}")
        self.every_s, self.keep, self.min_samples = float(every_s), int(keep), int(min_samples)
        self._samples: deque[np.ndarray] = deque(maxlen=self.keep)
        self._last = -math.inf
        self._median: np.ndarray | None = None

    def add(self, now: float, grey: np.ndarray) -> None:
        """Take the grey picture when every_s has passed since the last sample (a new size starts over)."""
        if now - self._last < self.every_s:
            return
        if self._samples and self._samples[0].shape != grey.shape:
            self._samples.clear()
        self._samples.append(grey.copy())
        self._last = now
        self._median = None

    def picture(self) -> np.ndarray | None:
        """The median of the samples (uint8), or None before min_samples have been taken."""
        if len(self._samples) < self.min_samples:
            return None
        if self._median is None:
            self._median = np.median(np.stack(self._samples), axis=0).astype(np.uint8)
        return self._median


class Vacated:
    """Where counted seated people left, for hold_s seconds: the median still shows them there, so their
    empty chair differs from it without anyone having come in. Each place keeps how its person looked when
    last counted (when known): a box there that still looks so is that person, not the empty chair."""

    def __init__(self, hold_s: float) -> None:
        self.hold_s = float(hold_s)
        self._left: list[tuple[Detection, float, np.ndarray | None]] = []

    def note(self, box: Detection, now: float, seen_as: np.ndarray | None = None) -> None:
        """Someone counted in this box has gone (seen_as: how they looked when last counted)."""
        self._left = [*self._recent(now), (box, now, seen_as)]

    def places(self, now: float) -> list[Detection]:
        """The boxes left less than hold_s ago."""
        self._left = self._recent(now)
        return [b for b, _, _ in self._left]

    def looks(self, now: float) -> list[tuple[Detection, np.ndarray]]:
        """The boxes left less than hold_s ago whose person's look is known, with that look."""
        self._left = self._recent(now)
        return [(b, seen) for b, _, seen in self._left if seen is not None]

    def _recent(self, now: float) -> list[tuple[Detection, float, np.ndarray | None]]:
        return [(b, t, seen) for b, t, seen in self._left if now - t < self.hold_s]
