"""The accuracy matrix end to end on one small scene of each kind: simulated, development (cut), real (synthetic)."""

from __future__ import annotations

import importlib.util
import os
import math
import shutil
import subprocess
import sys
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from support import require
from monitor.simulate.varied import VariedConfig, simulate_hall

ROOT = Path(__file__).resolve().parents[2]
# the development scenes are project material kept outside the repository (not a system package): where a
# machine has none (a CI clone elsewhere), the tests that need them skip; ONESTOP_DEVSCENES points at them
DEVSCENES = Path(os.environ.get("ONESTOP_DEVSCENES", ROOT.parent / "shared" / "devscenes"))
SCORE_PY = DEVSCENES / "score.py"
# score.py's figures, and accuracy.py's own share of arrivals found (information)
KEYS = {"seat_acc", "served_err_per_counter_hour", "service_mae_s", "wait_rel_err", "absence_recall", "waiting_count_mae",
        "arrivals_found"}


def _load(name: str, path: Path):  # noqa: ANN202 - module
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


acc = _load("accuracy", ROOT / "benchmarks" / "accuracy.py")
rf = _load("realfootage", ROOT / "benchmarks" / "realfootage.py")


@pytest.fixture(scope="module")
def scorer():  # noqa: ANN201 - module
    if not SCORE_PY.is_file():
        pytest.skip(f"no development scenes at {DEVSCENES} (set ONESTOP_DEVSCENES)")
    return acc.load_module(SCORE_PY, "devscenes_score")


