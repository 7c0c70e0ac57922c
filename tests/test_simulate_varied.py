"""The varied simulator: scene parameters from the seed, camera geometry, a self-consistent truth in the development scenes' format."""

from __future__ import annotations

import json
import math
from pathlib import Path

import av
import numpy as np
import pytest

from monitor.site.config import load_config
from monitor.simulate.camera3d import Pinhole, clip_to_unit
from monitor.simulate.hall import draw_spec
from monitor.simulate.varied import VariedConfig, VariedResult, build_story, simulate_hall, truth_document

SMALL = VariedConfig(minutes=0.2, seed=8, size=(320, 180))  # 12 s, 4 counters, IR, a restart with everyone seated


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> VariedResult:
    return simulate_hall(tmp_path_factory.mktemp("hall"), SMALL)


@pytest.fixture(scope="module")
def truth(scene: VariedResult) -> dict:
    return json.loads((scene.out_dir / "truth.json").read_text(encoding="utf-8"))


def test_seeds_vary_what_the_issue_lists() -> None:
    specs = [draw_spec(s) for s in range(1, 41)]
    assert {s.counters for s in specs} == {1, 2, 3, 4}
    assert {s.camera.size for s in specs} == {(1280, 720), (640, 360)}
    assert {s.start for s in specs} == {"open", "midmorning", "restart"}
    for flag in ("ir", "glass", "monitors"):
        assert {getattr(s, flag) for s in specs} == {True, False}, flag
    assert any(s.standing_queue > 0 for s in specs) and any(s.standing_queue == 0 for s in specs)
    heights, pitches = [s.camera.height_m for s in specs], [s.camera.pitch_deg for s in specs]
    assert max(heights) - min(heights) > 1.0 and max(pitches) - min(pitches) > 10
    assert len({len(s.rows) for s in specs}) >= 3  # near and far seats: from one row of chairs to many


def test_person_height_formula_matches_the_projection() -> None:
    cam = Pinhole(3.8, 36.0, 56.0, (640, 360))
    for y in (3.0, 6.0, 10.0):
        feet, head = cam.normalised(np.array([[0.0, y, 0.0], [0.0, y, 1.7]]))
        assert cam.standing_height(float(feet[1])) == pytest.approx(feet[1] - head[1], abs=1e-6)


def test_clip_keeps_inside_and_cuts_outside() -> None:
    assert clip_to_unit([(0.2, 0.2), (0.8, 0.2), (0.8, 0.8)]) == [[0.2, 0.2], [0.8, 0.2], [0.8, 0.8]]
    cut = clip_to_unit([(-0.5, 0.5), (0.5, 0.5), (0.5, 1.5), (-0.5, 1.5)])
    assert sorted(map(tuple, cut)) == [(0.0, 0.5), (0.0, 1.0), (0.5, 0.5), (0.5, 1.0)]


def test_writes_h264_truth_and_both_zone_files(scene: VariedResult) -> None:
    names = sorted(p.name for p in scene.out_dir.iterdir())
    assert names == ["cameras-floor.yaml", "cameras.yaml", "scene.mp4", "truth.json"]
    with av.open(str(scene.out_dir / "scene.mp4")) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.codec_context.width, stream.codec_context.height) == (320, 180)
        assert sum(1 for p in container.demux(stream) if p.size) == 120
    for fname in ("cameras.yaml", "cameras-floor.yaml"):
        cam = load_config(scene.out_dir / fname).camera("hall")
        assert [z.kind for z in cam.zones].count("waiting_area") == 1
        assert cam.zones[-1].person_height is not None


def test_truth_has_what_score_py_reads(truth: dict) -> None:
    assert truth["duration_s"] == 12 and len(truth["per_second"]) == 12
    kinds = [z["kind"] for z in truth["zones"]]
    assert kinds.count("staff_seat") == kinds.count("service_spot") == truth["counters"] == 4
    for z in truth["zones"]:
        assert len(z["points"]) >= 3 and len(z["floor_points"]) >= 3
        assert all(0 <= v <= 1 for p in z["points"] + z["floor_points"] for v in p)
    for key in ("height_m", "pitch_deg", "vfov_deg"):
        assert truth["camera"][key] > 0
    for c in truth["citizens"]:
        assert set(c) >= {"arrival_s", "service_start_s", "service_end_s", "counter", "wait_s"}
        if c["service_start_s"] is not None:
            assert c["wait_s"] == pytest.approx(c["service_start_s"] - c["arrival_s"], abs=0.02)
    for a in truth["staff_absences"]:
        assert set(a) == {"counter", "start_s", "end_s"}


