"""A noisy picture's running mean, for the seated people in it (pure: arrays in, arrays out).

Sensor noise (a dim room, IR night mode, a cheap camera at a low bit rate) costs the person detector
most on seated people, who are small and half hidden: in the noisy copies of the development offices
a citizen seated for 100 s scored under 0.25 in every analysis. Seated people keep their place, so
the mean of the last frames shows them as they are, with the noise averaged out.

The noise level of a frame is the mean absolute deviation of its grey difference from the previous
frame, over the pixels the change map left still (moving people are not noise), less the median
difference (a light step or exposure change moves every pixel alike). It is smoothed over about
100 frames. Measured on the 320-pixel-wide detection frames: the development offices, their crowded
composites and my simulator's daylight halls stay at 0.68 and under; the noisy copies (temporal noise
sigma 12 at CRF 30) at 0.88-1.43, the simulator's IR night-mode hall at 1.44-1.67, and the PETS 2009
walkway camera (a real, grainy outdoor camera) between 0.78 and 1.19.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

__all__ = ["NoisyMean"]

SMOOTHING = 0.01  # weight of each frame's noise level in the smoothed one (about 100 frames)


class NoisyMean:
    """The exponential running mean of the RGB frames while the smoothed noise level is at least `level`."""

    def __init__(self, level: float, alpha: float) -> None:
        if not level > 0 or not 0 < alpha <= 1:
            raise ValueError(f"need level > 0 and 0 < alpha <= 1, got level={level}, alpha={alpha}")
        self.level, self.alpha = float(level), float(alpha)
        self.noise: float | None = None  # the smoothed noise level (None before two frames)
        self._mean: np.ndarray | None = None  # float32 RGB, while noisy
        self._prev: np.ndarray | None = None  # the last frame's grey picture

    def add(self, grey: np.ndarray, motion: np.ndarray, frame: Callable[[], np.ndarray]) -> None:
        """One frame: its grey picture, the change map (same shape), and its RGB on demand."""
        prev, self._prev = self._prev, grey
        if prev is not None and prev.shape == grey.shape == motion.shape:
            # every other row and column: the statistic is the same, for a quarter of the work
            diff = (grey[::2, ::2].astype(np.int16) - prev[::2, ::2].astype(np.int16))[motion[::2, ::2] == 0]
            if diff.size:
                d = float(np.abs(diff - np.median(diff)).mean())
                self.noise = d if self.noise is None else (1 - SMOOTHING) * self.noise + SMOOTHING * d
        if self.noise is None or self.noise < self.level:
            self._mean = None
            return
        rgb = frame().astype(np.float32)
        if self._mean is None or self._mean.shape != rgb.shape:
            self._mean = rgb
        else:
            cv2.accumulateWeighted(rgb, self._mean, self.alpha)

    def crop(self, x0: int, y0: int, x1: int, y1: int) -> np.ndarray | None:
        """The mean's pixels [y0:y1, x0:x1] as uint8 RGB while the picture is noisy, else None."""
        if self._mean is None:
            return None
        return np.ascontiguousarray(np.clip(self._mean[y0:y1, x0:x1] + 0.5, 0, 255).astype(np.uint8))
