"""The worker's detection side driven frame by frame with a fake clock: messages, zones, snapshots."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from monitor.site.config import Config, load_config
from monitor.camera.sources import SourceFrame
from monitor.camera import worker as worker_module
from monitor.camera.worker import CameraWorker, StreamHealth, camera_state
from monitor.detect.occupancy import Revision, ZoneState
from monitor.layout import live_snapshot_path
from monitor.messages import (ClipFailed, ClipReady, EventEnded, EventStarted, Message, OccupancyCorrection,
                              OccupancySample, Thumbnail)

T0 = 1_790_000_000.0


def _frame(block_x: int | None) -> av.VideoFrame:
    rng = np.random.default_rng(3)
    img = np.full((360, 640, 3), 90, np.uint8)
    img[40:120, 400:600] = (150, 60, 60)
    img = np.clip(img.astype(np.int16) + rng.integers(-2, 3, img.shape), 0, 255).astype(np.uint8)
    if block_x is not None:
        img[150:270, block_x:block_x + 80] = 235
    return av.VideoFrame.from_ndarray(img, format="bgr24")


def _one_camera(tmp_path: Path, defaults: str, zones: list[str]) -> Config:
    """The config of one camera `cam` reading main.mp4, with these defaults and zones (YAML flow mappings)."""
    lines = ["site: {name: t}", f"defaults: {defaults}", "cameras:", "  - id: cam", "    name: Cam",
             "    streams: {main: main.mp4}", "    zones:"] + [f"      - {z}" for z in zones]
    (tmp_path / "cameras.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_config(tmp_path / "cameras.yaml")


def test_motion_in_a_zone_makes_an_event_with_zone_and_occupancy_samples(tmp_path):
    config = _one_camera(tmp_path, "{detect_fps: 5, events: {min_length_s: 1, merge_gap_s: 2}}", [
        "{id: left, kind: motion, points: [[0, 0.3], [0.5, 0.3], [0.5, 0.9], [0, 0.9]]}",
        "{id: right, kind: staff_seat, points: [[0.8, 0.3], [1, 0.3], [1, 0.9], [0.8, 0.9]]}"])
    sent: list[Message] = []
    now = [T0]
    worker = CameraWorker(config, config.cameras[0], sent.append, clock=lambda: now[0])
    still, moving = _frame(None), [_frame(40 + 12 * i) for i in range(15)]
    timeline = [still] * 10 + moving + [still] * 25  # 2 s still, 3 s of motion on the left, 5 s still
    for i, frame in enumerate(timeline):
        now[0] = T0 + i * 0.2
        worker.on_frame(SourceFrame(frame, now[0]))
    worker.finish()

    kinds = {type(m) for m in sent}
    start = next(m for m in sent if isinstance(m, EventStarted))
    end = next(m for m in sent if isinstance(m, EventEnded))
    assert start.id == end.id and start.id.startswith("cam-")
    assert abs(start.start - (T0 + 2.0)) <= 0.21
    assert end.zones == ("left",)
    assert Thumbnail in kinds
    assert ClipReady not in kinds and any(isinstance(m, ClipFailed) for m in sent)  # no main-stream packets: no clip
    samples = [m for m in sent if isinstance(m, OccupancySample)]
    assert len(samples) >= 8 and all(set(m.zones) == {"left", "right"} for m in samples)
    assert [m.t for m in samples] == sorted({m.t for m in samples})
    assert not any(m.zones["right"].occupied for m in samples)
    assert live_snapshot_path(config.storage.recordings, "cam").read_bytes()[:2] == b"\xff\xd8"


class _FoundLate:
    """Stands in for PersonOccupancy: nobody in the waiting area until 40 s, when someone is found who sat down at 5 s."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        self.t0: float | None = None

    def update(self, t: float, changed: object, frame: object, grey: object = None) -> dict[str, ZoneState]:
        self.t0 = t if self.t0 is None else self.t0
        here = t - self.t0 >= 40.0
        back = (Revision(self.t0 + 5.0, t),) if abs(t - self.t0 - 40.0) < 0.1 else ()
        return {"wait": ZoneState(here, float(here), float(here), None, back)}

    def height_check(self) -> tuple[int, float | None]:
        return 0, None  # no staff seat


