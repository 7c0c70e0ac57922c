"""Privacy masks: polygons of a camera's picture blurred beyond recognition in exports and in the viewers' live view.

`PrivacyMask` validates once and caches the pixel mask per frame size; `apply` blurs inside the
polygons and leaves every pixel outside them byte for byte as it was. `mask_clip` re-encodes a clip
with the mask applied (PyAV, H.264); `mask_jpeg` does the same for one live snapshot.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from fractions import Fraction
import os
import tempfile
from pathlib import Path
from typing import IO

import av
import cv2
import numpy as np

log = logging.getLogger(__name__)

MIN_BLOCK = 16  # the picture inside a mask is averaged over blocks of at least 16 px ...
BLOCKS_ACROSS = 48  # ... and of 1/48 of the width (40 px at 1920): a face at counter distance is a few blocks
JPEG_QUALITY = 85  # the live snapshot's quality (the worker writes its own at about this)
EXPORT_CRF = 20  # x264 quality of a re-encoded export: visually close to the camera's own stream
EXPORT_PRESET = "veryfast"  # 2 cores shared with the cameras: speed over a few percent of size


class PrivacyMask:
    """Normalised polygons (0..1) turned into a boolean pixel mask per frame size."""

    def __init__(self, polygons: Sequence[Sequence[tuple[float, float]]]):
        for i, poly in enumerate(polygons):
            if len(poly) < 3 or any(not (0 <= x <= 1 and 0 <= y <= 1) for x, y in poly):
                raise ValueError(f"privacy_masks[{i}]: a polygon needs >= 3 [x, y] points between 0 and 1")
        self.polygons = [list(p) for p in polygons]
        self._cache: dict[tuple[int, int], np.ndarray] = {}

    def __bool__(self) -> bool:
        return bool(self.polygons)

    def pixels(self, width: int, height: int) -> np.ndarray:
        """The (height, width) boolean mask: True inside any polygon."""
        key = (width, height)
        if key not in self._cache:
            img = np.zeros((height, width), np.uint8)
            for poly in self.polygons:
                pts = np.array([[round(x * (width - 1)), round(y * (height - 1))] for x, y in poly], np.int32)
                cv2.fillPoly(img, [pts], 1)
            self._cache[key] = img.astype(bool)
        return self._cache[key]

    def apply(self, frame: np.ndarray) -> np.ndarray:
        """A copy of the (H, W, 3) or (H, W) picture with the masked pixels blurred; pixels outside are unchanged."""
        if not self.polygons:
            return frame
        h, w = frame.shape[:2]
        inside = self.pixels(w, h)
        block = max(MIN_BLOCK, w // BLOCKS_ACROSS)
        small = cv2.resize(frame, (max(1, w // block), max(1, h // block)), interpolation=cv2.INTER_AREA)
        kernel = block | 1  # then smoothed over a block, so no block edge outlines what was there
        blurred = cv2.GaussianBlur(cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR), (kernel, kernel), 0)
        out = frame.copy()
        out[inside] = blurred[inside]
        return out


def apply_yuv420(packed: np.ndarray, mask: PrivacyMask) -> np.ndarray:
    """The mask applied plane by plane to a yuv420p picture as PyAV packs it ((H*3/2, W): Y, then U, then V).

    Working in YUV leaves the pixels outside the mask exactly as decoded: a round trip through BGR would
    shift every colour by a few levels.
    """
    h, w = packed.shape[0] * 2 // 3, packed.shape[1]
    y = mask.apply(packed[:h])
    u = mask.apply(packed[h:h + h // 4].reshape(h // 2, w // 2))
    v = mask.apply(packed[h + h // 4:].reshape(h // 2, w // 2))
    return np.concatenate([y, u.reshape(h // 4, w), v.reshape(h // 4, w)])


def mask_jpeg(data: bytes, mask: PrivacyMask) -> bytes | None:
    """The JPEG with the mask applied, or None when it cannot be decoded."""
    frame = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if frame is None:
        return None
    ok, buf = cv2.imencode(".jpg", mask.apply(frame), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    return buf.tobytes() if ok else None


def mask_clip(src: Path, dst: Path, mask: PrivacyMask) -> int:
    """Re-encode src's video into dst (H.264 MP4) with the mask applied to every frame; returns frames written.

    Audio is not carried over: a masked export shows who is where, and the manifest says the sound was left out.
    """
    with av.open(str(src)) as inp, av.open(str(dst), "w", format="mp4") as out:
        vin = inp.streams.video[0]
        rate = vin.average_rate or Fraction(25)
        vout = out.add_stream("libx264", rate=rate)
        vout.width, vout.height = vin.codec_context.width, vin.codec_context.height
        vout.pix_fmt = "yuv420p"
        vout.options = {"crf": str(EXPORT_CRF), "preset": EXPORT_PRESET}
        n = 0
        for frame in inp.decode(vin):
            new = av.VideoFrame.from_ndarray(apply_yuv420(frame.to_ndarray(format="yuv420p"), mask), format="yuv420p")
            new.pts, new.time_base = n, 1 / rate  # frame by frame at the stream's rate: the clip keeps its length
            for packet in vout.encode(new):
                out.mux(packet)
            n += 1
        for packet in vout.encode():
            out.mux(packet)
    log.info("masked %s -> %s (%d frames)", src.name, dst.name, n)
    return n


def masked_copy(src: Path, mask: PrivacyMask) -> IO[bytes]:
    """An open, already unlinked temporary file holding src re-encoded with the mask (closing it frees the space)."""
    fd, name = tempfile.mkstemp(prefix="masked-", suffix=".mp4")
    os.close(fd)
    try:
        mask_clip(src, Path(name), mask)
        return open(name, "rb")  # noqa: SIM115 - handed to the caller, who closes it
    finally:
        os.unlink(name)