def test_restart_opens_with_everyone_seated(truth: dict) -> None:
    assert truth["scene"]["start"] == "restart"
    first = truth["per_second"][0]["counts"]
    seats = [z["id"] for z in truth["zones"] if z["kind"] in ("staff_seat", "service_spot")]
    assert all(first[z] == 1 for z in seats)
    assert first["waiting"] >= 5 and truth["per_second"][0]["queue"] >= first["waiting"]


def test_service_spot_counts_follow_the_citizens_services() -> None:
    cfg = VariedConfig(minutes=4, seed=2)
    hall, story = build_story(cfg)
    truth = truth_document(hall, story, cfg)
    checked = 0
    for c in truth["citizens"]:
        start, end = c["service_start_s"], c["service_end_s"]
        if start is None or end is None:
            continue
        for t in range(max(0, math.ceil(start) + 1), min(int(end) - 1, len(truth["per_second"]))):
            assert truth["per_second"][t]["counts"][f"counter{c['counter']}_citizen"] == 1, (c, t)
            checked += 1
    assert checked > 100


def test_same_seed_same_truth() -> None:
    cfg = VariedConfig(minutes=1, seed=5)
    one, two = truth_document(*build_story(cfg), cfg), truth_document(*build_story(cfg), cfg)
    assert json.dumps(one) == json.dumps(two)
    other = VariedConfig(minutes=1, seed=6)
    assert truth_document(*build_story(other), other)["zones"] != one["zones"]


def test_cli_writes_a_varied_scene(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from monitor.cli import main

    out = tmp_path / "v"
    result = CliRunner().invoke(main, ["simulate", "--out", str(out), "--minutes", "0.1", "--seed", "3", "--variant", "varied"])
    assert result.exit_code == 0, result.output
    assert (out / "truth.json").is_file() and (out / "scene.mp4").stat().st_size > 0


@pytest.mark.parametrize("seed", [1, 3, 4, 7])
def test_story_keeps_the_ticket_order_and_one_person_per_chair(seed: int) -> None:
    hall, story = build_story(VariedConfig(minutes=5, seed=seed))
    called = sorted((c for c in story.citizens if c.called_s is not None), key=lambda c: c.called_s)
    assert [c.ticket for c in called] == sorted(c.ticket for c in called)  # FIFO: tickets are called in order
    assert [c.arrival_s for c in called] == sorted(c.arrival_s for c in called)
    for t in np.arange(0.0, 300.0, 5.0):
        sitting = [(round(p.x, 3), round(p.y, 3)) for _, p in story.poses(float(t)) if p.posture == "sit"]
        assert len(sitting) == len(set(sitting)), t
    for a in story.absences:  # no service starts at a counter while its staff member is away
        end = a["end_s"] if a["end_s"] is not None else math.inf
        assert not any(c.counter == a["counter"] and c.service_start_s is not None and a["start_s"] < c.service_start_s < end
                       for c in story.citizens)


def test_cached_seated_sprite_looks_like_direct_drawing() -> None:
    from monitor.simulate import hallrender
    from monitor.simulate.figure import Look, Pose, draw_figure

    cam = Pinhole(3.8, 36.0, 56.0, (640, 360))
    background = np.full((360, 640, 3), (170, 178, 184), np.uint8)
    for pose in (Pose(1.0, 5.0, math.pi / 2, "sit", lean=0.012), Pose(-1.5, 7.0, -math.pi / 2, "sit", hands_on_desk=True)):
        direct = background.copy()
        draw_figure(direct, cam, pose, Look.random(5))
        x0, y0, colour, cover = hallrender._sprite(cam, pose, Look.random(5))
        composed = background.copy()
        roi = composed[y0 : y0 + colour.shape[0], x0 : x0 + colour.shape[1]]
        roi[:] = (roi * (1 - cover) + colour).clip(0, 255).astype(np.uint8)
        assert (direct != background).any(axis=2).sum() > 500  # a figure was drawn
        assert np.abs(direct.astype(int) - composed.astype(int)).max() <= 8