@pytest.fixture(scope="module")
def sim_scene(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201 - accuracy.Scene
    out = tmp_path_factory.mktemp("sim")
    simulate_hall(out / "seed-3-1min", VariedConfig(minutes=1, seed=3, size=(320, 180)))
    return acc.sim_scenes([3], 1.0, out, "body")[0]  # reuses the scene just rendered


def _perfect(truth: dict) -> dict:
    """The analyze JSON a flawless detector would write for this truth."""
    kinds = {z["id"]: z for z in truth["zones"]}
    spot = {z["counter"]: z["id"] for z in truth["zones"] if z["kind"] == "service_spot"}
    seat = {z["counter"]: z["id"] for z in truth["zones"] if z["kind"] == "staff_seat"}
    n = int(truth["duration_s"])
    sessions = [{"counter": spot[c["counter"]], "start_s": c["service_start_s"],
                 "end_s": c["service_end_s"] if c["service_end_s"] is not None else n}
                for c in truth["citizens"] if c["service_start_s"] is not None]
    waits = [c["wait_s"] for c in truth["citizens"] if c["wait_s"] is not None]
    return {
        "per_second": [{"t": row["t"], "zones": {z: {"occupied": row["counts"][z] > 0, "count": row["counts"][z]} for z in kinds}}
                       for row in truth["per_second"]],
        "sessions": sessions,
        "absences": [{"zone": seat[a["counter"]], "start_s": a["start_s"], "end_s": a["end_s"] if a["end_s"] is not None else n}
                     for a in truth["staff_absences"]],
        "waiting": {"mean_wait_s": float(np.mean(waits)) if waits else 0.0},
    }


def test_score_py_reads_the_simulated_truth_as_meant(sim_scene, scorer) -> None:  # noqa: ANN001
    got = scorer.score(sim_scene.truth, _perfect(sim_scene.truth))
    assert got["seat_acc"] == 1.0 and got["waiting_count_mae"] == 0.0 and got["absence_recall"] == 1.0
    assert got["served_err_per_counter_hour"] == 0.0
    assert got["service_mae_s"] == 0.0 or math.isnan(got["service_mae_s"])
    assert got["wait_rel_err"] == 0.0 or math.isnan(got["wait_rel_err"])


def test_simulated_zone_files_are_what_score_py_would_write(sim_scene, scorer) -> None:  # noqa: ANN001
    import yaml

    for fname, floor in (("cameras.yaml", False), ("cameras-floor.yaml", True)):
        ours = yaml.safe_load((sim_scene.video.parent / fname).read_text(encoding="utf-8"))["cameras"][0]["zones"]
        assert ours == scorer.zones(sim_scene.truth, floor=floor), fname


def test_simulated_scene_through_analyze_and_score_py(sim_scene, scorer, tmp_path: Path) -> None:  # noqa: ANN001
    result, _ = acc.analyze(sim_scene.video, sim_scene.config, sim_scene.camera, tmp_path / "out.json")
    assert len(result["per_second"]) >= 59
    got = acc.score_scene(sim_scene, result, scorer, rf)
    assert set(got) == KEYS
    assert 0.0 <= got["seat_acc"] <= 1.0 and got["waiting_count_mae"] >= 0.0


def test_development_scene_cut_through_analyze(scorer, tmp_path: Path) -> None:  # noqa: ANN001
    require("ffmpeg", shutil.which("ffmpeg") is not None, "apt-get install ffmpeg")
    scenes = acc.dev_scenes(SCORE_PY, scorer, tmp_path, "body", seconds=30.0)
    assert scenes, "no development scene beside score.py"
    scene = scenes[0]
    assert scene.truth["duration_s"] == 30.0 and len(scene.truth["per_second"]) == 30
    assert all(c["service_start_s"] is None or c["service_start_s"] < 30 for c in scene.truth["citizens"])
    result, _ = acc.analyze(scene.video, scene.config, scene.camera, tmp_path / "out.json")
    got = acc.score_scene(scene, result, scorer, rf)
    assert set(got) == KEYS and 0.0 <= got["seat_acc"] <= 1.0


def test_real_footage_kind_through_analyze(tmp_path: Path) -> None:
    require("ffmpeg", shutil.which("ffmpeg") is not None, "apt-get install ffmpeg")
    src = tmp_path / "src"
    src.mkdir()
    for i in range(20):  # 5 s at 4 fps, one person crossing
        img = np.full((120, 160, 3), 120, np.uint8)
        cv2.rectangle(img, (10 + 6 * i, 40), (22 + 6 * i, 90), (30, 30, 30), -1)
        cv2.imwrite(str(src / f"{i:04d}.png"), img)
    (src / "gt.txt").write_text("".join(f"{i + 1},1,{10 + 6 * i},40,12,50,1,-1,-1,-1\n" for i in range(20)), encoding="utf-8")
    rf.build(tmp_path / "real" / "walk", src, src / "gt.txt", 4, "walk")
    scenes = acc.real_scenes(tmp_path / "real")
    assert [s.name for s in scenes] == ["walk"]
    result, _ = acc.analyze(scenes[0].video, scenes[0].config, scenes[0].camera, tmp_path / "out.json")
    got = acc.score_scene(scenes[0], result, None, rf)
    assert got["seconds"] == 5 and got["true_mean"] == 1.0 and got["count_mae"] >= 0.0


def test_allowed_count_error_is_half_a_person_or_15_percent() -> None:
    def truth(counts: list[int]) -> dict:
        return {"duration_s": len(counts), "zones": [{"id": "w", "kind": "waiting_area"}],
                "per_second": [{"t": t, "counts": {"w": c}} for t, c in enumerate(counts)]}

    assert acc.allowed_count_mae(truth([1, 1, 1, 1])) == 0.5
    assert acc.allowed_count_mae(truth([10, 10])) == pytest.approx(1.5)


def test_arrivals_found_counts_citizens_whose_session_carries_their_arrival() -> None:
    zones = [{"id": "s1", "kind": "service_spot", "counter": 1}, {"id": "s2", "kind": "service_spot", "counter": 2},
             {"id": "w", "kind": "waiting_area", "counter": None}]
    citizens = [  # served in the video at counters 1, 2, 1; one arrived before it; one never served
        {"arrival_s": 10.0, "service_start_s": 100.0, "counter": 1},
        {"arrival_s": 50.0, "service_start_s": 200.0, "counter": 2},
        {"arrival_s": 90.0, "service_start_s": 300.0, "counter": 1},
        {"arrival_s": -40.0, "service_start_s": 20.0, "counter": 2},
        {"arrival_s": 120.0, "service_start_s": None, "counter": None},
    ]
    truth = {"zones": zones, "citizens": citizens}
    sessions = [{"counter": "s1", "start_s": 103.0, "end_s": 150.0, "arrival_s": 20.0, "wait_s": 83.0},  # 10 s off: right
                {"counter": "s2", "start_s": 198.0, "end_s": 250.0, "arrival_s": 90.0, "wait_s": 108.0},  # 40 s off
                {"counter": "s1", "start_s": 330.0, "end_s": 400.0, "arrival_s": 95.0, "wait_s": 235.0}]  # 30 s late: not theirs
    assert acc.arrivals_found(truth, {"sessions": sessions}) == pytest.approx(1 / 3)
    assert acc.arrivals_found(truth, {"sessions": sessions}, tol_s=45) == pytest.approx(2 / 3)
    assert math.isnan(acc.arrivals_found({"zones": zones[:2], "citizens": citizens}, {"sessions": sessions}))  # no waiting area
    assert math.isnan(acc.arrivals_found({"zones": zones, "citizens": citizens[3:]}, {"sessions": sessions}))


def test_missing_score_py_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert acc.main(["--score-py", str(tmp_path / "none.py"), "--kinds", "real", "--real-root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "none.py" in err and err.count("\n") == 1


def _testsrc_scene(tmp_path: Path) -> tuple[Path, Path]:
    """A 2-s 160x90 ffmpeg test picture and a cameras.yaml whose one camera, office, plays it (no zones)."""
    require("ffmpeg", shutil.which("ffmpeg") is not None, "apt-get install ffmpeg")
    import yaml

    video = tmp_path / "scene.mp4"
    subprocess.run(["ffmpeg", "-y", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=160x90:rate=10:duration=2",
                    "-pix_fmt", "yuv420p", str(video)], check=True)
    config = tmp_path / "office.yaml"
    config.write_text(yaml.safe_dump({"cameras": [{"id": "office", "streams": {"main": str(video)}, "zones": []}]}), encoding="utf-8")
    return video, config


def test_degraded_copies_of_a_scene(tmp_path: Path) -> None:
    import yaml

    video, config = _testsrc_scene(tmp_path)
    scene = acc.Scene("dev", "office", video, config, "office", {"duration_s": 2})
    out = acc.degraded_scenes([scene], tmp_path / "cache")
    assert [s.name for s in out] == [f"office-{v}" for v in acc.DEGRADED] and all(s.kind == "degraded" for s in out)
    frames = {}
    for s in [scene, *out]:
        assert yaml.safe_load(s.config.read_text(encoding="utf-8"))["cameras"][0]["streams"]["main"] == str(s.video.resolve())
        cap = cv2.VideoCapture(str(s.video))
        ok, frames[s.name] = cap.read()
        cap.release()
        assert ok and s.truth is scene.truth
    dim = frames["office-dim"].astype(int)
    assert np.abs(dim[..., 0] - dim[..., 2]).max() <= 3 and dim.mean() < frames["office"].mean() - 20  # grey, darker
    assert np.abs(frames["office-noisy"].astype(int) - frames["office"].astype(int)).mean() > 3
    # made once: a second call reuses the copies
    before = [s.video.stat().st_mtime_ns for s in out]
    assert [s.video.stat().st_mtime_ns for s in acc.degraded_scenes([scene], tmp_path / "cache")] == before


def test_variants_move_the_zones_with_the_picture(tmp_path: Path) -> None:
    require("ffmpeg", shutil.which("ffmpeg") is not None, "apt-get install ffmpeg")
    import yaml

    # a white square at x 40-60, y 20-40 of a black 160x90 picture, and a zone drawn around it
    still = np.zeros((90, 160, 3), np.uint8)
    still[20:40, 40:60] = 255
    cv2.imwrite(str(tmp_path / "still.png"), still)
    video = tmp_path / "scene.mp4"
    subprocess.run(["ffmpeg", "-y", "-loglevel", "error", "-loop", "1", "-i", str(tmp_path / "still.png"), "-t", "2", "-r", "10",
                    "-pix_fmt", "yuv420p", str(video)], check=True)
    zone = {"id": "waiting", "kind": "waiting_area", "points": [[0.25, 0.2222], [0.375, 0.2222], [0.375, 0.4444], [0.25, 0.4444]],
            "person_height": [0.4, 0.2]}
    config = tmp_path / "office.yaml"
    config.write_text(yaml.safe_dump({"cameras": [{"id": "office", "streams": {"main": str(video)}, "zones": [zone]}]}), encoding="utf-8")
    scene = acc.Scene("dev", "office", video, config, "office", {"duration_s": 2, "width": 160, "height": 90})
    out = {s.name: s for s in acc.variant_scenes([scene], tmp_path / "cache")}
    assert sorted(out) == sorted(f"office-{v}" for v in acc.VARIANTS) and all(s.kind == "variant" for s in out.values())
    for name, s in out.items():
        cam = yaml.safe_load(s.config.read_text(encoding="utf-8"))["cameras"][0]
        assert cam["streams"]["main"] == str(s.video.resolve()) and s.truth is scene.truth
        cap = cv2.VideoCapture(str(s.video))
        ok, frame = cap.read()
        cap.release()
        assert ok
        (z,) = cam["zones"]
        fh, fw = frame.shape[:2]  # the zones are normalised: a picture of another size keeps them
        assert (fw, fh) == ((1280, 720) if name == "office-720p" else (160, 90)), name
        xs, ys = [p[0] * fw for p in z["points"]], [p[1] * fh for p in z["points"]]
        inside = frame[int(min(ys)) + 2:int(max(ys)) - 2, int(min(xs)) + 2:int(max(xs)) - 2]
        assert inside.mean() > 200, name  # the square is still inside its zone
        assert frame.mean() > 0.75 * still.mean(), name  # and the rest of the picture is not
        # the zone's middle is the square's, within a pixel (a turn the wrong way round is 3 px off at 3°)
        bright = np.argwhere(frame.mean(axis=2) > 128)
        assert abs(bright[:, 1].mean() + 0.5 - np.mean(xs)) < 1.0 and abs(bright[:, 0].mean() + 0.5 - np.mean(ys)) < 1.0, name
        change = acc.VARIANTS[name.removeprefix("office-")][2]
        if isinstance(change, float):
            h = int(90 * change) // 2 * 2  # the shrunk picture's height
            assert z["person_height"] == [round(0.4 * h / 90, 4), round(0.2 * h / 90, 4)]
        else:
            assert z["person_height"] == [0.4, 0.2]
    assert cv2.VideoCapture(str(out["office-6fps"].video)).get(cv2.CAP_PROP_FPS) == 6


def _truth(arrival: float) -> dict:
    """A 100-s scene: one citizen served 20-60 s, one served from 90 s (cut by the end), one still waiting."""
    citizens = [
        {"id": "c1", "arrival_s": arrival, "called_s": 15.0, "service_start_s": 20.0, "service_end_s": 60.0,
         "counter": 1, "wait_s": 20.0 - arrival, "exit_s": 65.0},
        {"id": "c2", "arrival_s": 30.0, "called_s": 85.0, "service_start_s": 90.0, "service_end_s": None,
         "counter": 1, "wait_s": 60.0, "exit_s": None},
        {"id": "c3", "arrival_s": 80.0, "called_s": None, "service_start_s": None, "service_end_s": None,
         "counter": None, "wait_s": None, "exit_s": None},
    ]
    return {"duration_s": 100, "per_second": [{"t": t, "counts": {"waiting": 1}} for t in range(100)],
            "citizens": citizens, "staff_absences": [{"counter": 1, "start_s": 70.0, "end_s": None}],
            "summary": {"mean_wait_s": 30.0}}


def test_a_scene_played_twice_has_the_truth_of_the_join() -> None:
    twice = acc.played_twice(_truth(0.0))
    assert twice["duration_s"] == 200 and len(twice["per_second"]) == 200 and "summary" not in twice
    by_id = {c["id"]: c for c in twice["citizens"]}
    # the service under way at the join is cut there; the citizen waiting then is never served
    assert by_id["c2"]["service_end_s"] == 100 and by_id["c3"]["service_start_s"] is None
    # the second play's citizens, 100 s later, with the same waits
    assert (by_id["c1-2"]["arrival_s"], by_id["c1-2"]["service_start_s"], by_id["c1-2"]["wait_s"]) == (100.0, 120.0, 20.0)
    assert by_id["c2-2"]["service_end_s"] is None and by_id["c3-2"]["called_s"] is None
    assert twice["staff_absences"] == [{"counter": 1, "start_s": 70.0, "end_s": 100.0},
                                       {"counter": 1, "start_s": 170.0, "end_s": None}]


def test_a_scene_begun_late_has_the_truth_of_its_start() -> None:
    late = acc.started_late(_truth(0.0), 40)
    assert late["duration_s"] == 60 and len(late["per_second"]) == 60 and late["per_second"][0]["t"] == 0
    assert "summary" not in late
    by_id = {c["id"]: c for c in late["citizens"]}
    # c1, served 20-60 s, is under way at the start: its true start and its wait (before the video) kept
    assert (by_id["c1"]["service_start_s"], by_id["c1"]["service_end_s"], by_id["c1"]["wait_s"]) == (-20.0, 20.0, 20.0)
    # c2 waits from before the start: the wait they began then is theirs
    assert (by_id["c2"]["arrival_s"], by_id["c2"]["service_start_s"], by_id["c2"]["wait_s"]) == (-10.0, 50.0, 60.0)
    assert late["staff_absences"] == [{"counter": 1, "start_s": 30.0, "end_s": None}]
    gone = acc.started_late(_truth(0.0), 70)  # c1 has left, the absence is under way
    assert {c["id"] for c in gone["citizens"]} == {"c2", "c3"}
    assert gone["staff_absences"] == [{"counter": 1, "start_s": 0.0, "end_s": None}]


def test_only_scenes_without_people_from_before_them_are_played_twice(tmp_path: Path) -> None:
    import yaml

    video, config = _testsrc_scene(tmp_path)
    empty = acc.Scene("dev", "empty", video, config, "office", _truth(0.0))
    busy = acc.Scene("dev", "busy", video, config, "office", _truth(-30.0))  # someone waiting from before the video
    (out,) = acc.long_scenes([empty, busy], tmp_path / "cache")
    assert (out.kind, out.name, out.truth["duration_s"]) == ("long", "empty-twice", 200)
    with av.open(str(out.video)) as c:
        assert abs(float(c.duration / av.time_base) - 4.0) < 0.3  # the 2-s video, twice
    assert yaml.safe_load(out.config.read_text(encoding="utf-8"))["cameras"][0]["streams"]["main"] == str(out.video.resolve())


def test_a_scene_begun_late_is_cut_there(tmp_path: Path) -> None:
    import yaml

    video, config = _testsrc_scene(tmp_path)
    truth = dict(_truth(0.0), duration_s=3, per_second=[{"t": t, "counts": {"waiting": 0}} for t in range(3)])
    (out,) = acc.late_scenes([acc.Scene("dev", "x", video, config, "office", truth)], tmp_path / "cache")
    assert (out.kind, out.name, out.truth["duration_s"], len(out.truth["per_second"])) == ("late", "x-late", 2.0, 2)
    with av.open(str(out.video)) as c:
        assert abs(float(c.duration / av.time_base) - 1.0) < 0.3  # the 2-s video from its first second on
    assert yaml.safe_load(out.config.read_text(encoding="utf-8"))["cameras"][0]["streams"]["main"] == str(out.video.resolve())


def test_real_footage_is_also_totalled_by_camera_height(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Cameras looking down and cameras at head height (their calibration: tiles.head_height_zones) get a total each."""
    def scene(name: str, person_height: list[float], top: float) -> acc.Scene:
        config = tmp_path / f"{name}.yaml"
        config.write_text(
            "site: {name: test}\ncameras:\n  - id: cam\n    name: cam\n    streams: {main: video.mp4}\n    zones:\n"
            f"      - {{id: waiting, kind: waiting_area, points: [[0, {top}], [1, {top}], [1, 1], [0, 1]], "
            f"person_height: {person_height}}}\n", encoding="utf-8")
        return acc.Scene("real", name, tmp_path / "video.mp4", config, "cam", {})

    def scored(s: acc.Scene, seconds: int, mae: float) -> acc.Scored:
        return acc.Scored(s, {"seconds": seconds, "true_mean": 5.0, "found_mean": 5.0, "count_mae": mae,
                              "count_mae_dontcare": mae, "baseline_mae": 1.0}, 0.0)

    walkway, street = scene("walkway", [0.26, 0.09], 0.26), scene("street", [0.86, 0.06], 0.53)
    assert not acc.at_head_height(walkway) and acc.at_head_height(street)
    assert acc.print_real_table([scored(walkway, 30, 0.4), scored(street, 10, 2.0)]) == (0.8, 0.8)
    totals = {line[:18].strip(): line[18:].split()[:1] for line in capsys.readouterr().out.splitlines()}
    assert totals["looking down"] == ["30"] and totals["at head height"] == ["10"] and totals["all (weighted)"] == ["40"]
    acc.print_real_table([scored(walkway, 30, 0.4)])  # one kind of camera only: no totals by height
    assert "looking down" not in capsys.readouterr().out
