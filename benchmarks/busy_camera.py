"""What one busy 4-zone counter camera costs per minute, and where: decode, motion, person detector (CNN).

Usage: python benchmarks/busy_camera.py [--seconds 120] [--detect-fps 5] [--cache /tmp/onestop-bench]

The camera is the demo's: `quay-1` of `onestop simulate --seed 1` (a busy simulated office: staff seat,
service spot, waiting area with person_height, a motion zone on the door, the queue display masked),
rendered once into --cache (busy_office_files). Its 640x360 sub-stream is analysed in this process
the way a worker does it (monitor.camera.sources decoder settings, MotionDetector, PersonOccupancy at
detect_fps, every frame up to 5 fps), with the CPU time of this thread split by stage. Receiving the
main stream and writing samples are not in it (benchmarks/capacity.py --busy measures the whole
process). Figures are CPU seconds per minute of video.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import av
import yaml

from monitor.camera.sources import grey_small, tune_decoder
from monitor.detect.motion import MotionDetector, MotionParams, polygon_mask
from monitor.detect.occupancy import ZoneSpec
from monitor.detect.persons import PersonModel
from monitor.detect.presence import PersonOccupancy
from monitor.site.config import Zone

BUSY_CAMERA = "quay-1"
BUSY_SEED = 1


def busy_office_files(cache: Path, minutes: float = 2.0) -> tuple[Path, Path, dict]:
    """(main, sub, camera config) of the demo's first counter camera, rendered once into cache."""
    from monitor.simulate import SimConfig, simulate_office

    folder = cache / f"busy-office-seed{BUSY_SEED}-{minutes:g}min"
    config = folder / "cameras.yaml"
    if not config.is_file():
        t0 = time.perf_counter()
        simulate_office(folder, SimConfig(minutes=minutes, seed=BUSY_SEED, cameras=(BUSY_CAMERA,), workers=1))
        print(f"rendered {folder} in {time.perf_counter() - t0:.0f} s", flush=True)
    cam = next(c for c in yaml.safe_load(config.read_text(encoding="utf-8"))["cameras"] if c["id"] == BUSY_CAMERA)
    return folder / f"{BUSY_CAMERA}-main.mp4", folder / f"{BUSY_CAMERA}-sub.mp4", cam


class Clock:
    """CPU seconds of this thread, added up per stage."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        self._t = time.thread_time()

    def lap(self, stage: str) -> None:
        now = time.thread_time()
        self.spent[stage] = self.spent.get(stage, 0.0) + now - self._t
        self._t = now


def measure(sub: Path, cam: dict, seconds: float, detect_fps: float, width: int = 320) -> tuple[dict[str, float], float, int]:
    """CPU seconds per stage over `seconds` of the looping sub-stream, the video seconds and the CNN calls."""
    zones = [ZoneSpec.from_zone(Zone(**z)) for z in cam["zones"]]
    masks = [tuple(map(tuple, m)) for m in cam.get("masks", [])]
    model = PersonModel()
    clock, step, video_s = Clock(), 1.0 / detect_fps, 0.0
    detector = occupancy = None
    while video_s < seconds:
        with av.open(str(sub)) as container:
            stream = container.streams.video[0]
            tune_decoder(stream)
            offset, due, first = video_s, 0.0, None
            clock.lap("other")
            for frame in container.decode(stream):
                t_file = float(frame.pts * frame.time_base)
                first = t_file if first is None else first
                t = offset + t_file - first
                if t >= seconds:
                    break
                video_s = t
                if t + 1e-6 < due:
                    clock.lap("decode")
                    continue
                due = max(due + step, t + step / 2)
                clock.lap("decode")
                grey = grey_small(frame, width)
                if detector is None:
                    detector = MotionDetector(grey.shape, MotionParams(), polygon_mask(grey.shape, masks) if masks else None)
                    occupancy = PersonOccupancy(zones, frame.width / frame.height, model=model, masks=masks)
                detector.update(grey)
                clock.lap("grey + motion")
                occupancy.update(t, detector.changed, lambda f=frame: f.to_ndarray(format="rgb24"), grey)
                clock.lap("zones (CNN and bookkeeping)")
            video_s += step
    return clock.spent, video_s, model.calls


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=120.0, help="video seconds to analyse (the 2-minute file loops)")
    ap.add_argument("--detect-fps", type=float, default=5.0)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/onestop-bench"))
    args = ap.parse_args()
    _main, sub, cam = busy_office_files(args.cache)
    print(f"camera {BUSY_CAMERA} of the simulated office (seed {BUSY_SEED}): zones "
          + ", ".join(f"{z['id']} ({z['kind']}{', person_height' if z.get('person_height') else ''})" for z in cam["zones"]))
    spent, video_s, calls = measure(sub, cam, args.seconds, args.detect_fps)
    per_min = 60.0 / video_s
    total = sum(spent.values())
    print(f"{video_s:.0f} s of 640x360 sub-stream at detect_fps {args.detect_fps:g}; person detector calls: {calls} "
          f"({calls / video_s:.2f}/s, {spent.get('zones (CNN and bookkeeping)', 0) / max(calls, 1) * 1000:.1f} ms each incl. bookkeeping)")
    print(f"  {'stage':<30} {'CPU s / camera-minute':>22} {'share':>6}")
    for stage, s in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(f"  {stage:<30} {s * per_min:22.2f} {s / total:6.0%}")
    print(f"  {'total (this thread)':<30} {total * per_min:22.2f}   = {total * per_min / 60:.1%} of one core")


if __name__ == "__main__":
    main()
