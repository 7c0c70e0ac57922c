"""benchmarks/live_accuracy.py: what the workers stored, read back as `onestop analyze --json` fields, and the
RTSP stream's first seconds found by their counts."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import yaml

from monitor.db.store import Writer, open_db

ROOT = Path(__file__).resolve().parents[2]
T0 = 1_795_500_000


def _load(name: str):  # noqa: ANN202 - module
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


_load("benchlib")
_load("accuracy")
live = _load("live_accuracy")

ZONES = [
    {"id": "c1_staff", "kind": "staff_seat", "points": [[0.1, 0.1], [0.3, 0.1], [0.3, 0.3], [0.1, 0.3]]},
    {"id": "c1_citizen", "kind": "service_spot", "points": [[0.1, 0.4], [0.3, 0.4], [0.3, 0.6], [0.1, 0.6]]},
    {"id": "waiting", "kind": "waiting_area", "points": [[0.5, 0.5], [0.9, 0.5], [0.9, 0.9], [0.5, 0.9]]},
]


def _second(i: int) -> dict:
    """Second i of a scripted day: the clerk away 30-190 s, a citizen on the spot 200-290 s, one waiting 150-199 s."""
    zones = {"c1_staff": not 30 <= i < 190, "c1_citizen": 200 <= i < 290, "waiting": 150 <= i < 200}
    return {"type": "occupancy", "camera": "office", "t": T0 + i,
            "zones": {z: {"occupied": o, "count": float(o)} for z, o in zones.items()}}


@pytest.fixture
def site(tmp_path: Path) -> Path:
    cfg = {"site": {"name": "t"}, "storage": {"recordings": str(tmp_path / "rec"), "database": str(tmp_path / "t.db")},
           "cameras": [{"id": "office", "name": "office", "streams": {"main": "x.mp4"}, "zones": ZONES}]}
    (tmp_path / "cameras.yaml").write_text(yaml.safe_dump(cfg), encoding="utf-8")
    db = open_db(tmp_path / "t.db")
    Writer(db).apply([_second(i) for i in range(400)])
    db.conn.close()
    return tmp_path


def test_stored_seconds_and_the_reports_analysis_come_back_as_analyze_fields(site: Path) -> None:
    got = live.stored_result(site / "cameras.yaml", site / "t.db", "office", T0 + 10, 300.0)
    assert got["seconds_stored"] == 300 and [r["t"] for r in got["per_second"]] == list(range(300))
    assert got["per_second"][150 - 10]["zones"]["waiting"] == {"occupied": True, "count": 1.0}
    assert [(s["counter"], s["start_s"], s["end_s"]) for s in got["sessions"]] == [("c1_citizen", 190, 280)]
    assert [(a["zone"], a["start_s"], a["end_s"]) for a in got["absences"]] == [("c1_staff", 20, 180)]
    assert got["waiting"]["mean_wait_s"] == pytest.approx(50.0, abs=3.0)  # in at 150 s, served at 200 s


def _rows(counts: list[float], start: int = 0) -> dict:
    return {"per_second": [{"t": start + i, "zones": {"waiting": {"occupied": c > 0, "count": c}}}
                           for i, c in enumerate(counts)]}


@pytest.mark.parametrize("shift", [0, 2, 5])
def test_the_streams_missing_first_seconds_are_found_from_the_counts(shift: int) -> None:
    counts = [float((i // 7) % 4) for i in range(120)]  # steps at different lengths: one shift fits
    assert live.best_shift(_rows(counts[shift:]), _rows(counts)) == shift


def test_markers_set_wrong_scale_every_person_height_of_score_pys_zones(tmp_path: Path) -> None:
    """--markers: the cameras.yaml of the live run has every person_height times the factor (at most 1), the rest as
    score.py gives it."""
    class Scorer:
        @staticmethod
        def zones(truth: dict, floor: bool) -> list[dict]:
            assert floor
            return [dict(z) for z in ZONES[:2]] + [dict(ZONES[2], person_height=[0.3, 0.2])]

    scenes = [("office", tmp_path / "x.mp4", {})]
    cfg = yaml.safe_load(live.site_config(tmp_path, scenes, Scorer, {"office": "x.mp4"}, 0.7).read_text(encoding="utf-8"))
    (camera,) = cfg["cameras"]
    assert [z.get("person_height") for z in camera["zones"]] == [None, None, [0.21, 0.14]]
    assert [z["points"] for z in camera["zones"]] == [z["points"] for z in ZONES]
    cfg = yaml.safe_load(live.site_config(tmp_path, scenes, Scorer, {"office": "x.mp4"}, 4.0).read_text(encoding="utf-8"))
    assert cfg["cameras"][0]["zones"][2]["person_height"] == [1.0, 0.8]
