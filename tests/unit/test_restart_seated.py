"""An analysis begun with everyone seated (a worker restarted at 10:00) has every seat right within 60 s.

End to end with the real person detector on a scene of the varied simulator whose story opens with a
restart: every staff seat and service spot occupied from the first frame, the hall full. The seed is one
of the simulator's restart scenes at its own 640x360 whose seats this detector can see (on others,
officers behind monitors are never found: README, "How accurate the counter figures are").
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.counters.analyze import analyze_file
from monitor.detect.tiles import HEIGHT_FACTOR_OK, MIN_HEAD_SIGHTINGS
from monitor.simulate.varied import VariedConfig, simulate_hall
from monitor.site.config import load_config

SEED = 34  # 3 counters, camera 3.6 m high, monitors on the desks, a standing queue


@pytest.fixture(scope="module")
def restarted(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    out = tmp_path_factory.mktemp("restart")
    simulate_hall(out, VariedConfig(minutes=1.25, seed=SEED))
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    config = load_config(out / "cameras-floor.yaml")
    return truth, analyze_file(out / "scene.mp4", config, config.cameras[0].id)


def test_the_scene_opens_with_every_seat_taken(restarted: tuple[dict, dict]) -> None:
    truth, _ = restarted
    seats = [z["id"] for z in truth["zones"] if z["kind"] in ("staff_seat", "service_spot")]
    assert truth["scene"]["start"] == "restart" and len(seats) == 6
    assert all(truth["per_second"][0]["counts"][z] == 1 for z in seats)


def test_every_seat_is_right_from_60_s_on(restarted: tuple[dict, dict]) -> None:
    truth, result = restarted
    seats = [z["id"] for z in truth["zones"] if z["kind"] in ("staff_seat", "service_spot")]
    found = {row["t"]: row["zones"] for row in result["per_second"]}
    wrong = [(t, z) for t in range(60, len(truth["per_second"])) for z in seats
             if (truth["per_second"][t]["counts"][z] > 0) != found[t][z]["occupied"]]
    assert not wrong


def test_the_analysis_does_not_take_a_camera_3_6_m_up_for_one_at_head_height(restarted: tuple[dict, dict]) -> None:
    _, result = restarted
    assert result["at_head_height"] == []  # analyze's JSON lists the zones whose calibration says head height


def test_the_officers_head_tops_agree_with_the_calibration(restarted: tuple[dict, dict]) -> None:
    _, result = restarted
    check = result["height_check"]  # three clerks for 75 s: their head tops say person_height is right
    lo, hi = HEIGHT_FACTOR_OK
    assert check["sightings"] >= MIN_HEAD_SIGHTINGS and lo <= check["factor"] <= hi, check
