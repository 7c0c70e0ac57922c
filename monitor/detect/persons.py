"""A small CNN person detector: SSD-MobileNetV2 (Open Images) run with onnxruntime on square crops.

The model (monitor/detect/models/ssd_mobilenetv2_oidv4.onnx, see PROVENANCE.md there) takes a
300x300 RGB image scaled to [-1, 1] and returns, for 1917 fixed anchor boxes, a box encoding
(dy, dx, dh, dw) and 24 class logits (index 4 = person). The anchors and the decoding are those
of MediaPipe's objectron graph that ships the model (SsdAnchorsCalculator with 6 layers, scales
0.2..0.95, aspect ratios 1, 2, 0.5, 3, 1/3; box scales 10, 10, 5, 5; sigmoid scores).

onnxruntime and OpenCV's DNN module give the same outputs on it (within 5e-5); onnxruntime takes
~14-15 ms a call on one core against ~22 ms (benchmarks/busy_camera.py measures it).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

__all__ = ["MODEL_PATH", "Detection", "PersonModel", "suppress"]

log = logging.getLogger(__name__)

MODEL_PATH = Path(__file__).with_name("models") / "ssd_mobilenetv2_oidv4.onnx"
INPUT_SIZE = 300
PERSON_CLASS = 4  # line 5 of the model's label map ("???" background, Bicycle, Boot, Laptop, Person, ...)
_STRIDES = (16, 32, 64, 128, 256, 512)
_MIN_SCALE, _MAX_SCALE = 0.2, 0.95
_RATIOS = (1.0, 2.0, 0.5, 3.0, 0.3333)
_BOX_SCALE = (10.0, 10.0, 5.0, 5.0)  # y, x, h, w
# A box more than this share of which lies inside a higher-scoring box is a part of that person
# (a torso found beside the whole body), as is one overlapping it by IoU over _IOU_MAX; unless its
# top sticks out above that box by more than _HEAD_OUT of its height: then it is a head of its own,
# someone behind (a clerk behind the citizen they serve).
_INSIDE_MAX = 0.6
_HEAD_OUT = 0.15
_IOU_MAX = 0.45
# Two boxes with the same head row and the same columns are one person: tops within this share of
# the shorter box's height, columns overlapping by this share of the narrower box's width.
_SAME_TOP = 0.2
_SAME_COLUMNS = 0.7


@dataclass(frozen=True)
class Detection:
    """A person box in normalised frame coordinates (x0, y0, x1, y1) with its score."""

    x0: float
    y0: float
    x1: float
    y1: float
    score: float

    @property
    def anchor(self) -> tuple[float, float]:
        """The bottom centre: where the feet (or the lowest visible part) are."""
        return (self.x0 + self.x1) / 2.0, self.y1


def _anchors() -> np.ndarray:
    """(1917, 4) anchors as (x centre, y centre, width, height), normalised to the input."""
    n = len(_STRIDES)

    def scale(i: int) -> float:
        return _MIN_SCALE + (_MAX_SCALE - _MIN_SCALE) * i / (n - 1)

    out = []
    for layer, stride in enumerate(_STRIDES):
        if layer == 0:  # the lowest layer has three boxes: a small square and two of the first scale
            spec = [(0.1, 1.0), (scale(0), 2.0), (scale(0), 0.5)]
        else:
            nxt = 1.0 if layer == n - 1 else scale(layer + 1)
            spec = [(scale(layer), r) for r in _RATIOS] + [(math.sqrt(scale(layer) * nxt), 1.0)]
        fm = math.ceil(INPUT_SIZE / stride)
        for y in range(fm):
            for x in range(fm):
                for s, r in spec:
                    out.append(((x + 0.5) / fm, (y + 0.5) / fm, s * math.sqrt(r), s / math.sqrt(r)))
    return np.array(out, np.float32)


def _mirror(anchors: np.ndarray) -> np.ndarray:
    """For each anchor, the index of its mirror image (same row, size and shape; x centre 1 - x)."""
    key = {(round(1.0 - float(x), 4), round(float(y), 4), round(float(w), 4), round(float(h), 4)): i
           for i, (x, y, w, h) in enumerate(anchors)}
    return np.array([key[(round(float(x), 4), round(float(y), 4), round(float(w), 4), round(float(h), 4))]
                     for x, y, w, h in anchors], np.int64)


class PersonModel:
    """Loads the ONNX model once; `detect` finds people in one RGB crop."""

    def __init__(self, path: Path = MODEL_PATH, threads: int = 1) -> None:
        if not path.is_file():
            raise ValueError(f"person model not found: {path} (reinstall, or run scripts/build-person-model.sh)")
        import onnxruntime as ort  # here, not at the top: workers of cameras without zones never load it (~31 MB)

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads  # one core per camera worker: the workers share the machine
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3  # errors only
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0].name
        self.anchors = _anchors()
        self.mirror = _mirror(self.anchors)
        self.calls = 0

    def detect(self, rgb: np.ndarray, min_score: float) -> list[Detection]:
        """People in an RGB uint8 image (any size: it is resized to 300x300), boxes normalised to it."""
        return suppress(self.boxes(rgb, min_score))

    def boxes(self, rgb: np.ndarray, min_score: float, mirrored: bool = False) -> list[Detection]:
        """Every box scoring at least min_score, before `suppress` keeps one per person.

        mirrored: the model also runs on the mirror image, and each anchor gets the mean of its own and
        its mirror anchor's outputs there (logit and box; the x offset turned round): one run's chance
        highs and lows (a bollard scoring as a person, someone half hidden scoring under) even out.
        """
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected an HxWx3 uint8 RGB image, got {rgb.shape} {rgb.dtype}")
        interp = cv2.INTER_AREA if rgb.shape[0] > INPUT_SIZE else cv2.INTER_LINEAR
        x = cv2.resize(rgb, (INPUT_SIZE, INPUT_SIZE), interpolation=interp)
        raw, logit = self._run(x)
        if mirrored:
            raw_m, logit_m = self._run(np.ascontiguousarray(x[:, ::-1]))
            raw_m, logit_m = raw_m[self.mirror], logit_m[self.mirror]
            raw_m[:, 1] = -raw_m[:, 1]  # the x offset turns round
            raw, logit = (raw + raw_m) / 2, (logit + logit_m) / 2
        return self.decode(raw, logit, min_score)

    def _run(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(box encodings, person logits) of every anchor for a 300x300 RGB image."""
        blob = cv2.dnn.blobFromImage(x, scalefactor=1 / 127.5, mean=(127.5, 127.5, 127.5))
        boxes, logits = self.session.run(None, {self.input: blob})
        self.calls += 1
        return boxes.reshape(-1, 4), logits.reshape(len(self.anchors), -1)[:, PERSON_CLASS]

    def decode(self, raw: np.ndarray, logit: np.ndarray, min_score: float) -> list[Detection]:
        """Boxes from the anchor offsets of the entries scoring at least min_score (not suppressed)."""
        score = 1.0 / (1.0 + np.exp(-logit))
        keep = np.flatnonzero(score >= min_score)
        if keep.size == 0:
            return []
        a, r = self.anchors[keep], raw[keep]
        yc = r[:, 0] / _BOX_SCALE[0] * a[:, 3] + a[:, 1]
        xc = r[:, 1] / _BOX_SCALE[1] * a[:, 2] + a[:, 0]
        h = np.exp(r[:, 2] / _BOX_SCALE[2]) * a[:, 3]
        w = np.exp(r[:, 3] / _BOX_SCALE[3]) * a[:, 2]
        boxes = np.stack([xc - w / 2, yc - h / 2, xc + w / 2, yc + h / 2], axis=1)
        return [Detection(*map(float, b), float(s)) for b, s in zip(boxes, score[keep], strict=True)]


