"""The simulated office: real H.264 files, a parseable cameras.yaml and a self-consistent ground truth."""

from __future__ import annotations

import json
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
import yaml

from monitor.simulate import OfficeModel, SimConfig, SimResult, make_renderer, point_in_polygon, simulate_office

SMALL = SimConfig(minutes=0.5, seed=28,  # seed 28: a service, an absence, a call and a light switch in 30 s
                   main_size=(640, 360), sub_size=(320, 180))
FRAMES = 300  # 30 s at 10 fps


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> SimResult:
    return simulate_office(tmp_path_factory.mktemp("sim"), SMALL)


@pytest.fixture(scope="module")
def truth(sim: SimResult) -> dict:
    return json.loads(sim.truth_path.read_text(encoding="utf-8"))


def test_writes_videos_config_and_truth(sim: SimResult) -> None:
    names = sorted(p.name for p in sim.out_dir.iterdir())
    assert names == ["cameras.yaml", "quay-1-main.mp4", "quay-1-sub.mp4", "quay-2-main.mp4", "quay-2-sub.mp4", "truth.json"]
    assert sim.frames == FRAMES
    assert set(sim.videos) == {"quay-1", "quay-2"}


@pytest.mark.parametrize(("camera", "role", "size"), [
    ("quay-1", "main", (640, 360)), ("quay-1", "sub", (320, 180)),
    ("quay-2", "main", (640, 360)), ("quay-2", "sub", (320, 180)),
])
def test_video_is_h264_with_expected_frames(sim: SimResult, camera: str, role: str, size: tuple[int, int]) -> None:
    path = sim.videos[camera][role]
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.codec_context.width, stream.codec_context.height) == size
        assert stream.codec_context.pix_fmt == "yuv420p"
        packets = [p for p in container.demux(stream) if p.size]
    assert len(packets) == FRAMES
    keyframes = [i for i, p in enumerate(packets) if p.is_keyframe]
    assert keyframes == list(range(0, FRAMES, 20))  # gop_s 2.0 at 10 fps
    assert all(p.pts == p.dts for p in packets)  # no B-frames: decode order is display order
    head = path.read_bytes()[:65536]
    assert 0 <= head.find(b"moov") < max(head.find(b"mdat"), 0) or b"mdat" not in head  # faststart


def test_truth_is_deterministic_for_a_seed(truth: dict) -> None:
    assert json.loads(json.dumps(OfficeModel(SMALL).truth())) == truth
    other = OfficeModel(SimConfig(minutes=0.5, seed=29)).truth()
    assert other["cameras"] != truth["cameras"]


def test_truth_is_self_consistent(truth: dict) -> None:
    assert truth["fps"] == 10 and truth["duration_s"] == 30
    for camera, cam in truth["cameras"].items():
        seconds = cam["per_second"]
        assert [s["t"] for s in seconds] == list(range(30)), camera
        served = [c for c in cam["citizens"] if c["service_start_s"] is not None]
        for c in served:
            assert c["arrival_s"] < c["service_start_s"] < c["service_end_s"], c
        for s in seconds:
            t, zones = s["t"], s["zones"]
            in_service = any(c["service_start_s"] <= t < c["service_end_s"] for c in served)
            absent = any(a["start_s"] <= t < a["end_s"] for a in cam["absences"])
            assert zones["service-spot"] == (1 if in_service else 0), (camera, t)
            assert zones["staff-seat"] == (0 if absent else 1), (camera, t)
            assert 0 <= zones["waiting"] <= 5


def test_story_has_the_expected_cast() -> None:
    """Over a longer (model-only) run, people are served, wait, and the officer leaves at least once."""
    truth = OfficeModel(SimConfig(minutes=20, seed=3)).truth()
    for camera, cam in truth["cameras"].items():
        assert sum(c["service_start_s"] is not None for c in cam["citizens"]) >= 4, camera
        assert cam["absences"], camera
        waits = [c["service_start_s"] - c["arrival_s"] for c in cam["citizens"] if c["service_start_s"] is not None]
        assert min(waits) > 20, camera
        for a in cam["absences"]:
            assert 60 <= a["end_s"] - a["start_s"] <= 180


def test_cameras_yaml_has_the_zones(sim: SimResult) -> None:
    doc = yaml.safe_load(sim.config_path.read_text(encoding="utf-8"))
    assert doc["site"]["timezone"] == "Asia/Ho_Chi_Minh"
    assert [c["id"] for c in doc["cameras"]] == ["quay-1", "quay-2"]
    for cam in doc["cameras"]:
        assert (sim.config_path.parent / cam["streams"]["main"]).is_file()
        assert (sim.config_path.parent / cam["streams"]["sub"]).is_file()
        kinds = {z["id"]: z["kind"] for z in cam["zones"]}
        assert kinds == {"staff-seat": "staff_seat", "service-spot": "service_spot", "waiting": "waiting_area", "door": "motion"}
        for poly in [z["points"] for z in cam["zones"]] + cam["masks"]:
            assert len(poly) >= 3 and all(0 <= v <= 1 for pt in poly for v in pt)
        near, far = next(z for z in cam["zones"] if z["id"] == "waiting")["person_height"]
        assert near > far


def test_cameras_yaml_loads_with_load_config(sim: SimResult) -> None:
    config = pytest.importorskip("monitor.site.config")
    loaded = config.load_config(sim.config_path)
    assert [c.id for c in loaded.cameras] == ["quay-1", "quay-2"]
    assert Path(loaded.cameras[0].stream_url("main")).is_file()


def _frame_at(path: Path, index: int) -> np.ndarray:
    with av.open(str(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i == index:
                return frame.to_ndarray(format="bgr24")
    raise AssertionError(f"{path} has no frame {index}")


def _zone_mask(points: list[list[float]], size: tuple[int, int]) -> np.ndarray:
    mask = np.zeros((size[1], size[0]), np.uint8)
    cv2.fillPoly(mask, [np.rint(np.array(points) * size).astype(np.int32)], 1)
    return mask.astype(bool)


def test_seated_citizen_stands_out_of_the_empty_scene(sim: SimResult, truth: dict) -> None:
    office = OfficeModel(SMALL)
    camera = "quay-1"
    t = next(s["t"] for s in truth["cameras"][camera]["per_second"] if s["zones"]["service-spot"] == 1)
    frame = _frame_at(sim.videos[camera]["main"], t * SMALL.fps).astype(np.float32)
    light = office.lighting(float(t))
    empty = np.clip(make_renderer(office, camera).background.astype(np.float32) + light, 0, 255)
    diff = np.abs(frame - empty).mean(axis=2)
    lay = office.counters[camera].layout
    (x, y), h = lay.citizen_seat, lay.height(lay.citizen_seat[1])
    body = [[x - lay.width(0.15, y), y - 0.6 * h], [x + lay.width(0.15, y), y - 0.6 * h],
            [x + lay.width(0.15, y), y - 0.25 * h], [x - lay.width(0.15, y), y - 0.25 * h]]
    assert point_in_polygon((x, y), lay.zones()["service-spot"]["points"])  # the zone is the chair's floor
    inside = diff[_zone_mask(body, SMALL.main_size)].mean()  # the seated body above it
    wall = diff[_zone_mask([[0.26, 0.04], [0.34, 0.04], [0.34, 0.18], [0.26, 0.18]], SMALL.main_size)].mean()
    assert wall < 4, wall  # sensor noise plus coding error
    assert inside > max(8, 5 * wall), (inside, wall)
