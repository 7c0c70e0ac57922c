"""`onestop analyze --video CAMERA=FILE ...`: bad input is one line naming the value and what is valid, with a non-zero exit; which services it counts as served."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli.main import main
from officesite import GOOD


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "cameras.yaml").write_text(GOOD, encoding="utf-8")
    for name in ("a.mp4", "h.mp4"):
        (tmp_path / name).write_bytes(b"not a video")
    return tmp_path


def _run(site: Path, *args: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(main, ["analyze", "-c", str(site / "cameras.yaml"), *args])
    lines = [line for line in result.output.splitlines()
             if line.strip() and line != "analysing" and not line.startswith(("Usage:", "Try "))]  # the progress bar's label
    return result.exit_code, lines


@pytest.mark.parametrize("args, expected", [
    (["--video", "quay-a={a}", "--video", "hall={dir}/missing.mp4"], "file '{dir}/missing.mp4' does not exist"),
    (["--video", "quay-a={a}", "--video", "lobby={h}"], "unknown camera 'lobby' (known: quay-a, hall)"),
    (["--video", "quay-a={a}"], "no video for camera 'hall', which counter quay-2, queue sanh need(s); add --video hall=FILE"),
    (["--video", "quay-a"], "'quay-a' is not CAMERA=FILE"),
    (["--video", "quay-a={a}", "--video", "quay-a={h}"], "camera 'quay-a' is given twice"),
    (["{a}", "--video", "quay-a={a}"], "give either VIDEO with --camera, or --video CAMERA=FILE for each camera"),
    (["{a}"], "give VIDEO and --camera, or --video CAMERA=FILE for each camera"),
    (["{a}", "--camera", "quay-a", "--csv", "x.csv"], "--csv goes with --video CAMERA=FILE"),
])
def test_bad_input_is_one_line_and_a_nonzero_exit(site: Path, args: list[str], expected: str) -> None:
    fill = {"a": str(site / "a.mp4"), "h": str(site / "h.mp4"), "dir": str(site)}
    code, lines = _run(site, *[a.format(**fill) for a in args])
    assert code != 0 and len(lines) == 1, lines
    assert expected.format(**fill) in lines[0], lines
    assert "Traceback" not in lines[0]


def test_a_file_that_is_not_a_video_is_one_line(site: Path) -> None:
    code, lines = _run(site, "--video", f"quay-a={site / 'a.mp4'}", "--video", f"hall={site / 'h.mp4'}")
    assert code == 1 and len(lines) == 1, lines
    assert lines[0] == f"Error: {site / 'a.mp4'} (camera quay-a): Invalid data found when processing input", lines


def _office_files(site: Path, monkeypatch: pytest.MonkeyPatch, spot_1: Callable[[int], tuple[bool, float]],
                  left: Callable[[int], float] = lambda t: 0.0) -> dict:
    """analyze_office_files over 600 s of made-up samples: both officers seated; quay-1's spot from
    spot_1(t) -> (occupied, moved); the hall's left area counts left(t); everything else empty."""
    from monitor.counters import analyze_office
    from monitor.site.config import load_config

    def rows(camera) -> list[dict]:  # noqa: ANN001
        out = []
        for t in range(600):
            zones = {z.id: {"occupied": False, "count": 0.0} for z in camera.zones}
            for seat in ("seat-1", "ghe"):
                if seat in zones:
                    zones[seat] = {"occupied": True, "count": 1.0}
            if "spot-1" in zones:
                on, moved = spot_1(t)
                zones["spot-1"] = {"occupied": on, "count": float(on), "moved": moved}
            if "left" in zones:
                zones["left"] = {"occupied": left(t) > 0, "count": left(t)}
            out.append({"t": t, "zones": zones})
        return out

    monkeypatch.setattr(analyze_office, "detect_checked", lambda path, camera, config, report=None: (
        rows(camera), 600.0, {"sightings": 0, "factor": None, "from": None, "analysed_with": None}, camera))
    config = load_config(site / "cameras.yaml")
    out = analyze_office.analyze_office_files({"quay-a": site / "a.mp4", "hall": site / "h.mp4"}, config)
    (quay1,) = [c for c in out["counters"] if c["id"] == "quay-1"]
    return {"quay-1": quay1, "queues": out["queues"]}


@pytest.mark.parametrize(("moved", "in_progress"), [(0.5, False), (0.0, True)])
def test_a_service_seen_beginning_in_the_first_seconds_is_served(
        site: Path, monkeypatch: pytest.MonkeyPatch, moved: float, in_progress: bool) -> None:
    """As in the single-video analysis: quay-1's citizen sits down 8 s in; seen arriving (motion over the
    spot's place), theirs is a service of the files, else one under way before them."""
    out = _office_files(site, monkeypatch, lambda t: (8 <= t < 150 or 300 <= t < 400, moved if 5 <= t < 10 else 0.0))
    quay1 = out["quay-1"]
    assert [s["in_progress"] for s in quay1["sessions"]] == [in_progress, False]
    assert quay1["served"] == (1 if in_progress else 2)


@pytest.mark.parametrize(("first", "bound"), [(3, True), (40, False)])
def test_a_citizen_waiting_when_the_files_begin_has_a_lower_bound_wait(
        site: Path, monkeypatch: pytest.MonkeyPatch, first: int, bound: bool) -> None:
    """As in the single-video analysis: a citizen found in the hall `first` s into the files, nobody seen
    walking in, and served at quay-1 from 100 s; another arrives at 60 s and is served from 300 s. Found in
    the first 20 s, the first was waiting before the files began: their wait is a lower bound, out of the means."""
    out = _office_files(site, monkeypatch, lambda t: (100 <= t < 200 or 300 <= t < 400, 0.5 if t in (98, 298) else 0.0),
                        lambda t: float(first <= t < 100) + float(60 <= t < 300))
    quay1, (sanh,) = out["quay-1"], out["queues"]
    assert [s["wait_s"] for s in quay1["sessions"]] == [100.0 - first, 240.0]
    assert [s["wait_lower_bound"] for s in quay1["sessions"]] == [bound, False]
    expected = 240.0 if bound else (100.0 - first + 240.0) / 2
    assert quay1["mean_wait_s"] == pytest.approx(expected)
    assert sanh["mean_wait_s"] == pytest.approx(expected)


def test_the_progress_bar_goes_on_through_a_camera_analysed_again(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A camera whose markers detect_checked finds off reports a second pass (shares 1..2): the bar grows by a pass and
    its label names the camera, instead of sitting full while that video is analysed again."""
    from monitor.counters import analyze_office

    def checked(path, camera, config, report=None):  # noqa: ANN001, ANN202
        shares = (0.5, 1.0, 1.5, 2.0) if camera.id == "hall" else (0.5, 1.0)
        for share in shares:
            report(share)
        return ([{"t": t, "zones": {z.id: {"occupied": False, "count": 0.0} for z in camera.zones}} for t in range(60)],
                60.0, {"sightings": 40, "factor": 1.47 if camera.id == "hall" else 1.0, "from": "staff_seats",
                           "analysed_with": None}, camera)

    monkeypatch.setattr(analyze_office, "detect_checked", checked)
    result = CliRunner().invoke(main, ["analyze", "-c", str(site / "cameras.yaml"), "--video", f"quay-a={site / 'a.mp4'}",
                                       "--video", f"hall={site / 'h.mp4'}", "--json", str(site / "out.json")])
    assert result.exit_code == 0, result.output
    assert "analysing again (hall: person_height corrected)" in result.stderr
