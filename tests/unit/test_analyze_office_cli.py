"""`onestop analyze --video CAMERA=FILE ...`: bad input is one line naming the value and what is valid, with a non-zero exit; which services it counts as served."""

from __future__ import annotations

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


@pytest.mark.parametrize(("moved", "in_progress"), [(0.5, False), (0.0, True)])
def test_a_service_seen_beginning_in_the_first_seconds_is_served(
        site: Path, monkeypatch: pytest.MonkeyPatch, moved: float, in_progress: bool) -> None:
    """As in the single-video analysis: quay-1's citizen sits down 8 s in; seen arriving (motion over the
    spot's place), theirs is a service of the files, else one under way before them."""
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
                on = 8 <= t < 150 or 300 <= t < 400
                zones["spot-1"] = {"occupied": on, "count": float(on), "moved": moved if 5 <= t < 10 else 0.0}
            out.append({"t": t, "zones": zones})
        return out

    monkeypatch.setattr(analyze_office, "detect_seconds", lambda path, camera, config, report=None: (rows(camera), 600.0))
    config = load_config(site / "cameras.yaml")
    out = analyze_office.analyze_office_files({"quay-a": site / "a.mp4", "hall": site / "h.mp4"}, config)
    (quay1,) = [c for c in out["counters"] if c["id"] == "quay-1"]
    assert [s["in_progress"] for s in quay1["sessions"]] == [in_progress, False]
    assert quay1["served"] == (1 if in_progress else 2)
