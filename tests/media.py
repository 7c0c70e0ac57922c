"""Generate small H.264 MP4 test videos with known motion, encoded with PyAV (libx264)."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np


@dataclass(frozen=True)
class MotionWindow:
    """A bright block that moves across the frame between start_s and end_s."""

    start_s: float
    end_s: float


@dataclass(frozen=True)
class VideoSpec:
    seconds: float
    width: int = 640
    height: int = 360
    fps: int = 25
    gop: int = 25  # keyframe every second: pre-roll tests can predict clip starts
    motion: tuple[MotionWindow, ...] = field(default_factory=tuple)
    brightness_steps: tuple[tuple[float, int], ...] = ()  # (time_s, delta): a global lighting change
    bitrate: int = 600_000


def background(width: int, height: int, seed: int = 7) -> np.ndarray:
    """A textured still scene (BGR) so the encoder and the detector see something realistic."""
    rng = np.random.default_rng(seed)
    img = np.full((height, width, 3), 90, np.uint8)
    for _ in range(12):
        x0, y0 = rng.integers(0, width - 20), rng.integers(0, height - 20)
        w, h = rng.integers(20, width // 4), rng.integers(20, height // 4)
        img[y0 : y0 + h, x0 : x0 + w] = rng.integers(40, 200, 3)
    return img


def render_frame(spec: VideoSpec, base: np.ndarray, t: float) -> np.ndarray:
    """The frame at time t: the still scene, plus any moving block and lighting steps."""
    img = base.copy()
    for w in spec.motion:
        if w.start_s <= t < w.end_s:
            frac = (t - w.start_s) / max(w.end_s - w.start_s, 1e-6)
            bw, bh = spec.width // 6, spec.height // 3
            x = int(frac * (spec.width - bw))
            y = spec.height // 3
            img[y : y + bh, x : x + bw] = (230, 230, 230)
    delta = sum(d for ts, d in spec.brightness_steps if t >= ts)
    if delta:
        img = np.clip(img.astype(np.int16) + delta, 0, 255).astype(np.uint8)
    return img


def make_video(path: Path | str, spec: VideoSpec, seed: int = 7) -> Path:
    """Encode spec to an H.264 MP4 at path; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    base = background(spec.width, spec.height, seed)
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=spec.fps)
        stream.width, stream.height = spec.width, spec.height
        stream.pix_fmt = "yuv420p"
        stream.bit_rate = spec.bitrate
        stream.codec_context.gop_size = spec.gop
        stream.codec_context.options = {
            "preset": "veryfast",
            "tune": "zerolatency",
            "keyint_min": str(spec.gop),
            "sc_threshold": "0",
            "bf": "0",
        }
        stream.time_base = Fraction(1, spec.fps)
        for i in range(int(spec.seconds * spec.fps)):
            frame = av.VideoFrame.from_ndarray(render_frame(spec, base, i / spec.fps), format="bgr24")
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path