def suppress(dets: list[Detection], groups: list[int] | None = None) -> list[Detection]:
    """One box per person: highest score first, parts and duplicates of a kept box dropped.

    Boxes with the same head row over the same columns are one person, and the shorter box wins:
    the longer one runs on over whatever is in front of them (a desk, or the citizen a clerk serves).
    groups (one number per box): boxes of one group were suppressed together already and are only
    checked against the other groups' (two tiles that found the same person).
    """
    kept: list[Detection] = []
    group = {id(d): g for d, g in zip(dets, groups, strict=True)} if groups is not None else {}
    for d in sorted(dets, key=lambda d: -d.score):
        area = max((d.x1 - d.x0) * (d.y1 - d.y0), 1e-9)
        drop = False
        for k in list(kept):
            if groups is not None and group[id(k)] == group[id(d)]:
                continue
            iw = min(d.x1, k.x1) - max(d.x0, k.x0)
            ih = min(d.y1, k.y1) - max(d.y0, k.y0)
            if iw <= 0 or ih <= 0:
                continue
            if _same_head(d, k, iw):
                if d.y1 - d.y0 < k.y1 - k.y0:
                    kept.remove(k)
                    continue
                drop = True
                break
            inter = iw * ih
            union = area + (k.x1 - k.x0) * (k.y1 - k.y0) - inter
            inside = inter / area > _INSIDE_MAX and k.y0 - d.y0 <= _HEAD_OUT * (d.y1 - d.y0)
            if inside or inter / union > _IOU_MAX:
                drop = True
                break
        if not drop:
            kept.append(d)
    return kept


def _same_head(a: Detection, b: Detection, overlap_w: float) -> bool:
    """True when two boxes start at the same head row over the same columns."""
    shorter = min(a.y1 - a.y0, b.y1 - b.y0)
    narrower = min(a.x1 - a.x0, b.x1 - b.x0)
    return abs(a.y0 - b.y0) <= _SAME_TOP * shorter and overlap_w >= _SAME_COLUMNS * narrower
