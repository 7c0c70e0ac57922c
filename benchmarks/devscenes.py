"""Score `onestop analyze` on the development scenes (../shared/devscenes) with their own score.py.

For each scene folder: cameras.yaml from `score.py zones SCENE --floor` (zones drawn as floor
footprints, as the zone editor asks), `onestop analyze --json`, then `score.py score`. Prints one
row per scene with every score.py figure and the CPU seconds of the analysis.

    .venv/bin/python benchmarks/devscenes.py [--root ../shared/devscenes] [--body] [SCENE ...]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SCENES = Path("/work/shared/devscenes")


def _config(scene: Path, score: Path, floor: bool, out: Path) -> Path:
    cmd = [sys.executable, str(score), "zones", str(scene)] + (["--floor"] if floor else [])
    zones = yaml.safe_load(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)["zones"]
    doc = {
        "site": {"name": scene.name, "timezone": "UTC"},
        "storage": {"recordings": str(out / "rec"), "database": str(out / "db.sqlite")},
        "defaults": {"detect_fps": 5, "detect_width": 320},
        "cameras": [{"id": "office", "name": scene.name, "streams": {"main": str(scene / "scene.mp4")}, "zones": zones}],
    }
    path = out / f"{scene.name}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def _run(scene: Path, score: Path, floor: bool, out: Path) -> str:
    cfg = _config(scene, score, floor, out)
    result = out / f"{scene.name}.json"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([str(ROOT / ".venv/bin/onestop"), "analyze", str(scene / "scene.mp4"), "-c", str(cfg),
                    "--camera", "office", "--json", str(result)], check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    figures = subprocess.run([sys.executable, str(score), "score", str(scene), str(result)],
                             check=True, capture_output=True, text=True).stdout.strip()
    return f"{scene.name:12} {figures} cpu_s={cpu:.1f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenes", nargs="*", help="scene folder names (default: all)")
    ap.add_argument("--root", type=Path, default=DEFAULT_SCENES, help="folder holding score.py and the scenes")
    ap.add_argument("--body", action="store_true", help="draw the zones as body areas instead of floor footprints")
    ap.add_argument("--keep", type=Path, help="write the configs and analyze JSON here instead of a temporary folder")
    args = ap.parse_args()
    score = args.root / "score.py"
    if not score.is_file():
        sys.exit(f"{score}: not found (--root must hold score.py and the scene folders)")
    names = args.scenes or sorted(p.name for p in args.root.iterdir() if (p / "truth.json").is_file())
    with tempfile.TemporaryDirectory() as tmp:
        out = args.keep or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        for name in names:
            print(_run(args.root / name, score, not args.body, out), flush=True)


if __name__ == "__main__":
    main()
