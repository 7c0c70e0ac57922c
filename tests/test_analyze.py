"""analyze_file on a real simulated office video: the JSON's shape and per-second agreement with the truth."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.counters.analyze import analyze_file, summarise
from monitor.site.config import Config, load_config
from monitor.simulate import SimConfig, SimResult, simulate_office

# seed 28: a service, an absence, a call and a light switch in 30 s
SMALL = SimConfig(minutes=0.5, seed=28, main_size=(640, 360), sub_size=(320, 180))
SEATS = ("staff-seat", "service-spot")


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> SimResult:
    return simulate_office(tmp_path_factory.mktemp("sim"), SMALL)


@pytest.fixture(scope="module")
def config(sim: SimResult) -> Config:
    return load_config(sim.config_path)


@pytest.fixture(scope="module")
def truth(sim: SimResult) -> dict:
    return json.loads(sim.truth_path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def results(sim: SimResult, config: Config) -> dict[str, tuple[dict, list[float]]]:
    out = {}
    for cam in ("quay-1", "quay-2"):
        progress: list[float] = []
        out[cam] = (analyze_file(sim.videos[cam]["sub"], config, cam, progress=progress.append), progress)
    return out


def test_json_schema(results: dict) -> None:
    result, _ = results["quay-1"]
    assert set(result) == {"camera", "fps", "duration_s", "per_second", "sessions", "absences", "waiting"}
    assert result["camera"] == "quay-1" and result["fps"] == 5.0
    assert result["duration_s"] == pytest.approx(30.0, abs=0.2)
    seconds = result["per_second"]
    assert [row["t"] for row in seconds] == list(range(len(seconds)))
    assert len(seconds) == pytest.approx(result["duration_s"], abs=1)
    for row in seconds:
        assert set(row["zones"]) == {"staff-seat", "service-spot", "waiting", "door"}
        for sample in row["zones"].values():
            assert isinstance(sample["occupied"], bool) and isinstance(sample["count"], float)
        for seat in SEATS:  # a seat's count is its presence over the second
            assert 0.0 <= row["zones"][seat]["count"] <= 1.0
    for s in result["sessions"]:
        assert set(s) == {"counter", "start_s", "end_s"} and s["counter"] == "service-spot"
        assert 0 <= s["start_s"] < s["end_s"] <= result["duration_s"]
    for a in result["absences"]:
        assert set(a) == {"zone", "start_s", "end_s"} and a["zone"] == "staff-seat"
    w = result["waiting"]
    assert set(w) == {"served", "mean_wait_s", "mean_queue", "max_queue"}
    assert isinstance(w["served"], int) and all(isinstance(w[k], float) for k in ("mean_wait_s", "mean_queue", "max_queue"))
    json.dumps(result)  # plain JSON types only


def test_progress_rises_to_one(results: dict) -> None:
    _, progress = results["quay-1"]
    assert progress and progress == sorted(progress) and progress[-1] == 1.0


@pytest.mark.parametrize("camera", ["quay-1", "quay-2"])
def test_seat_occupancy_agrees_with_truth(results: dict, truth: dict, camera: str) -> None:
    result, _ = results[camera]
    expected = {row["t"]: row["zones"] for row in truth["cameras"][camera]["per_second"]}
    pairs = [(row["zones"][z]["occupied"], expected[row["t"]][z] > 0) for row in result["per_second"] for z in SEATS]
    agreement = sum(a == b for a, b in pairs) / len(pairs)
    assert agreement >= 0.9


def test_unknown_camera_and_unreadable_file(sim: SimResult, config: Config, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown camera"):
        analyze_file(sim.videos["quay-1"]["sub"], config, "quay-9")
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all" * 100)
    with pytest.raises((ValueError, OSError)):
        analyze_file(junk, config, "quay-1")


def _row(t: int, spot: bool, staff: bool, queue: float) -> dict:
    return {"t": t, "zones": {
        "service-spot": {"occupied": spot, "count": float(spot)},
        "staff-seat": {"occupied": staff, "count": float(staff)},
        "waiting": {"occupied": queue > 0, "count": queue},
    }}


def test_summarise_sessions_absences_and_waits(config: Config) -> None:
    """A citizen in progress at the start is listed but not served; the next waits 40 s; one absence."""
    camera = config.camera("quay-1")
    rows = []
    for t in range(600):
        spot = t < 30 or 60 <= t < 200
        staff = not 300 <= t < 420
        queue = 1.0 if 20 <= t < 60 else 0.0
        rows.append(_row(t, spot, staff, queue))
    out = summarise(camera, rows, 600.0)
    assert out["sessions"] == [
        {"counter": "service-spot", "start_s": 0.0, "end_s": 30.0},
        {"counter": "service-spot", "start_s": 60.0, "end_s": 200.0},
    ]
    assert out["absences"] == [{"zone": "staff-seat", "start_s": 300.0, "end_s": 420.0}]
    assert out["waiting"]["served"] == 1
    assert out["waiting"]["mean_wait_s"] == pytest.approx(40.0, abs=1)
    assert out["waiting"]["max_queue"] == 1.0
