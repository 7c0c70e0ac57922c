"""benchmarks/full_hall_waits.py: waits from synthetic per-second samples of a full hall."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("full_hall_waits", ROOT / "benchmarks" / "full_hall_waits.py")
fhw = importlib.util.module_from_spec(spec)
sys.modules["full_hall_waits"] = fhw
spec.loader.exec_module(fhw)


def test_an_exact_count_gives_the_waits_and_a_short_one_shortens_them() -> None:
    cam = fhw.camera(3)
    for seed in range(2):
        q, seen, err = fhw.one_run(cam, 3, 10, 0.0, 15.0, 1200, seed)
        assert seen == q and abs(err) < 0.02
        q2, seen2, err2 = fhw.one_run(cam, 3, 10, 0.03, 15.0, 1200, seed)
        assert q2 == q and seen2 < 0.8 * q and err2 < err - 0.05  # the same queue, a fifth and more hidden


@pytest.mark.parametrize("args", [["--counters", "0"], ["--hidden", "1.5"], ["--minutes", "0.5"]])
def test_bad_arguments_are_one_line_errors(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert fhw.main(args) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and args[0] in err and len(err.splitlines()) == 1
