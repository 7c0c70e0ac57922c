"""The simulated office's output: H.264 encoding, cameras.yaml and truth.json, and simulate_office()."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import yaml

from monitor.simulate.model import OfficeModel, SimConfig
from monitor.simulate.render import CameraRenderer

log = logging.getLogger("monitor.simulate")  # the name the log lines carried before the split


@dataclass(frozen=True)
class EncodeSpec:
    """Frame rate, keyframe interval and x264 preset of an Encoder (SimConfig carries the same fields)."""

    fps: int
    gop_s: float = 2.0
    preset: str = "veryfast"


class Encoder:
    """One H.264 MP4 file: constant frame rate, fixed GOP, no B-frames, moov atom first."""

    def __init__(self, path: Path, size: tuple[int, int], cfg: SimConfig | EncodeSpec, bitrate: int) -> None:
        gop = max(1, round(cfg.gop_s * cfg.fps))
        self.container = av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"})
        self.stream = self.container.add_stream("libx264", rate=cfg.fps)
        self.stream.width, self.stream.height = size
        self.stream.pix_fmt = "yuv420p"
        self.stream.bit_rate = bitrate
        self.stream.time_base = Fraction(1, int(cfg.fps))
        self.stream.codec_context.gop_size = gop
        self.stream.codec_context.options = {
            "preset": cfg.preset, "bf": "0", "keyint_min": str(gop), "sc_threshold": "0", "tune": "zerolatency",
        }
        self.index = 0

    def write(self, bgr: np.ndarray) -> None:
        frame = av.VideoFrame.from_ndarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420), format="yuv420p")
        frame.pts = self.index
        self.index += 1
        for packet in self.stream.encode(frame):
            self.container.mux(packet)

    def close(self) -> None:
        for packet in self.stream.encode(None):
            self.container.mux(packet)
        self.container.close()


@dataclass(frozen=True)
class SimResult:
    """What simulate_office wrote."""

    out_dir: Path
    config_path: Path
    truth_path: Path
    videos: dict[str, dict[str, Path]]  # camera -> {"main": path, "sub": path}
    frames: int  # per video
    citizens: dict[str, int]  # camera -> citizens seen in the video
    served: dict[str, int]  # camera -> citizens whose service started in the video
    elapsed_s: float = field(default=0.0, compare=False)

    def __str__(self) -> str:
        return (f"{len(self.videos)} cameras x {self.frames} frames, {sum(self.citizens.values())} citizens "
                f"({sum(self.served.values())} served) in {self.out_dir} ({self.elapsed_s:.1f} s)")


class _ConfigDumper(yaml.SafeDumper):
    """Writes short lists of numbers (points, polygons' vertices) on one line: [0.38, 0.25]."""


def _flow_numbers(dumper: yaml.SafeDumper, data: list) -> yaml.Node:
    flow = all(isinstance(x, (int, float)) for x in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_ConfigDumper.add_representer(list, _flow_numbers)


def _yaml_config(office: OfficeModel) -> dict:
    cams = []
    for i, (cam, model) in enumerate(office.counters.items()):
        zones = [{"id": zid, **z} for zid, z in model.layout.zones().items()]
        cams.append({
            "id": cam, "name": f"Quầy {i + 1}",
            "streams": {"main": f"{cam}-main.mp4", "sub": f"{cam}-sub.mp4", "loop": True},
            "masks": [model.layout.display_mask()],
            "zones": zones,
        })
    return {
        "site": {"name": "Bộ phận một cửa (mô phỏng)", "timezone": "Asia/Ho_Chi_Minh", "language": "vi"},
        "storage": {"recordings": "recordings", "database": "onestop.db"},
        "defaults": {"detect_fps": 5, "detect_width": 320, "pre_roll_s": 5, "post_roll_s": 10, "max_clip_s": 300},
        "cameras": cams,
    }


def make_renderer(office: OfficeModel, camera: str, size: tuple[int, int] | None = None) -> CameraRenderer:
    """The renderer simulate_office uses for camera (its .background is the empty scene)."""
    cfg, index = office.cfg, office.cfg.cameras.index(camera)
    layout = office.counters[camera].layout
    return CameraRenderer(layout, size or cfg.main_size, (cfg.seed * 7919 + index) & 0xFFFFFFFF, cfg.noise_sigma, tint=index)


def _render_camera(cfg: SimConfig, index: int, out_dir: Path) -> tuple[str, int, float]:
    """Render and encode one camera; rebuilds the (deterministic) model so it can run in a child process."""
    started = time.perf_counter()
    office = OfficeModel(cfg)
    cam = cfg.cameras[index]
    model = office.counters[cam]
    renderer = make_renderer(office, cam)
    main = Encoder(out_dir / f"{cam}-main.mp4", cfg.main_size, cfg, cfg.main_bitrate)
    sub = Encoder(out_dir / f"{cam}-sub.mp4", cfg.sub_size, cfg, cfg.sub_bitrate)
    n = round(cfg.duration_s * cfg.fps)
    try:
        for i in range(n):
            t = i / cfg.fps
            img = renderer.render(model.states(t), model.ticket(t), office.lighting(t), t)
            main.write(img)
            sub.write(cv2.resize(img, cfg.sub_size, interpolation=cv2.INTER_AREA))
    finally:
        main.close()
        sub.close()
    return cam, n, time.perf_counter() - started


def render_cameras(render: Callable[[Any, Any, Path], tuple[str, int, float]], cfg: Any, cameras: list[Any],
                   out_dir: Path, workers: int) -> list[tuple[str, int, float]]:
    """render(cfg, camera, out_dir) for each camera, in `workers` spawned processes (1: here); logs each one's time."""
    if workers > 1:
        with ProcessPoolExecutor(min(workers, len(cameras)), mp_context=get_context("spawn")) as pool:
            done = list(pool.map(render, [cfg] * len(cameras), cameras, [out_dir] * len(cameras)))
    else:
        done = [render(cfg, cam, out_dir) for cam in cameras]
    for cam, frames, seconds in done:
        log.info("simulate: camera %s: %d frames in %.1f s", cam, frames, seconds)
    return done


def simulate_office(out_dir: Path, cfg: SimConfig) -> SimResult:
    """Render both cameras: out_dir/<camera>-main.mp4 and out_dir/<camera>-sub.mp4 (H.264, libx264, yuv420p, keyframe every gop_s, no B-frames, 'movflags=+faststart'), out_dir/cameras.yaml, out_dir/truth.json."""
    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    office = OfficeModel(cfg)
    done = render_cameras(_render_camera, cfg, list(range(len(cfg.cameras))), out_dir, cfg.workers)
    config_path, truth_path = out_dir / "cameras.yaml", out_dir / "truth.json"
    config_path.write_text(yaml.dump(_yaml_config(office), Dumper=_ConfigDumper, allow_unicode=True, sort_keys=False), encoding="utf-8")
    truth = office.truth()
    truth_path.write_text(json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8")
    cams = truth["cameras"]
    return SimResult(
        out_dir=out_dir, config_path=config_path, truth_path=truth_path,
        videos={c: {"main": out_dir / f"{c}-main.mp4", "sub": out_dir / f"{c}-sub.mp4"} for c in office.counters},
        frames=done[0][1],
        citizens={c: len(v["citizens"]) for c, v in cams.items()},
        served={c: sum(1 for x in v["citizens"] if x["service_start_s"] is not None and 0 <= x["service_start_s"] < cfg.duration_s) for c, v in cams.items()},
        elapsed_s=time.perf_counter() - started,
    )