def test_a_worker_sends_again_the_seconds_a_late_finding_corrects(tmp_path, monkeypatch: pytest.MonkeyPatch):
    """Seconds already sent when a seated person is found late go out again, corrected (OccupancyCorrection)."""
    monkeypatch.setattr(worker_module, "PersonOccupancy", _FoundLate)
    config = _one_camera(tmp_path, "{detect_fps: 5}", ["{id: wait, kind: waiting_area, points: [[0, 0.5], [1, 0.5], [1, 1], [0, 1]]}"])
    sent: list[Message] = []
    now = [T0]
    worker = CameraWorker(config, config.cameras[0], sent.append, clock=lambda: now[0])
    frame = _frame(None)
    for i in range(60 * 5):
        now[0] = T0 + i * 0.2
        worker.on_frame(SourceFrame(frame, now[0]))
    worker.finish()
    first = int(T0)
    stored: dict[int, float] = {}
    for m in sent:
        if isinstance(m, OccupancySample):  # a correction replaces what was sent before it
            stored[m.t] = m.zones["wait"].count
    fixed = sorted(m.t for m in sent if isinstance(m, OccupancyCorrection))
    assert fixed == list(range(first + 5, first + 24))  # sent by 40 s: up to 24 s (15 s held)
    assert [stored[first + s] for s in range(60)] == [0.0] * 5 + [1.0] * 55


class _TallOfficers:
    """Stands in for PersonOccupancy: its height check says people are FACTOR times person_height (1.0 once corrected)."""

    FACTOR = 1.47
    made: list[list] = []  # the zones each one was made with

    def __init__(self, zones: list, *args: object, **kwargs: object) -> None:
        self.made.append(list(zones))
        self.factor = self.FACTOR if len(self.made) == 1 else 1.0

    def update(self, t: float, changed: object, frame: object, grey: object = None) -> dict[str, ZoneState]:
        return {z.id: ZoneState(False, 0.0, 0.0, None, ()) for z in self.made[0]}

    def height_check(self) -> tuple[int, float | None]:
        return 40, self.factor


def test_a_worker_whose_officers_say_the_markers_are_off_analyses_with_them_corrected(tmp_path, monkeypatch):
    """Once the height check says people are 1.47 times person_height, the worker makes its person detector again
    with every person_height times 1.47 (once), and its heartbeat figures keep the factor found."""
    _TallOfficers.made = []
    monkeypatch.setattr(worker_module, "PersonOccupancy", _TallOfficers)
    config = _one_camera(tmp_path, "{detect_fps: 5}", [
        "{id: seat, kind: staff_seat, points: [[0.4, 0.3], [0.46, 0.3], [0.46, 0.33], [0.4, 0.33]]}",
        "{id: wait, kind: waiting_area, points: [[0, 0.5], [1, 0.5], [1, 1], [0, 1]], person_height: [0.3, 0.2]}"])
    now = [T0]
    worker = CameraWorker(config, config.cameras[0], lambda m: None, clock=lambda: now[0])
    frame = _frame(None)
    for i in range(150 * 5):
        now[0] = T0 + i * 0.2
        worker.on_frame(SourceFrame(frame, now[0]))
    worker.finish()
    assert len(_TallOfficers.made) == 2  # made again once, not again when the corrected one says 1.0
    heights = [{z.id: z.person_height for z in zones} for zones in _TallOfficers.made]
    assert heights[0] == {"seat": None, "wait": (0.3, 0.2)} and heights[1] == {"seat": None, "wait": (0.441, 0.294)}
    assert worker.height_factor == 1.47 and worker.height_corrected


def test_camera_state_from_streams():
    online = StreamHealth(state="online", last_online=100.0)
    down = StreamHealth(state="reconnecting", last_online=95.0)
    assert camera_state([online, online], 100.0, 0.0) == "online"
    assert camera_state([online, down], 100.0, 0.0) == "reconnecting"
    assert camera_state([online, down], 120.0, 0.0) == "offline"
    assert camera_state([StreamHealth()], 5.0, 0.0) == "connecting"
    assert camera_state([StreamHealth()], 30.0, 0.0) == "offline"


def test_live_snapshots_every_second_only_while_watched(tmp_path):
    from monitor.layout import live_watch_path, mark_watched

    (tmp_path / "cameras.yaml").write_text("site: {name: t}\ncameras:\n  - {id: cam, name: C, streams: {main: m.mp4}}\n",
                                           encoding="utf-8")
    config = load_config(tmp_path / "cameras.yaml")
    worker = CameraWorker(config, config.cameras[0], lambda m: None)
    snap = live_snapshot_path(config.storage.recordings, "cam")
    frame = _frame(None)

    def run(seconds: float, start: float) -> int:
        writes, last = 0, None
        for i in range(int(seconds * 5)):
            worker.on_frame(SourceFrame(frame, start + i * 0.2))
            version = snap.stat().st_mtime_ns if snap.exists() else None
            writes += version != last and version is not None
            last = version
        return writes

    assert run(10, T0) == 1  # nobody watching: only the first picture
    mark_watched(config.storage.recordings, "cam")
    assert live_watch_path(config.storage.recordings, "cam").exists()
    assert run(5, T0 + 10) >= 4  # watched: about one a second
