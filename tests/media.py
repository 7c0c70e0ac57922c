"""Generate small test videos with known motion, encoded with PyAV: H.264 (libx264) or H.265 (libx265),
optionally with an audio track (AAC, or G.711 A-law/u-law in a QuickTime .mov: MP4 cannot hold G.711)."""

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
    codec: str = "libx264"  # or "libx265"
    audio: str | None = None  # "aac", "pcm_alaw", "pcm_mulaw": a 440 Hz tone, mono, as IP cameras send


AUDIO_RATES = {"aac": 16_000, "pcm_alaw": 8_000, "pcm_mulaw": 8_000}  # what cameras send for each codec


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


def _video_stream(out: av.container.OutputContainer, spec: VideoSpec) -> av.video.stream.VideoStream:
    stream = out.add_stream(spec.codec, rate=spec.fps)
    stream.width, stream.height = spec.width, spec.height
    stream.pix_fmt = "yuv420p"
    stream.bit_rate = spec.bitrate
    stream.codec_context.gop_size = spec.gop
    if spec.codec == "libx265":  # no B-frames and a fixed GOP, like a camera; quiet x265 banner
        stream.codec_context.options = {
            "preset": "ultrafast",
            "x265-params": f"keyint={spec.gop}:min-keyint={spec.gop}:scenecut=0:bframes=0:log-level=error",
        }
        if out.format.name.startswith("mp4") or out.format.name.startswith("mov"):
            stream.codec_tag = "hvc1"
    else:
        stream.codec_context.options = {
            "preset": "veryfast",
            "tune": "zerolatency",
            "keyint_min": str(spec.gop),
            "sc_threshold": "0",
            "bf": "0",
        }
    stream.time_base = Fraction(1, spec.fps)
    return stream


def _audio_frames(spec: VideoSpec) -> list[av.AudioFrame]:
    """spec.seconds of a 440 Hz tone in 20 ms frames (s16 mono at the codec's usual rate)."""
    rate = AUDIO_RATES[spec.audio or "aac"]
    n = int(rate * spec.seconds)
    tone = (np.sin(2 * np.pi * 440 * np.arange(n) / rate) * 8000).astype(np.int16)
    step = rate // 50
    frames = []
    for start in range(0, n - step + 1, step):
        frame = av.AudioFrame.from_ndarray(tone[start : start + step].reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
        frames.append(frame)
    return frames


def make_video(path: Path | str, spec: VideoSpec, seed: int = 7) -> Path:
    """Encode spec to path (.mp4, or .mov for G.711 audio); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    base = background(spec.width, spec.height, seed)
    with av.open(str(path), "w") as out:
        stream = _video_stream(out, spec)
        audio = None
        if spec.audio:
            audio = out.add_stream(spec.audio, rate=AUDIO_RATES[spec.audio], layout="mono")
        pending = _audio_frames(spec) if audio is not None else []
        for i in range(int(spec.seconds * spec.fps)):
            frame = av.VideoFrame.from_ndarray(render_frame(spec, base, i / spec.fps), format="bgr24")
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
            while audio is not None and pending and pending[0].pts / pending[0].sample_rate <= i / spec.fps:
                for packet in audio.encode(pending.pop(0)):  # interleaved with the video, as a camera sends
                    out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
        if audio is not None:
            for frame in pending:
                for packet in audio.encode(frame):
                    out.mux(packet)
            for packet in audio.encode(None):
                out.mux(packet)
    return path
