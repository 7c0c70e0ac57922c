"""Per-frame cost of MotionDetector.update (and EventTracker.update) against the 0.5 ms budget.

Usage: python benchmarks/detect.py [--frames N]

Frames are synthetic: a textured still scene with sensor noise, a 30x30 block (scaled with the
frame) crossing it, and a brightness step every 200 frames, so every branch of update runs.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from monitor.detect.events import EventTracker
from monitor.detect.motion import MotionDetector

BUDGET_US = 500.0  # 64 cameras x 5 fps on 2 cores leaves ~6 ms per frame for everything; detection gets 0.5
CAMERAS, FPS = 64, 5
SIZES = [(180, 320), (360, 640)]
DISTINCT_FRAMES = 200  # pre-rendered and replayed, so rendering is not timed


def render(shape: tuple[int, int], n: int, seed: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    h, w = shape
    base = np.full(shape, 90.0, np.float32)
    for _ in range(16):
        y0, x0 = rng.integers(0, h - h // 6), rng.integers(0, w - w // 8)
        bh, bw = rng.integers(h // 18, h // 3), rng.integers(w // 32, w // 4)
        base[y0 : y0 + bh, x0 : x0 + bw] = rng.integers(40, 200)
    base += rng.normal(0, 6, shape).astype(np.float32)
    size = 30 * h // 180
    frames = []
    for i in range(n):
        img = base.copy()
        x = (i * 8) % (w - size)
        if (i // 50) % 2:  # motion half of the time
            img[h // 3 : h // 3 + size, x : x + size] = 240
        if i % 200 >= 100:  # lighting step
            img += 40
        img += rng.normal(0, 3, shape).astype(np.float32)
        frames.append(np.clip(img, 0, 255).astype(np.uint8))
    return frames


def time_motion(shape: tuple[int, int], n: int) -> tuple[float, int, int]:
    """Microseconds per update, frames with motion, frames with lighting."""
    frames = render(shape, DISTINCT_FRAMES)
    detector = MotionDetector(shape)
    for f in frames[:20]:  # warm-up: first-frame seed, caches
        detector.update(f)
    motion = lighting = 0
    t0 = time.perf_counter()
    for i in range(n):
        r = detector.update(frames[i % DISTINCT_FRAMES])
        motion += r.motion
        lighting += r.lighting
    return (time.perf_counter() - t0) / n * 1e6, motion, lighting


def time_events(n: int) -> float:
    tracker = EventTracker(min_length_s=1.0, merge_gap_s=2.0, max_length_s=60.0)
    t0 = time.perf_counter()
    for i in range(n):
        tracker.update(i * 0.2, (i // 50) % 2 == 1, 0.01)
    return (time.perf_counter() - t0) / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=5000, help="updates timed per size")
    args = parser.parse_args()
    print(f"budget {BUDGET_US:.0f} us/frame; {args.frames} frames per size")
    for shape in SIZES:
        us, motion, lighting = time_motion(shape, args.frames)
        load = us * 1e-6 * CAMERAS * FPS
        print(
            f"MotionDetector.update {shape[1]}x{shape[0]}: {us:7.1f} us/frame  "
            f"ratio to budget {us / BUDGET_US:.2f}  "
            f"({CAMERAS} cameras x {FPS} fps = {load:.2f} of one core; "
            f"motion on {motion / args.frames:.0%}, lighting on {lighting} frames)"
        )
    us = time_events(args.frames)
    print(f"EventTracker.update:            {us:7.2f} us/frame  ratio to budget {us / BUDGET_US:.3f}")


if __name__ == "__main__":
    main()
