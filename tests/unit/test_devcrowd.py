"""benchmarks/devcrowd.py: crowded halls pasted together from scenes of one room, on two tiny rendered scenes."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
import yaml

from support import require

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("devcrowd", ROOT / "benchmarks" / "devcrowd.py")
devcrowd = importlib.util.module_from_spec(spec)
sys.modules["devcrowd"] = devcrowd
spec.loader.exec_module(devcrowd)

W, H, FPS, SECONDS = 160, 96, 5, 4
ZONE = {"id": "hall", "kind": "waiting_area", "points": [[0, 0.3], [1, 0.3], [1, 1], [0, 1]],
        "floor_points": [[0, 0.5], [1, 0.5], [1, 1], [0, 1]]}
RED, BLUE = (40, 40, 220), (220, 60, 40)  # BGR


def _room() -> np.ndarray:
    x = np.linspace(90, 170, W, dtype=np.float32)
    y = np.linspace(0, 30, H, dtype=np.float32)[:, None]
    return np.repeat((x[None, :] + y)[:, :, None], 3, axis=2).astype(np.uint8)


def _scene(root: Path, name: str, people: list[tuple[int, int, tuple[int, int, int]]], rows: tuple[int, int] = (60, 80)) -> None:
    """A scene of the test room: each person (x, from second, colour) a 10 px wide block over rows (standing at y 60-80)."""
    d = root / name
    d.mkdir(parents=True)
    frames = []
    for n in range(SECONDS * FPS):
        f = _room()
        for x, since, colour in people:
            if n // FPS >= since:
                f[rows[0]:rows[1], x:x + 10] = colour
        frames.append(f)
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{W}x{H}", "-r", str(FPS),
                    "-i", "-", "-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv444p", str(d / "scene.mp4")],
                   input=np.stack(frames).tobytes(), check=True)
    per_second = [{"counts": {"hall": sum(1 for _, since, _ in people if t >= since)}} for t in range(SECONDS)]
    truth = {"fps": FPS, "width": W, "height": H, "duration_s": SECONDS, "camera": {"height_m": 3.0},
             "zones": [ZONE], "per_second": per_second}
    (d / "truth.json").write_text(json.dumps(truth), encoding="utf-8")


@pytest.fixture(scope="module")
def scenes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require("ffmpeg", shutil.which("ffmpeg") is not None, "apt-get install ffmpeg")
    root = tmp_path_factory.mktemp("devscenes")
    _scene(root, "a", [(30, 1, RED)])
    _scene(root, "b", [(100, 2, BLUE)])
    # seated behind a chair back: the silhouette ends at row 45, 3 px above the floor footprint (row 48)
    _scene(root, "c", [(70, 1, BLUE)], rows=(30, 46))
    return root


def _frame(video: Path, second: int) -> np.ndarray:
    with av.open(str(video)) as c:
        for n, f in enumerate(c.decode(video=0)):
            if n == second * FPS:
                return f.to_ndarray(format="bgr24")
    raise AssertionError(f"{video} has no second {second}")


def test_people_of_both_scenes_in_one_picture(scenes: Path, tmp_path: Path) -> None:
    truth = devcrowd.build(tmp_path, [devcrowd.Source("a", 0, False), devcrowd.Source("b", 0, False)], 3, scenes)
    assert [r["count"] for r in truth["per_second"]] == [0, 1, 2]
    assert [r["visible"] for r in truth["per_second"]] == [0, 1, 2]
    assert all(r["clean"] for r in truth["per_second"])
    f = _frame(tmp_path / "scene.mp4", 2)
    assert np.abs(f[70, 35].astype(int) - RED).max() < 30  # scene a's person
    assert np.abs(f[70, 105].astype(int) - BLUE).max() < 30  # scene b's person, pasted
    assert np.abs(f[70, 60].astype(int) - _room()[70, 60]).max() < 30  # the room between them


def test_a_seated_person_hidden_below_the_shoulders_is_pasted(scenes: Path, tmp_path: Path) -> None:
    truth = devcrowd.build(tmp_path, [devcrowd.Source("a", 0, False), devcrowd.Source("c", 0, False)], 3, scenes)
    assert [r["visible"] for r in truth["per_second"]] == [0, 2, 2]
    f = _frame(tmp_path / "scene.mp4", 2)
    assert np.abs(f[40, 75].astype(int) - BLUE).max() < 30  # scene c's person, though their silhouette ends above the floor


def test_someone_just_above_the_area_whom_the_truth_does_not_count_is_not_pasted(scenes: Path, tmp_path: Path) -> None:
    root = tmp_path / "scenes"
    shutil.copytree(scenes, root)
    truth = json.loads((root / "c" / "truth.json").read_text(encoding="utf-8"))
    for row in truth["per_second"]:
        row["counts"]["hall"] = 0  # walking past the area's edge, not waiting in it
    (root / "c" / "truth.json").write_text(json.dumps(truth), encoding="utf-8")
    devcrowd.build(tmp_path / "out", [devcrowd.Source("a", 0, False), devcrowd.Source("c", 0, False)], 3, root)
    f = _frame(tmp_path / "out" / "scene.mp4", 2)
    assert np.abs(f[40, 75].astype(int) - _room()[40, 75]).max() < 30


def test_mirrored_source_and_a_shared_spot(scenes: Path, tmp_path: Path) -> None:
    # b mirrored puts its person at 160 - 110 = 50; a twice puts two people on one spot: one is visible
    truth = devcrowd.build(tmp_path, [devcrowd.Source("a", 0, False), devcrowd.Source("b", 0, True),
                                      devcrowd.Source("a", 0, False)], 3, scenes)
    assert [r["count"] for r in truth["per_second"]] == [0, 2, 3]
    assert [r["visible"] for r in truth["per_second"]] == [0, 1, 2]
    assert [r["clean"] for r in truth["per_second"]] == [True, False, False]
    f = _frame(tmp_path / "scene.mp4", 2)
    assert np.abs(f[70, 55].astype(int) - BLUE).max() < 30
    assert np.abs(f[70, 105].astype(int) - _room()[70, 105]).max() < 30


def test_three_sources_on_one_spot_show_one_person(scenes: Path, tmp_path: Path) -> None:
    # a three times: three people pasted on one spot, two of them hidden (three pairs, but two people)
    truth = devcrowd.build(tmp_path, [devcrowd.Source("a", 0, False)] * 3, 3, scenes)
    assert [r["count"] for r in truth["per_second"]] == [0, 3, 3]
    assert [r["visible"] for r in truth["per_second"]] == [0, 1, 1]


def test_score_against_the_visible_people() -> None:
    truth = {"zone": "hall", "per_second": [{"t": 0, "visible": 2, "clean": True}, {"t": 1, "visible": 4, "clean": False}]}
    result = {"per_second": [{"t": 0, "zones": {"hall": {"count": 2}}}, {"t": 1, "zones": {"hall": {"count": 1}}}]}
    m = devcrowd.score(truth, result)
    assert (m["count_mae"], m["clean_mae"], m["bias"], m["true_mean"]) == (1.5, 0.0, -1.5, 3.0)
    assert (m["bias@<=4"], m["seconds@<=4"]) == (-1.5, 2.0) and "bias@5-8" not in m
    assert devcrowd.allowed_mae(m) == 0.5
    with pytest.raises(ValueError, match="'hall'"):
        devcrowd.score(truth, {"per_second": [{"t": 0, "zones": {}}]})


def test_shortfall_by_crowd_size() -> None:
    """The mean error per band of people visible: a count that misses one person in ten."""
    visible = [3, 4, 6, 8, 10, 12, 13]
    truth = {"zone": "hall", "per_second": [{"t": t, "visible": v, "clean": True} for t, v in enumerate(visible)]}
    result = {"per_second": [{"t": t, "zones": {"hall": {"count": v - v // 10}}} for t, v in enumerate(visible)]}
    m = devcrowd.score(truth, result)
    assert [(m[f"bias@{b}"], m[f"seconds@{b}"]) for b in ("<=4", "5-8", "9-10", ">=11")] == [
        (0.0, 2.0), (0.0, 2.0), (-1.0, 1.0), (-1.0, 2.0)]


def test_seats_against_the_base_picture() -> None:
    zones = [{"id": "clerk", "kind": "staff_seat"}, {"id": "spot", "kind": "service_spot"}, ZONE]
    base = {"zones": zones, "per_second": [{"counts": {"clerk": 1, "spot": int(t >= 12)}} for t in range(14)]}
    # the crowd starts at the base's second 10 and runs past its end: seconds 10..13 are scored
    rows = [{"t": t, "zones": {"clerk": {"occupied": True}, "spot": {"occupied": t >= 3}, "hall": {"count": 0}}} for t in range(6)]
    m = devcrowd.seat_score(base, 10, {"per_second": rows})
    assert m == {"seat_acc": 7 / 8, "seat_samples": 8.0}  # the spot turned on a second late
    assert devcrowd.seat_score({"zones": [ZONE], "per_second": []}, 0, {"per_second": rows}) == {}


@pytest.mark.parametrize(("spec", "source"), [("office-4c@120m", ("office-4c", 120, True)), ("x@0", ("x", 0, False))])
def test_source_spec(spec: str, source: tuple) -> None:
    assert devcrowd.Source.parse(spec) == devcrowd.Source(*source)


@pytest.mark.parametrize("spec", ["office-4c", "@12", "office-4c@m", "office-4c@-5", "office-4c@1.5"])
def test_bad_source_spec(spec: str) -> None:
    with pytest.raises(ValueError, match="SCENE@SECOND"):
        devcrowd.Source.parse(spec)


def test_sources_must_fit_and_share_the_room(scenes: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="ends after the scene"):
        devcrowd.build(tmp_path, [devcrowd.Source("a", 2, False)], 3, scenes)
    other = scenes.parent / "other"
    other.mkdir(exist_ok=True)
    for name in ("a", "c"):
        (other / name).mkdir(exist_ok=True)
        t = json.loads((scenes / "a" / "truth.json").read_text(encoding="utf-8"))
        if name == "c":
            t["camera"] = {"height_m": 5.0}
        (other / name / "truth.json").write_text(json.dumps(t), encoding="utf-8")
    with pytest.raises(ValueError, match="same camera"):
        devcrowd.build(tmp_path, [devcrowd.Source("a", 0, False), devcrowd.Source("c", 0, False)], 3, other)


def test_the_matrix_builds_a_crowd_once_and_scores_it(scenes: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location("accuracy", ROOT / "benchmarks" / "accuracy.py")
    acc = importlib.util.module_from_spec(spec)
    sys.modules["accuracy"] = acc
    spec.loader.exec_module(acc)
    monkeypatch.setattr(devcrowd, "CROWDS", {"tiny": ("a@0", "b@0m")})
    config = tmp_path / "a.yaml"
    config.write_text(yaml.safe_dump({"cameras": [{"id": "office", "streams": {"main": "elsewhere.mp4"}}]}), encoding="utf-8")
    base = acc.Scene("dev", "a", scenes / "a" / "scene.mp4", config, "office", {})
    [crowd] = acc.crowd_scenes([base], tmp_path / "cache", scenes, 3, devcrowd)
    assert (crowd.kind, crowd.name, crowd.camera) == ("crowd", "tiny", "office")
    assert yaml.safe_load(crowd.config.read_text(encoding="utf-8"))["cameras"][0]["streams"]["main"] == str(crowd.video.resolve())
    built = crowd.video.stat().st_mtime_ns
    [again] = acc.crowd_scenes([base], tmp_path / "cache", scenes, 3, devcrowd)
    assert again.video.stat().st_mtime_ns == built  # reused, not rebuilt
    monkeypatch.setattr(devcrowd, "VERSION", devcrowd.VERSION + 1)  # a newer builder: the cached crowd is built again
    [newer] = acc.crowd_scenes([base], tmp_path / "cache", scenes, 3, devcrowd)
    assert newer.video.stat().st_mtime_ns != built and newer.truth["version"] == devcrowd.VERSION
    assert [r["count"] for r in crowd.truth["per_second"]] == [0, 1, 2]
    perfect = {"per_second": [{"t": r["t"], "zones": {"hall": {"count": r["visible"]}}} for r in crowd.truth["per_second"]]}
    assert acc.score_scene(crowd, perfect, None, None, devcrowd)["count_mae"] == 0.0
    assert crowd.base == ({}, 0)  # the base picture's truth (here without seats) and its start second
