"""Disk cost of continuous recording: bytes per camera-day of real segments at 2 and 4 Mbit/s.

Usage: python benchmarks/segment_disk.py [--seconds 240] [--rates 2 4] [--clip-seconds 90] [--keep DIR]

For each rate, ffmpeg encodes a 1920x1080 25 fps H.264 main stream (testsrc2 with sensor-like noise,
so the encoder spends its whole budget as a busy camera scene does; keyframe every 2 s; -b:v/-maxrate
at the rate) and a 320x180 sub stream. The GStreamer RTSP test server (tests/rtsp_server.py --loop)
serves them, and one real CameraWorker per rate, `recording: always` with the default segment_s (60),
records them by stream copy for --seconds, all rates at once. The figure is the bytes of the complete
segments over their summed duration, extrapolated to an 8 h opening day and to 24 h.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from support import RtspServer  # noqa: E402

from monitor.camera.worker import CameraWorker, run_camera  # noqa: E402
from monitor.messages import Message, SegmentReady  # noqa: E402
from monitor.site.config import load_config  # noqa: E402

GIB = 1024**3  # max_recordings_gb and min_free_gb count in these
OPENING_DAY_H = 8


def encode(path: Path, seconds: float, size: str, kbps: int) -> Path:
    """A camera-like H.264 file: constant scene with noise and a moving test pattern, GOP 2 s, no B-frames."""
    if not path.exists():
        subprocess.run(
            ["nice", "-n", "10", "ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
             f"testsrc2=size={size}:rate=25,noise=alls=12:allf=t", "-t", str(seconds),
             "-c:v", "libx264", "-preset", "veryfast", "-bf", "0", "-g", "50", "-keyint_min", "50",
             "-sc_threshold", "0", "-b:v", f"{kbps}k", "-maxrate", f"{kbps}k", "-bufsize", f"{kbps}k",
             "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(path)], check=True)
    return path


def record(folder: Path, server: RtspServer, rates: list[int], seconds: float) -> dict[int, list[SegmentReady]]:
    """Run one always-recording worker per rate for `seconds`; the segments each reported."""
    cams = "".join(f"""
          - id: r{r}
            name: "{r} Mbit/s"
            recording: always
            streams: {{main: "{server.url(f'/main{r}')}", sub: "{server.url('/sub')}"}}""" for r in rates)
    (folder / "cameras.yaml").write_text(textwrap.dedent("""\
        site: {name: disk}
        storage: {recordings: recordings}
        cameras:""") + cams + "\n", encoding="utf-8")
    config = load_config(folder / "cameras.yaml")
    sent: list[Message] = []
    stop = threading.Event()
    threads = [threading.Thread(target=run_camera, args=(CameraWorker(config, cam, sent.append), stop), daemon=True)
               for cam in config.cameras]
    for th in threads:
        th.start()
    time.sleep(seconds)
    stop.set()
    for th in threads:
        th.join(30)
    return {r: [m for m in sent if isinstance(m, SegmentReady) and m.camera == f"r{r}"] for r in rates}


def stream_rate(path: Path) -> float:
    """The source file's video bit rate in bits/s (ffprobe)."""
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=bit_rate",
                          "-of", "csv=p=0", str(path)], capture_output=True, text=True, check=True).stdout
    return float(out.strip())


def report(rate: int, segments: list[SegmentReady], recordings: Path, source: Path) -> str:
    whole = segments[:-1]  # the last one was cut short by the stop
    seconds = sum(s.duration for s in whole)
    nbytes = sum(s.bytes for s in whole)
    assert all((recordings / s.path).stat().st_size == s.bytes for s in whole)
    per_s = nbytes / seconds
    durations = ", ".join(f"{s.duration:.2f}" for s in whole)
    return (f"| {rate} Mbit/s | {stream_rate(source) / 1e6:.3f} Mbit/s | {len(whole)} ({durations}) "
            f"| {per_s * 8 / 1e6:.3f} Mbit/s "
            f"| {per_s * 60 / 1e6:.1f} MB | {per_s * 3600 / 1e9:.2f} GB | {per_s * OPENING_DAY_H * 3600 / GIB:.1f} GiB "
            f"| {per_s * 86400 / GIB:.1f} GiB |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=240.0, help="how long to record (default 240)")
    parser.add_argument("--rates", type=int, nargs="+", default=[2, 4], help="main-stream rates in Mbit/s")
    parser.add_argument("--clip-seconds", type=float, default=90.0, help="length of the looped source files")
    parser.add_argument("--keep", type=Path, help="encode into / keep files in this folder")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="segment-disk-"))
    folder.mkdir(parents=True, exist_ok=True)
    mounts = {f"/main{r}": encode(folder / f"main{r}.mp4", args.clip_seconds, "1920x1080", r * 1000)
              for r in args.rates}
    mounts["/sub"] = encode(folder / "sub.mp4", args.clip_seconds, "320x180", 200)
    server = RtspServer(mounts, loop=True).start()
    try:
        found = record(folder, server, args.rates, args.seconds)
    finally:
        server.stop()
    print(f"recorded {args.seconds:.0f} s per camera, 1920x1080 25 fps H.264, GOP 2 s, stream copy")
    print("| main stream | source video | complete segments (s) | segments on disk | per minute | per hour "
          "| 8 h opening day | 24 h |")
    print("|---|---|---|---|---|---|---|---|")
    for rate in args.rates:
        print(report(rate, found[rate], folder / "recordings", mounts[f"/main{rate}"]))
    if args.keep is None:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
