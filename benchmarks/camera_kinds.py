"""Decode CPU per camera-minute for the kinds of camera offices install, as ratios measured in one run.

Usage: python benchmarks/camera_kinds.py [--seconds 10] [--noise 4] [--fresh] [--rendition]

Detection decodes every frame of its stream (P-frames need their predecessors), so what a camera costs
is mostly its decode. Measured with PyAV in this process (time.process_time, all threads):

1. sub-stream camera: 640x360 H.264 (the main stream is only demuxed and copied, not decoded);
2. the same with an H.265 sub-stream;
3. single-stream cameras, 1920x1080 at 25 fps, H.264 and H.265, with each decoder setting tried:
   the project's (1 thread, no deblocking: camera.sources.tune_decoder), skip_frame noref (drops frames no
   other frame refers to: none in a camera's IPPP stream, so it saves nothing there), flags2 fast,
   2 frame threads (same CPU spread over two cores, more latency), and skip_frame nokey (keyframes
   only: one frame per GOP, too few for motion; shown for scale).

--rendition also times the on-demand H.264 rendition of an H.265 clip (monitor/camera/rendition.py).
Files are 25 fps, keyframe every 2 s, motion from 1 s, grey sensor noise (--noise) so the encoders
reach camera-like bit rates; cached in /tmp/onestop-bench.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from pathlib import Path

import av

from benchlib import machine_info, with_noise

import media  # noqa: E402 (benchlib put tests/ on the path)
from media import MotionWindow, VideoSpec, make_video  # noqa: E402
from monitor.camera.sources import tune_decoder  # noqa: E402

CACHE = Path("/tmp/onestop-bench")
FPS, GOP = 25, 50
SUB, FULL = (640, 360), (1920, 1080)
BITRATE = {SUB: 512_000, FULL: 4_000_000}


@dataclass(frozen=True)
class Setting:
    name: str
    options: dict[str, str] = field(default_factory=dict)
    threads: tuple[int, str] = (1, "SLICE")
    project: bool = True  # starts from camera.sources.tune_decoder (1 thread, skip_loop_filter all)


SETTINGS = (
    Setting("project (1 thread, no deblocking)"),
    Setting("+ skip_frame noref", {"skip_frame": "noref"}),
    Setting("+ flags2 fast", {"flags2": "+fast"}),
    Setting("+ 2 frame threads", threads=(2, "FRAME")),
    Setting("plain FFmpeg defaults (auto threads, deblocking)", project=False, threads=(0, "FRAME")),
    Setting("+ skip_frame nokey (keyframes only)", {"skip_frame": "nokey"}),
)


def video(size: tuple[int, int], codec: str, seconds: float, noise: float, fresh: bool) -> Path:
    """The cached test file for this size and codec."""
    path = CACHE / f"kinds-{size[0]}x{size[1]}-{codec}-{seconds:g}s-noise{noise:g}.mp4"
    if fresh or not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        spec = VideoSpec(seconds, *size, fps=FPS, gop=GOP, motion=(MotionWindow(1, seconds - 1),),
                         bitrate=BITRATE[size], codec=codec)
        plain, media.render_frame = media.render_frame, with_noise(noise)
        t0 = time.perf_counter()
        try:
            make_video(path, spec)
        finally:
            media.render_frame = plain
        print(f"encoded {path.name} in {time.perf_counter() - t0:.1f} s")
    return path


def decode_cpu(path: Path, setting: Setting) -> tuple[float, int, float]:
    """(CPU seconds per camera-minute, frames decoded, video seconds) decoding the whole file."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if setting.project:
            tune_decoder(stream)
        ctx = stream.codec_context
        ctx.thread_count, ctx.thread_type = setting.threads
        ctx.options = {**ctx.options, **setting.options}
        seconds = float(stream.duration * stream.time_base) if stream.duration else float(container.duration / 1e6)
        frames = 0
        t0 = time.process_time()
        for packet in container.demux(stream):
            frames += len(stream.codec_context.decode(packet))
        cpu = time.process_time() - t0
    return cpu / seconds * 60, frames, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--noise", type=float, default=4.0)
    parser.add_argument("--fresh", action="store_true", help="encode the files again")
    parser.add_argument("--rendition", action="store_true", help="also time the H.264 rendition of H.265")
    args = parser.parse_args()
    print(machine_info())
    files = {(size, codec): video(size, codec, args.seconds, args.noise, args.fresh)
             for size, codec in [(SUB, "libx264"), (SUB, "libx265"), (FULL, "libx264"), (FULL, "libx265")]}
    base, _, secs = decode_cpu(files[(SUB, "libx264")], SETTINGS[0])
    print(f"\nCPU seconds per camera-minute (decode for detection), ratio to a 640x360 H.264 sub-stream camera "
          f"({secs:.0f} s files, {FPS} fps):")
    print(f"  {'sub-stream 640x360 H.264':58s} {base:6.2f} s  1.0x")
    sub265, _, _ = decode_cpu(files[(SUB, "libx265")], SETTINGS[0])
    print(f"  {'sub-stream 640x360 H.265':58s} {sub265:6.2f} s  {sub265 / base:.1f}x")
    for codec, label in (("libx264", "H.264"), ("libx265", "H.265")):
        for setting in SETTINGS:
            cpu, frames, _ = decode_cpu(files[(FULL, codec)], setting)
            name = f"single-stream 1080p {label}: {setting.name}"
            print(f"  {name:58s} {cpu:6.2f} s  {cpu / base:.1f}x  ({frames} frames)")
    if args.rendition:
        from monitor.rendition import transcode

        out = CACHE / "rendition.mp4"
        cost = transcode(files[(FULL, "libx265")], out)
        per_min = 60 / secs
        print(f"\nH.264 rendition of a 1080p H.265 clip (ffmpeg libx264 veryfast, 1280 wide, 2 threads): "
              f"{cost.wall_s * per_min:.0f} s wait and {cost.cpu_s * per_min:.0f} s CPU per minute of clip")


if __name__ == "__main__":
    main()
