"""What a detector box shows, compared across time; box overlap; the stretch of a flat picture (pure)."""

from __future__ import annotations

import math

import cv2
import numpy as np

from monitor.detect.persons import Detection

__all__ = ["HOLD_IOU", "covers", "flat_lut", "grey_box", "iou", "likeness", "look", "same_look"]

# A box's content is compared on a LOOK_SIZE x LOOK_SIZE grey thumbnail. The same seated person, after
# a light step, exposure flicker or a slight movement, correlates far above SAME_LOOK; the floor or a
# chair back where they sat, or someone else, correlates near zero. Flat thumbnails (too little
# texture to correlate) are compared by their mean instead, within FLAT_GREY grey levels.
LOOK_SIZE = 16
SAME_LOOK = 0.5
FLAT_GREY = 4.0


def look(rgb: np.ndarray, d: Detection) -> np.ndarray:
    """The box's content as a small grey thumbnail (float32); rgb may also be a grey picture (2-D)."""
    h, w = rgb.shape[:2]
    x0, x1 = max(0, int(d.x0 * w)), min(w, max(int(math.ceil(d.x1 * w)), int(d.x0 * w) + 1))
    y0, y1 = max(0, int(d.y0 * h)), min(h, max(int(math.ceil(d.y1 * h)), int(d.y0 * h) + 1))
    crop = np.ascontiguousarray(rgb[y0:y1, x0:x1])
    if crop.ndim == 3:
        crop = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    return cv2.resize(crop, (LOOK_SIZE, LOOK_SIZE), interpolation=cv2.INTER_AREA).astype(np.float32)


def likeness(a: np.ndarray, b: np.ndarray) -> float | None:
    """The normalised correlation of two thumbnails; None when either is flat (too little texture)."""
    sa, sb = float(a.std()), float(b.std())
    if sa < FLAT_GREY or sb < FLAT_GREY:
        return None
    return float(((a - a.mean()) * (b - b.mean())).mean()) / (sa * sb)


def same_look(a: np.ndarray, b: np.ndarray) -> bool:
    """True when two thumbnails of a box show the same thing (normalised correlation; means when flat)."""
    c = likeness(a, b)
    if c is None:
        flat_a, flat_b = float(a.std()) < FLAT_GREY, float(b.std()) < FLAT_GREY
        return flat_a and flat_b and abs(float(a.mean()) - float(b.mean())) <= 2 * FLAT_GREY
    return c >= SAME_LOOK


HOLD_IOU = 0.3  # a new sighting overlapping a held one by this much (IoU) is the same person

# A picture whose grey levels span less than FLAT_SPAN between its 1st and 99th percentiles is flat (a
# dim room, IR night mode; PETS's daylight ~250, the development offices 159-187). The waiting
# areas' crops of a flat picture are stretched to STRETCH_SPAN levels around mid-grey before the
# detector: in a dim, grey copy of the development offices (span 89-108) it missed seated citizens
# (count MAE 0.40 and 1.05; stretched 0.25 and 0.92). The seats' crops are not stretched: their staff
# and citizens, confirmed over seconds, did worse (a service spot's session lost on dim office-2c).
FLAT_SPAN = 128.0
STRETCH_SPAN = 200.0


def flat_lut(rgb: np.ndarray) -> np.ndarray | None:
    """A 256-entry lookup table stretching a flat picture's levels to STRETCH_SPAN; None when it is not flat."""
    lo, hi = np.percentile(rgb[::8, ::8], (1, 99))
    span = float(hi - lo)
    if not 1.0 <= span < FLAT_SPAN:
        return None
    levels = (np.arange(256, dtype=np.float32) - (lo + hi) / 2.0) * (STRETCH_SPAN / span) + 127.5
    return np.clip(levels, 0, 255).astype(np.uint8)


def iou(a: Detection, b: Detection) -> float:
    """Intersection over union of two boxes."""
    iw = min(a.x1, b.x1) - max(a.x0, b.x0)
    ih = min(a.y1, b.y1) - max(a.y0, b.y0)
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    return inter / ((a.x1 - a.x0) * (a.y1 - a.y0) + (b.x1 - b.x0) * (b.y1 - b.y0) - inter)


def covers(a: Detection, b: Detection) -> float:
    """The share of box b that box a covers (0..1)."""
    iw = min(a.x1, b.x1) - max(a.x0, b.x0)
    ih = min(a.y1, b.y1) - max(a.y0, b.y0)
    return max(iw, 0.0) * max(ih, 0.0) / max((b.x1 - b.x0) * (b.y1 - b.y0), 1e-12)


def grey_box(d: Detection, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """A box in the pixels of the grey frame (x0, y0, x1, y1), outward-rounded and clipped to it."""
    gh, gw = shape[:2]
    return (max(0, int(d.x0 * gw)), max(0, int(d.y0 * gh)),
            min(gw, int(math.ceil(d.x1 * gw))), min(gh, int(math.ceil(d.y1 * gh))))
