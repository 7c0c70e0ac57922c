"""The real-footage truth builder and scorer (benchmarks/realfootage.py) on a tiny synthetic annotation file."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from monitor.site.config import load_config
from support import require

ROOT = Path(__file__).resolve().parents[2]
W, H, FPS = 80, 60, 4


def _load(name: str):  # noqa: ANN202 - module
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look the module up while the class is built
    spec.loader.exec_module(module)
    return module


rf = _load("realfootage")

# Person 1 walks in the zone for frames 0-2 (3 of second 0's 4 frames) and frame 4 (1 of second 1's).
# Person 2 stands in the zone all through second 1, feet on the floor 40 px down (boxes 20 px high).
# Person 3 stands far up (feet at y=12) in frames 0-7: inside the zone, which reaches up to them.
# Person 4 is flagged 0 (MOTChallenge "ignore") all through, feet in the zone: not counted, but "ignored" each second.
GT_ROWS = (
    [f"{f + 1},1,10,30,8,20,1,-1,-1,-1" for f in (0, 1, 2, 4)]
    + [f"{f + 1},2,40,20,8,20,1,-1,-1,-1" for f in range(4, 8)]
    + [f"{f + 1},3,60,2,4,10,1,-1,-1,-1" for f in range(8)]
    + [f"{f + 1},4,30,30,8,20,0,-1,-1,-1" for f in range(8)]
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require("ffmpeg", shutil.which("ffmpeg") is not None, "apt-get install ffmpeg")
    src = tmp_path_factory.mktemp("src")
    for i in range(9):  # one frame more than annotated: the partial last second is left out
        cv2.imwrite(str(src / f"frame_{i:04d}.png"), np.full((H, W, 3), 40 + 20 * i, np.uint8))
    (src / "gt.txt").write_text("\n".join(GT_ROWS) + "\n", encoding="utf-8")
    out = tmp_path_factory.mktemp("built") / "synthetic"
    rf.build(out, src, src / "gt.txt", FPS, "synthetic")
    return out


def test_truth_counts_people_in_the_zone_for_most_of_each_second(built: Path) -> None:
    truth = json.loads((built / "truth.json").read_text(encoding="utf-8"))
    assert truth["duration_s"] == 2 and truth["fps"] == FPS and (truth["width"], truth["height"]) == (W, H)
    assert [row["counts"]["waiting"] for row in truth["per_second"]] == [2, 2]  # {1, 3} then {2, 3}
    zone = truth["zones"][0]
    assert zone["kind"] == "waiting_area" and zone["points"] == zone["floor_points"]
    assert zone["points"][0] == [0.04, 0.18]  # farthest feet at 12/60 = 0.2, less the margin; the side band left out
    assert truth["summary"]["waiting_area_mean_count"] == 2.0 and truth["summary"]["baseline_mae"] == 0.0


def test_video_is_h264_at_the_sequence_rate(built: Path) -> None:
    with av.open(str(built / "scene.mp4")) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.codec_context.width, stream.codec_context.height) == (W, H)
        assert float(stream.average_rate) == FPS
        assert sum(1 for p in container.demux(stream) if p.size) == 9


def test_cameras_yaml_loads_with_a_person_height_from_the_boxes(built: Path) -> None:
    config = load_config(built / "cameras.yaml")
    zone = config.camera("synthetic").zones[0]
    assert zone.kind == "waiting_area"
    near, far = zone.person_height
    # boxes are 20 px high with feet at y 50 and 40, 10 px high at y 12: the line fit is steeper near
    assert 20 / H < near < 0.5 and 0.0 < far < 12 / H


def test_score_is_zero_for_the_truth_itself_and_counts_missing_seconds_as_zero(built: Path) -> None:
    truth = json.loads((built / "truth.json").read_text(encoding="utf-8"))
    perfect = {"per_second": [{"t": r["t"], "zones": {"waiting": {"count": r["counts"]["waiting"]}}} for r in truth["per_second"]]}
    assert rf.score(truth, perfect)["count_mae"] == 0.0
    half = {"per_second": perfect["per_second"][:1]}
    assert rf.score(truth, half)["count_mae"] == 1.0


def _estimate(counts: list[int]) -> dict:
    return {"per_second": [{"t": t, "zones": {"waiting": {"count": n}}} for t, n in enumerate(counts)]}


def test_people_flagged_ignore_are_kept_apart_from_the_count(built: Path) -> None:
    truth = json.loads((built / "truth.json").read_text(encoding="utf-8"))
    assert [row["counts"]["waiting"] for row in truth["per_second"]] == [2, 2]  # person 4 is not in the count
    assert [row["ignored"]["waiting"] for row in truth["per_second"]] == [1, 1]  # but is there in both seconds
    assert truth["summary"]["ignored_person_seconds"] == 2


def test_dontcare_mae_neither_requires_nor_blames_the_ignored(built: Path) -> None:
    truth = json.loads((built / "truth.json").read_text(encoding="utf-8"))  # counts [2, 2], ignored [1, 1]
    without, with_them = rf.score(truth, _estimate([2, 2])), rf.score(truth, _estimate([3, 3]))
    assert (without["count_mae"], without["count_mae_dontcare"]) == (0.0, 0.0)
    assert (with_them["count_mae"], with_them["count_mae_dontcare"]) == (1.0, 0.0)  # strict blames counting person 4
    assert rf.score(truth, _estimate([4, 3]))["count_mae_dontcare"] == 0.5  # one more than count + ignored in second 0
    assert rf.score(truth, _estimate([1, 2]))["count_mae_dontcare"] == 0.5  # one missed in second 0


def test_truth_without_ignored_scores_dontcare_as_strict(built: Path) -> None:
    truth = json.loads((built / "truth.json").read_text(encoding="utf-8"))
    old = {**truth, "per_second": [{"t": r["t"], "counts": r["counts"]} for r in truth["per_second"]]}
    for counts in ([2, 2], [3, 3], [4, 1], [0, 5]):
        got = rf.score(old, _estimate(counts))
        assert got["count_mae_dontcare"] == got["count_mae"], counts


def test_retruth_rewrites_the_truth_from_its_annotations(built: Path, tmp_path: Path) -> None:
    truth = json.loads((built / "truth.json").read_text(encoding="utf-8"))
    old = {**truth, "per_second": [{"t": r["t"], "counts": r["counts"]} for r in truth["per_second"]],
           "summary": {k: v for k, v in truth["summary"].items() if k != "ignored_person_seconds"}}
    (tmp_path / "truth.json").write_text(json.dumps(old), encoding="utf-8")
    assert rf.main(["retruth", str(tmp_path)]) == 0
    assert json.loads((tmp_path / "truth.json").read_text(encoding="utf-8")) == truth


def test_bad_annotation_line_names_file_and_line(tmp_path: Path) -> None:
    gt = tmp_path / "gt.txt"
    gt.write_text("1,1,10,30,8,20,1\n2,x,10,30,8,20,1\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"gt\.txt:2: not a MOT row"):
        rf.load_mot_gt(gt)


def test_cli_reports_a_missing_truth_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert rf.main(["score", str(tmp_path), str(tmp_path / "none.json")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1


def test_mot17_classes_decide_who_is_a_person(tmp_path: Path) -> None:
    """MOT16/17 rows (9 columns) carry a class: pedestrians count, static people and distractors are
    ignore marks, occluders and reflections are no one. MOT15 rows (10 columns, world coordinates) do not."""
    gt = tmp_path / "gt.txt"
    gt.write_text("\n".join([
        "1,1,10,30,8,20,1,1,0.9",  # pedestrian
        "1,2,20,30,8,20,0,7,1.0",  # static person (MOT flags it 0 as well)
        "1,3,30,30,8,20,0,8,0.5",  # distractor
        "1,4,40,30,8,20,0,9,1.0",  # occluder: not a person
        "1,5,50,30,8,20,0,12,0.3",  # reflection: not a person
        "1,6,60,30,8,20,1,2,0.8",  # person on a vehicle: flagged 1, still an ignore mark
        "1,7,70,30,8,20,1,-1,-1,-1",  # MOT15: counts
    ]) + "\n", encoding="utf-8")
    assert sorted(b.person for b in rf.load_mot_gt(gt)) == [1, 7]
    assert sorted(b.person for b in rf.load_mot_gt(gt, with_ignored=True)) == [1, 2, 3, 6, 7]


CAVIAR_XML = """<?xml version="1.0"?>
<dataset name="tiny">
  <frame number="0">
    <objectlist>
      <object id="0"><orientation>90</orientation><box h="20" w="8" xc="14" yc="40"/>
        <hypothesislist><hypothesis evaluation="1.0" id="1" prev="1.0"><movement>walking</movement><role>walker</role></hypothesis></hypothesislist></object>
      <object id="3"><box h="6" w="6" xc="50" yc="50"/>
        <hypothesislist><hypothesis evaluation="1.0" id="1" prev="1.0"><role>left object</role></hypothesis></hypothesislist></object>
    </objectlist>
    <grouplist><group id="0"><box h="30" w="30" xc="20" yc="40"/></group></grouplist>
  </frame>
  <frame number="1">
    <objectlist><object id="0"><box h="20" w="8" xc="16" yc="40"/></object></objectlist>
  </frame>
