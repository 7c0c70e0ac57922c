"""A Frigate-style detect pipeline for comparison: ffmpeg decodes to raw frames through a pipe, NumPy reads them.

Usage: python benchmarks/frigate_style.py URL [--width 320] [--height 180] [--fps 10] [--threads 1]

One camera, like one Frigate camera process with its ffmpeg: `ffmpeg -i URL -vf fps=..,scale=WxH
-f rawvideo -pix_fmt yuv420p pipe:` (Frigate's detect output, here with `-threads 1` like the
decode floor), frames read with `readinto` into one preallocated buffer, and a running-average
motion detector on the Y plane (blur, absdiff, threshold, dilate, contours, accumulateWeighted),
at the same detect size and fps as onestop. Runs until SIGTERM; prints frames read on exit.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys

import cv2
import numpy as np

PIXEL_THRESHOLD = 25  # the same grey-level threshold as onestop's default motion.pixel_threshold
ALPHA = 0.05  # the same running-average rate as onestop's default motion.background_alpha
DILATE_KERNEL = np.ones((3, 3), np.uint8)


def ffmpeg_command(url: str, width: int, height: int, fps: float, threads: int) -> list[str]:
    """Frigate's detect ffmpeg: decode, drop to fps, scale, raw yuv420p to stdout."""
    return ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-threads", str(threads),
            "-rtsp_transport", "tcp", "-i", url, "-an", "-vf", f"fps={fps:g},scale={width}:{height}",
            "-threads", str(threads), "-f", "rawvideo", "-pix_fmt", "yuv420p", "pipe:"]


class RunningAverageMotion:
    """Frigate's classic motion detector, reduced to its per-frame array work."""

    def __init__(self, width: int, height: int):
        self.avg = np.zeros((height, width), np.float32)
        self.avg_u8 = np.zeros((height, width), np.uint8)
        self.blurred = np.empty((height, width), np.uint8)
        self.delta = np.empty((height, width), np.uint8)
        self.seeded = False

    def update(self, y: np.ndarray) -> int:
        """Area of the motion contours in this frame, in pixels."""
        cv2.GaussianBlur(y, (3, 3), 0, self.blurred)
        if not self.seeded:
            self.avg[...] = self.blurred
            self.seeded = True
        cv2.convertScaleAbs(self.avg, self.avg_u8)
        cv2.absdiff(self.blurred, self.avg_u8, self.delta)
        cv2.threshold(self.delta, PIXEL_THRESHOLD, 255, cv2.THRESH_BINARY, self.delta)
        cv2.dilate(self.delta, DILATE_KERNEL, self.delta, iterations=2)
        contours, _ = cv2.findContours(self.delta, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.accumulateWeighted(self.blurred, self.avg, ALPHA)
        return int(sum(cv2.contourArea(c) for c in contours))


def run(url: str, width: int, height: int, fps: float, threads: int) -> int:
    """Read and analyse frames until ffmpeg ends or SIGTERM; the number of frames analysed."""
    proc = subprocess.Popen(ffmpeg_command(url, width, height, fps, threads), stdout=subprocess.PIPE, bufsize=0)
    signal.signal(signal.SIGTERM, lambda *_: proc.terminate())
    frame = bytearray(width * height * 3 // 2)  # one yuv420p frame, reused
    view = memoryview(frame)
    y = np.frombuffer(frame, np.uint8, count=width * height).reshape(height, width)  # the Y plane, no copy
    detector = RunningAverageMotion(width, height)
    frames = 0
    assert proc.stdout is not None
    while True:
        got = 0
        while got < len(frame):
            n = proc.stdout.readinto(view[got:])
            if not n:
                proc.wait()
                return frames
            got += n
        detector.update(y)
        frames += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=180)
    parser.add_argument("--fps", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    frames = run(args.url, args.width, args.height, args.fps, args.threads)
    print(f"frames {frames}", file=sys.stderr)


if __name__ == "__main__":
    main()
