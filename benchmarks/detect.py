"""Per-frame cost of detection (MotionDetector, PersonOccupancy, EventTracker) against the 0.5 ms budget.

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
from monitor.detect.occupancy import ZoneSpec
from monitor.detect.presence import PersonOccupancy

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


# The example cameras.yaml's seat and counter spot, plus a waiting area on the right of the picture.
ZONES = [
    ZoneSpec("staff-seat", "staff_seat", ((0.1, 0.2), (0.4, 0.2), (0.4, 0.6), (0.1, 0.6))),
    ZoneSpec("counter-front", "service_spot", ((0.1, 0.6), (0.45, 0.6), (0.5, 1.0), (0.05, 1.0)), (0.45, 0.3)),
    ZoneSpec("waiting", "waiting_area", ((0.55, 0.3), (0.95, 0.3), (0.95, 1.0), (0.55, 1.0))),
]


def time_detection(shape: tuple[int, int], n: int) -> tuple[float, float]:
    """Microseconds per frame of motion alone and of motion + zone presence (the person detector runs on its
    own schedule: at most PresenceParams.calls_per_s tiles a second, so its cost is amortised over frames)."""
    frames = render(shape, DISTINCT_FRAMES)
    rgb = [np.repeat(f[:, :, None], 3, axis=2) for f in frames]
    detector, occupancy = MotionDetector(shape), PersonOccupancy(ZONES, shape[1] / shape[0])
    for i, f in enumerate(frames[:20]):
        detector.update(f)
        occupancy.update(i / FPS, detector.changed, lambda i=i: rgb[i], f)
    t0 = time.perf_counter()
    for i in range(n):
        detector.update(frames[i % DISTINCT_FRAMES])
    t1 = time.perf_counter()
    for i in range(n):
        k = i % DISTINCT_FRAMES
        detector.update(frames[k])
        occupancy.update(10.0 + i / FPS, detector.changed, lambda k=k: rgb[k], frames[k])
    t2 = time.perf_counter()
    return (t1 - t0) / n * 1e6, (t2 - t1) / n * 1e6


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
    for shape in SIZES[:1]:
        motion_us, both_us = time_detection(shape, args.frames)
        occ_us = both_us - motion_us
        print(f"motion + person presence {shape[1]}x{shape[0]} ({len(ZONES)} zones, {FPS} fps): {both_us:7.1f} us/frame "
              f"(presence {occ_us:.1f}, the CNN's tiles amortised)  ratio to budget {both_us / BUDGET_US:.2f}")
    us = time_events(args.frames)
    print(f"EventTracker.update:            {us:7.2f} us/frame  ratio to budget {us / BUDGET_US:.3f}")


if __name__ == "__main__":
    main()