</dataset>
"""


def test_caviar_ground_truth_becomes_mot_rows_of_people_only(tmp_path: Path) -> None:
    # frame and id from 1, the box from its centre; the bag and the group's box are not people
    assert rf.caviar_rows(CAVIAR_XML) == ["1,1,10.0,30.0,8.0,20.0,1,-1,-1,-1", "2,1,12.0,30.0,8.0,20.0,1,-1,-1,-1"]
    (tmp_path / "gt.xml").write_text(CAVIAR_XML, encoding="utf-8")
    assert rf.main(["caviar", str(tmp_path / "gt.xml"), str(tmp_path / "gt.txt")]) == 0
    assert (tmp_path / "gt.txt").read_text(encoding="utf-8").splitlines() == rf.caviar_rows(CAVIAR_XML)


@pytest.mark.parametrize(("text", "says"), [
    ("<dataset><frame", "not XML"),
    ("<dataset></dataset>", "no <frame>/<objectlist>/<object> boxes"),
    ('<dataset><frame number="0"><objectlist><object id="0"/></objectlist></frame></dataset>', "has no <box>"),
])
def test_caviar_input_that_is_not_its_ground_truth_is_one_line_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, says: str) -> None:
    (tmp_path / "gt.xml").write_text(text, encoding="utf-8")
    assert rf.main(["caviar", str(tmp_path / "gt.xml"), str(tmp_path / "gt.txt")]) == 1
    err = capsys.readouterr().err.strip()
    assert says in err and "gt.xml" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "gt.txt").exists()


# ---------------------------------------------------------------- rebuild from git copies (real_footage.yaml)

def _git(repo: Path, *args: str) -> str:
    import subprocess

    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.org", "PATH": "/usr/bin:/bin", "HOME": str(repo)}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env).stdout.strip()


@pytest.fixture()
def mirrors(tmp_path: Path) -> tuple[Path, str, str]:
    """A folder of git copies: owner+seq (a clone) holds 9 frames and gt.txt at one commit; (mirrors, commit, sha256)."""
    import hashlib

    require("git", shutil.which("git") is not None, "apt-get install git")
    require("ffmpeg", shutil.which("ffmpeg") is not None, "apt-get install ffmpeg")
    repo = tmp_path / "mirrors" / "owner+seq"
    (repo / "seq" / "img1").mkdir(parents=True)
    for i in range(9):
        cv2.imwrite(str(repo / "seq" / "img1" / f"{i + 1:06d}.png"), np.full((H, W, 3), 40 + 20 * i, np.uint8))
    (repo / "seq" / "img1" / "det.txt").write_text("not an image\n", encoding="utf-8")
    gt = ("\n".join(GT_ROWS) + "\n").encode()
    (repo / "seq" / "gt.txt").write_bytes(gt)
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "frames")
    return tmp_path / "mirrors", _git(repo, "rev-parse", "HEAD"), hashlib.sha256(gt).hexdigest()


def _manifest(path: Path, commit: str, sha: str, **change: object) -> Path:
    import yaml

    seq = {"folder": "real", "fps": FPS, "seconds": 2, "mean": 2.0,
           "frames": {"repo": "owner/seq", "commit": commit, "dir": "seq/img1", "images": 9},
           "gt": {"repo": "owner/seq", "commit": commit, "path": "seq/gt.txt", "format": "mot", "sha256": sha}}
    for key, value in change.items():  # "gt.sha256": ... changes a nested field
        *parents, last = key.split(".")
        target = seq
        for p in parents:
            target = target[p]
        target[last] = value
    path.write_text(yaml.safe_dump({"sequences": {"synthetic": seq}}), encoding="utf-8")
    return path


def test_rebuild_builds_a_sequence_from_a_git_copy_at_its_commit(mirrors: tuple[Path, str, str], tmp_path: Path,
                                                                 built: Path) -> None:
    where, commit, sha = mirrors
    manifest = _manifest(tmp_path / "m.yaml", commit, sha)
    assert rf.main(["rebuild", "--mirrors", str(where), "--root", str(tmp_path / "data"), "--manifest", str(manifest)]) == 0
    out = tmp_path / "data" / "real" / "synthetic"
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    # the same counts as the folder built by hand, from the frames and annotations at that commit
    assert truth["per_second"] == json.loads((built / "truth.json").read_text(encoding="utf-8"))["per_second"]
    assert truth["source"]["commit"] == commit and truth["source"]["gt_path"] == "seq/gt.txt"
    assert sorted(p.name for p in (tmp_path / "data" / "real" / "sources" / "synthetic" / "frames").iterdir())[0] == "000001.png"
    assert len(list((tmp_path / "data" / "real" / "sources" / "synthetic" / "frames").iterdir())) == 9  # det.txt left out


@pytest.mark.parametrize(("change", "says"), [
    ({"gt.sha256": "0" * 64}, "expected 0000"),  # another annotation file than the benchmark's
    ({"frames.images": 10}, "holds 9 images"),
    ({"mean": 2.5}, "built 2 s at a mean count of 2.0, the manifest says 2 s at 2.5"),
    ({"frames.repo": "other/seq"}, "other/seq: no git copy"),
    ({"gt.path": "seq/missing.txt"}, "no seq/missing.txt"),
])
def test_rebuild_refuses_sources_that_are_not_the_manifests_in_one_line(
        mirrors: tuple[Path, str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str], change: dict, says: str) -> None:
    where, commit, sha = mirrors
    manifest = _manifest(tmp_path / "m.yaml", commit, sha, **change)
    assert rf.main(["rebuild", "--mirrors", str(where), "--root", str(tmp_path / "data"), "--manifest", str(manifest)]) == 1
    err = capsys.readouterr().err.strip()
    assert says in err and len(err.splitlines()) == 1


@pytest.mark.parametrize(("change", "says"), [
    ({"frames.commit": "abc"}, "frames.commit is 'abc'"),
    ({"gt.format": "xml"}, "gt.format is 'xml'"),
    ({"folder": "elsewhere"}, "folder is 'elsewhere'"),
    ({"fps": 0}, "fps is 0"),
])
def test_a_bad_manifest_field_is_named_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   change: dict, says: str) -> None:
    manifest = _manifest(tmp_path / "m.yaml", "a" * 40, "b" * 64, **change)
    assert rf.main(["rebuild", "--mirrors", str(tmp_path), "--root", str(tmp_path / "data"), "--manifest", str(manifest)]) == 1
    err = capsys.readouterr().err.strip()
    assert says in err and "m.yaml" in err and "synthetic" in err and len(err.splitlines()) == 1


def test_the_shipped_manifest_lists_the_scored_sequences(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    sequences = rf.load_manifest(rf.MANIFEST)
    assert sorted(q.name for q in sequences if q.folder == "real") == [
        "caviar-ols1cor", "mot17-09", "pets-s2l1", "pets-s3mf1", "tud-campus", "tud-stadtmitte", "venice-2"]
    assert rf.main(["rebuild", "--mirrors", str(tmp_path), "--root", str(tmp_path), "nowhere"]) == 1
    assert "no sequence nowhere" in capsys.readouterr().err


def test_rebuild_decodes_a_video_and_converts_caviar_ground_truth(mirrors: tuple[Path, str, str], tmp_path: Path) -> None:
    import hashlib
    import subprocess

    where, _, _ = mirrors
    repo = where / "owner+seq"
    video = repo / "seq" / "clip.mp4"  # the 9 frames as one video file
    subprocess.run(["ffmpeg", "-loglevel", "error", "-framerate", str(FPS), "-i", str(repo / "seq" / "img1" / "%06d.png"),
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", str(video)], check=True)
    objects = {}  # CAVIAR: frames and ids from 0, boxes by their centre; person 4 (flagged ignore above) left out
    for row in GT_ROWS:
        f, i, x, y, w, h, flag = (float(v) for v in row.split(",")[:7])
        if flag:
            objects.setdefault(int(f) - 1, []).append(
                f'<object id="{int(i) - 1}"><box xc="{x + w / 2}" yc="{y + h / 2}" w="{w}" h="{h}"/></object>')
    xml = "<dataset>" + "".join(f'<frame number="{f}"><objectlist>{"".join(o)}</objectlist></frame>'
                                for f, o in sorted(objects.items())) + "</dataset>"
    (repo / "seq" / "gt.xml").write_text(xml, encoding="utf-8")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "video")
    commit = _git(repo, "rev-parse", "HEAD")
    manifest = _manifest(tmp_path / "m.yaml", commit, hashlib.sha256(xml.encode()).hexdigest(), **{
        "frames": {"repo": "owner/seq", "commit": commit, "video": "seq/clip.mp4", "images": 9,
                   "sha256": hashlib.sha256(video.read_bytes()).hexdigest()},
        "gt.path": "seq/gt.xml", "gt.format": "caviar", "gt.commit": commit})
    assert rf.main(["rebuild", "--mirrors", str(where), "--root", str(tmp_path / "data"), "--manifest", str(manifest)]) == 0
    sources = tmp_path / "data" / "real" / "sources" / "synthetic"
    assert len(list((sources / "frames").glob("*.png"))) == 9
    assert (sources / "gt.txt").read_text(encoding="utf-8").splitlines() == rf.caviar_rows(xml)
    truth = json.loads((tmp_path / "data" / "real" / "synthetic" / "truth.json").read_text(encoding="utf-8"))
    assert [r["counts"]["waiting"] for r in truth["per_second"]] == [2, 2]
