"""Pure NumPy/OpenCV motion detection over small grey frames, with global lighting compensation."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["MotionDetector", "MotionParams", "MotionResult", "polygon_mask"]

# About 4k sampled pixels fit the global lighting model to well under one grey level, whatever the
# frame size, for a fixed cost of a few tens of microseconds.
_LIGHTING_SAMPLES = 4096
# Gains outside this range are not a lighting change a camera makes between two frames at 5 fps.
_GAIN_LIMITS = (1 / 3, 3.0)
# Changed pixels still learn, but this much slower, so a person standing still fades into the
# background over minutes rather than seconds, and an object left behind is eventually absorbed.
_CHANGED_ALPHA_FACTOR = 0.1
# After a global lighting step, more than this fraction still changed is an uneven lighting change
# (re-seed) rather than people in view of an even one (keep them out of the background).
_RELIGHT_MAX_UNEXPLAINED = 0.15
# 3x3 opening drops isolated noise pixels and one-pixel edge flicker; any object worth reporting
# at detect size is much wider than 3 pixels.
_OPEN_KERNEL = np.ones((3, 3), np.uint8)


@dataclass(frozen=True)
class MotionParams:
    """Tuning of MotionDetector (from the config's defaults.motion)."""

    pixel_threshold: int = 25  # grey-level difference that counts a pixel as changed
    min_area: float = 0.003  # fraction of unmasked pixels that must change for motion
    lighting_guard: float = 0.45  # more than this fraction changed at once => lighting change, not motion
    background_alpha: float = 0.05  # running-average learning rate per detect frame
    blur: int = 3  # box blur kernel (odd) to suppress sensor noise; 0/1 = none


@dataclass(frozen=True)
class MotionResult:
    """The verdict on one frame."""

    score: float  # fraction of unmasked pixels that changed (after lighting compensation)
    motion: bool
    lighting: bool  # True when the frame was judged a global lighting change (no motion reported)


_QUIET = MotionResult(score=0.0, motion=False, lighting=False)


def _validate_params(params: MotionParams) -> None:
    if not 1 <= params.pixel_threshold <= 255:
        raise ValueError(f"pixel_threshold must be in 1..255, got {params.pixel_threshold}")
    if not 0 <= params.min_area < 1:
        raise ValueError(f"min_area must be in [0, 1), got {params.min_area}")
    if not params.min_area < params.lighting_guard <= 1:
        raise ValueError(f"lighting_guard must be in (min_area, 1], got {params.lighting_guard}")
    if not 0 < params.background_alpha <= 1:
        raise ValueError(f"background_alpha must be in (0, 1], got {params.background_alpha}")
    if params.blur < 0 or (params.blur > 1 and params.blur % 2 == 0):
        raise ValueError(f"blur must be 0, 1 or an odd kernel size, got {params.blur}")


def _validate_shape(shape: tuple[int, int]) -> tuple[int, int]:
    if len(shape) != 2 or any(int(n) != n or n < 4 for n in shape):
        raise ValueError(f"shape must be (height, width) with both >= 4, got {shape!r}")
    return int(shape[0]), int(shape[1])


class MotionDetector:
    """Running-average background subtraction with lighting compensation, for one camera."""

    def __init__(
        self,
        shape: tuple[int, int],
        params: MotionParams = MotionParams(),
        mask: np.ndarray | None = None,
    ) -> None:
        self.shape = _validate_shape(shape)
        _validate_params(params)
        self.params = params
        if mask is None:
            ignore = np.zeros(self.shape, bool)
        else:
            mask = np.asarray(mask)
            if mask.dtype != np.bool_:
                raise ValueError(f"mask must be a bool array (True = ignore), got dtype {mask.dtype}")
            if mask.shape != self.shape:
                raise ValueError(f"mask shape {mask.shape} does not match detect shape {self.shape}")
            ignore = mask
        n_valid = int(np.count_nonzero(~ignore))
        if n_valid == 0:
            raise ValueError("mask ignores every pixel: nothing left to watch")
        self._n_valid = n_valid
        # 255 where watched, None when everything is watched (saves a pass per frame)
        self._valid_u8 = np.where(ignore, 0, 255).astype(np.uint8) if ignore.any() else None
        self._lighting = _LightingModel(_sample_index(~ignore), params.pixel_threshold)

        h, w = self.shape
        self._blurred = np.empty((h, w), np.uint8)
        self._compensated = np.empty((h, w), np.uint8)
        self._background = np.empty((h, w), np.float32)
        self._background_u8 = np.empty((h, w), np.uint8)
        self._changed = np.zeros((h, w), np.uint8)
        self._unchanged = np.empty((h, w), np.uint8)
        self._seeded = False

    @property
    def changed(self) -> np.ndarray:
        """The last binary change map (uint8, 0 or 255; read-only view, overwritten by update)."""
        view = self._changed.view()
        view.flags.writeable = False
        return view

    def reset(self) -> None:
        """Forget the background: the next frame seeds it again (e.g. after a reconnect)."""
        self._seeded = False
        self._changed.fill(0)

    def update(self, grey: np.ndarray) -> MotionResult:
        """Compare one grey uint8 frame with the background, then learn it."""
        if grey.shape != self.shape or grey.dtype != np.uint8:
            raise ValueError(f"expected a {self.shape} uint8 frame, got {grey.shape} {grey.dtype}")
        p = self.params
        frame = self._smooth(grey)
        if not self._seeded:
            self._seed(frame)
            return _QUIET

        gain, offset = self._lighting.fit(frame, self._background_u8)
        compensated = frame
        if abs(gain - 1) > 1e-3 or abs(offset) >= 0.5:
            # frame mapped into the background's lighting: gain * frame + offset, saturated
            compensated = cv2.convertScaleAbs(frame, self._compensated, gain, offset)

        changed = self._changed
        cv2.absdiff(compensated, self._background_u8, changed)
        cv2.threshold(changed, p.pixel_threshold, 255, cv2.THRESH_BINARY, changed)
        if self._valid_u8 is not None:
            cv2.bitwise_and(changed, self._valid_u8, changed)
        cv2.morphologyEx(changed, cv2.MORPH_OPEN, _OPEN_KERNEL, changed)
        score = cv2.countNonZero(changed) / self._n_valid

        if score > p.lighting_guard or self._lighting.shift(gain, offset) >= p.pixel_threshold / 2:
            # A lighting change: no motion this frame, and adapt the background so the next
            # frames are quiet. A global step is undone by moving the background into the new
            # lighting (people in view stay out of it); an uneven one (a bank of lamps over half
            # the room, the IR cut filter) leaves too much unexplained, so start over from here.
            if score > min(_RELIGHT_MAX_UNEXPLAINED, p.lighting_guard):
                self._seed(frame)
            else:
                self._relight_background(gain, offset)
            return MotionResult(score=score, motion=False, lighting=True)
        self._learn(frame)
        return MotionResult(score=score, motion=score >= p.min_area and score > 0, lighting=False)

    def _smooth(self, grey: np.ndarray) -> np.ndarray:
        k = self.params.blur
        if k <= 1:
            return grey
        return cv2.blur(grey, (k, k), self._blurred)

    def _seed(self, frame: np.ndarray) -> None:
        self._background[...] = frame
        self._background_u8[...] = frame
        self._seeded = True

    def _learn(self, frame: np.ndarray) -> None:
        alpha = self.params.background_alpha
        cv2.bitwise_not(self._changed, self._unchanged)
        cv2.accumulateWeighted(frame, self._background, alpha, self._unchanged)
        cv2.accumulateWeighted(frame, self._background, alpha * _CHANGED_ALPHA_FACTOR, self._changed)
        cv2.convertScaleAbs(self._background, self._background_u8)

    def _relight_background(self, gain: float, offset: float) -> None:
        # frame ~ (background - offset) / gain under the new lighting
        bg = self._background
        np.subtract(bg, offset, out=bg)
        np.multiply(bg, 1 / gain, out=bg)
        np.clip(bg, 0, 255, out=bg)
        cv2.convertScaleAbs(bg, self._background_u8)


def _sample_index(valid: np.ndarray) -> np.ndarray:
    """Flat indices of about _LIGHTING_SAMPLES watched pixels on a regular grid."""
    flat = np.flatnonzero(valid.reshape(-1))
    step = max(1, flat.size // _LIGHTING_SAMPLES)
    # a step that does not divide the width spreads the samples over all columns
    while step > 1 and valid.shape[1] % step == 0:
        step += 1
    return np.ascontiguousarray(flat[::step]).astype(np.intp)


class _LightingModel:
    """Robust fit of background ~ gain * frame + offset over sampled pixels, in preallocated buffers.

    Moving pixels are outliers: start from the median offset (robust to anything covering less
    than half the scene), then weighted least squares on the samples that agree with the current
    model, twice with a tightening band.
    """

    def __init__(self, samples: np.ndarray, threshold: int) -> None:
        self.samples = samples
        self.threshold = threshold
        n = samples.size
        self.f_u8 = np.empty(n, np.uint8)
        self.b_u8 = np.empty(n, np.uint8)
        self.f = np.empty(n, np.float64)
        self.b = np.empty(n, np.float64)
        self.diff = np.empty(n, np.int16)
        self.res = np.empty(n, np.float64)
        self.weight = np.empty(n, np.float64)
        self.inlier = np.empty(n, bool)
        self.min_inliers = max(32, n // 4)

    def fit(self, frame: np.ndarray, background: np.ndarray) -> tuple[float, float]:
        """(gain, offset) that map frame's lighting onto background's."""
        np.take(frame.reshape(-1), self.samples, out=self.f_u8)
        np.take(background.reshape(-1), self.samples, out=self.b_u8)
        np.subtract(self.b_u8, self.f_u8, out=self.diff, dtype=np.int16)
        offset = _median_int(self.diff)
        gain = 1.0
        f, b = self.f, self.b
        f[...] = self.f_u8
        b[...] = self.b_u8
        for band in (2 * self.threshold, self.threshold):
            res, w = self.res, self.weight
            np.multiply(f, gain, out=res)
            np.subtract(res, b, out=res)
            res += offset
            np.abs(res, out=res)
            np.less(res, band, out=self.inlier)
            n = int(np.count_nonzero(self.inlier))
            if n < self.min_inliers:
                break
            w[...] = self.inlier
            sf, sb = float(np.dot(w, f)), float(np.dot(w, b))
            np.multiply(w, f, out=w)
            sff, sfb = float(np.dot(w, f)), float(np.dot(w, b))
            var = sff - sf * sf / n
            if var < n * 4.0:  # under 2 grey levels of spread: gain is not observable
                gain, offset = 1.0, (sb - sf) / n
                continue
            gain = min(max((sfb - sf * sb / n) / var, _GAIN_LIMITS[0]), _GAIN_LIMITS[1])
            offset = (sb - gain * sf) / n
        return gain, offset

    def shift(self, gain: float, offset: float) -> float:
        """Mean absolute grey-level change that (gain, offset) applies to the last sampled frame."""
        bound = abs(gain - 1.0) * 255.0 + abs(offset)  # the largest change on any grey level
        if bound < self.threshold / 2:  # the mean is below it too: same verdict without four array passes
            return bound
        res = self.res
        np.multiply(self.f, gain - 1.0, out=res)
        res += offset
        np.abs(res, out=res)
        return float(np.add.reduce(res)) / res.size


def _median_int(values: np.ndarray) -> int:
    """Median of int16 values in -255..255, by histogram (several times faster than np.median)."""
    counts = np.bincount(values + 255, minlength=511)
    return int(np.searchsorted(np.cumsum(counts), (values.size + 1) // 2)) - 255


def polygon_mask(shape: tuple[int, int], polygons: Iterable[Sequence[tuple[float, float]]]) -> np.ndarray:
    """Bool mask (True inside any polygon) from polygons in normalised 0..1 coordinates (x right, y down)."""
    h, w = _validate_shape(shape)
    # pixel centres in normalised coordinates: a square from 0.25 to 0.75 covers exactly half the width
    px = ((np.arange(w, dtype=np.float64) + 0.5) / w)[None, :]
    py = ((np.arange(h, dtype=np.float64) + 0.5) / h)[:, None]
    out = np.zeros((h, w), bool)
    for i, polygon in enumerate(polygons):
        pts = np.asarray(polygon, dtype=np.float64)
        if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) < 3:
            raise ValueError(f"polygon {i} needs at least 3 (x, y) points, got shape {pts.shape}")
        if not np.isfinite(pts).all():
            raise ValueError(f"polygon {i} has a non-finite coordinate")
        out |= _inside(pts, px, py)
    return out


def _inside(pts: np.ndarray, px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """Even-odd rule: a point is inside when a ray to its right crosses an odd number of edges."""
    inside = np.zeros((py.shape[0], px.shape[1]), bool)
    for (x1, y1), (x2, y2) in zip(pts, np.roll(pts, -1, axis=0)):
        if y1 == y2:
            continue  # horizontal edges are never crossed by a horizontal ray
        spans = (y1 > py) != (y2 > py)  # (h, 1): rows whose centre line crosses this edge
        x_cross = x1 + (py - y1) * (x2 - x1) / (y2 - y1)
        inside ^= spans & (px < x_cross)
    return inside

