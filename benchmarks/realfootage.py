"""Real footage with ground truth for the waiting-area count: build it from a public MOT-style sequence, score `onestop analyze` on it.

Usage:
  python benchmarks/realfootage.py build OUT_DIR --frames SRC --gt GT_TXT --fps 7 [--name NAME]
  python benchmarks/realfootage.py caviar GT_XML GT_TXT
  python benchmarks/realfootage.py retruth DIR
  python benchmarks/realfootage.py score DIR RESULT_JSON [--json]
  python benchmarks/realfootage.py rebuild --mirrors DIR [--root DATA_DIR] [--manifest YAML] [NAME ...]

SRC is a video file (any format OpenCV reads) or a folder of numbered images; GT_TXT is a
MOTChallenge ground-truth file (frame, id, left, top, width, height, flag, ...; frame 1 is the
first image). `build` writes OUT_DIR/scene.mp4 (H.264 at the sequence's own frame rate, a keyframe
every 2 s), OUT_DIR/truth.json (the development scenes' format, so ../shared/devscenes/score.py
reads it too) and OUT_DIR/cameras.yaml (one camera, one waiting_area zone, person_height set from
the annotations). `retruth` rewrites DIR/truth.json from the annotations named in it (source.gt), keeping
its zone, frame rate, size and length, without touching scene.mp4 or cameras.yaml (after a change to
the definitions below). `rebuild` builds every sequence of benchmarks/real_footage.yaml (or those named)
from git copies of the repositories holding them (`git clone --bare https://github.com/OWNER/NAME
DIR/OWNER+NAME`): it takes the frames and annotations at the pinned commit, checks their number and
checksums, and writes DATA_DIR/<folder>/<name>/ (the sources under DATA_DIR/<folder>/sources/<name>/), then
checks the built truth's length and mean count against the file. Where the public sequences come from and
why: docs/real-footage.md. The footage itself stays outside the project: its licences do not allow
shipping it.

Ground-truth definitions (also written into truth.json):
- A person's position is the bottom centre of their box (their feet), as in the zone editor.
- The zone (`waiting`) covers the walkable floor: from just above the farthest feet annotated anywhere
  in the sequence down to the bottom edge, leaving out a band of 4 % of the width at the left and right
  edges, where people are only partly in the picture and the annotations are inconsistent.
- A person counts in second t when their feet are inside the zone in more than half of the frames
  of that second (frames t*fps .. (t+1)*fps - 1); a frame where they are not annotated counts as
  outside. Seconds run to the last full second of the sequence.
- MOT16/MOT17 files (9 columns: ..., flag, class, visibility) also mark what each box is: pedestrians
  (class 1) are read as above; a person on a vehicle, a static person and a distractor (classes 2, 7
  and 8: MOT's own evaluation neither counts nor blames them) become "ignore" marks; vehicles,
  occluders and reflections (every other class) are not people and are left out.
- Annotations whose flag (7th column) is 0 are MOTChallenge's "ignore" marks: they do not count (nor
  place the zone, nor fit person_height); every other box counts, occluded people included (they are
  present). Each second also carries `ignored`: the people counted by the same rule over all rows,
  flag 0 included, less the count (at least 0): those present that second only as "ignore" marks.
- `score` gives two MAEs: `count_mae` against the count alone (strict), and `count_mae_dontcare`, MOT's
  reading of the marks ("don't care": neither counting nor missing them is an error), where a second's
  error is how far the estimate falls outside count .. count + ignored.
- person_height [near, far]: a straight line fitted to box height against feet height over all
  annotations, read at the zone's bottom and top edges (what a user sets with the zone editor's
  two markers), as fractions of the frame height.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import yaml

ZONE_ID = "waiting"
ZONE_MARGIN = 0.02  # the zone's top edge sits this far (fraction of frame height) above the farthest feet
# People half out of the picture at the left/right edge are annotated in some frames and not in others
# (PETS S2L1: about one sampled frame in seven shows such an unannotated person): the zone leaves that band out.
SIDE_MARGIN = 0.04
MIN_FEET_SPREAD = 0.05  # feet rows spanning less than this (of the frame height) give no line to fit
GOP_S = 2.0  # keyframe interval, as in the development scenes
CRF = 20  # x264 quality: visually close to the source JPEGs/MPEG-4 at these small sizes
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}
MANIFEST = Path(__file__).resolve().with_name("real_footage.yaml")
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "data"  # ../data beside the checkout (accuracy.py's --real-root is its real/)


@dataclass(frozen=True)
class Box:
    """One annotated person in one frame (frame is 0-based, coordinates in pixels)."""

    frame: int
    person: int
    left: float
    top: float
    width: float
    height: float

    def feet(self, size: tuple[int, int]) -> tuple[float, float]:
        """Bottom centre of the box, normalised to the frame (x, y in 0..1 inside the picture)."""
        return (self.left + self.width / 2) / size[0], (self.top + self.height) / size[1]


# MOT16/17 classes (the 8th of 9 columns) that are people MOT's evaluation marks "don't care"; classes
# other than these and 1 (pedestrian) are not people
MOT17_IGNORED_CLASSES = {2, 7, 8}  # person on a vehicle, static person, distractor


def load_mot_gt(path: Path, with_ignored: bool = False) -> list[Box]:
    """The boxes of a MOTChallenge ground-truth file, without the rows flagged 0 (ignore) unless with_ignored.

    In a MOT16/17 file (9 columns) the class decides too (MOT17_IGNORED_CLASSES are ignore marks, other
    non-pedestrians are left out); MOT15's 10 columns end in world coordinates, not a class."""
    boxes = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        cols = line.split(",")
        try:
            frame, person, left, top, width, height = (float(c) for c in cols[:6])
            flag = float(cols[6]) if len(cols) > 6 else 1.0
            kind = int(float(cols[7])) if len(cols) == 9 else 1
        except ValueError:
            raise ValueError(f"{path}:{n}: not a MOT row (frame,id,left,top,width,height,...): {line[:60]!r}") from None
        if kind != 1:
            if kind not in MOT17_IGNORED_CLASSES:
                continue
            flag = 0.0
        if flag == 0 and not with_ignored:
            continue
        boxes.append(Box(int(frame) - 1, int(person), left, top, width, height))
    if not boxes:
        raise ValueError(f"{path}: no annotations")
    return boxes


def point_in_polygon(x: float, y: float, poly: list[list[float]]) -> bool:
    """Ray casting; points on the left/top edges are inside, on the right/bottom edges outside."""
    inside = False
    for (x0, y0), (x1, y1) in zip(poly, poly[1:] + poly[:1]):
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            inside = not inside
    return inside


def floor_zone(boxes: list[Box], size: tuple[int, int]) -> list[list[float]]:
    """The walkable floor as a rectangle: from just above the farthest feet to the bottom edge, less a band at each side."""
    top = min(b.feet(size)[1] for b in boxes)
    top = max(0.0, math.floor((top - ZONE_MARGIN) * 100) / 100)
    return [[SIDE_MARGIN, top], [1.0 - SIDE_MARGIN, top], [1.0 - SIDE_MARGIN, 1.0], [SIDE_MARGIN, 1.0]]


def person_height(boxes: list[Box], size: tuple[int, int], zone: list[list[float]]) -> list[float]:
    """[near, far] person height / frame height at the zone's bottom and top edges (line fit over the boxes)."""
    y = np.array([b.feet(size)[1] for b in boxes])
    h = np.array([b.height / size[1] for b in boxes])
    if np.ptp(y) < MIN_FEET_SPREAD:  # everyone walks along one row: no perspective to measure
        return [round(float(h.mean()), 3)] * 2
    slope, intercept = np.polyfit(y, h, 1)
    ys = [p[1] for p in zone]
    near, far = (float(np.clip(slope * v + intercept, 0.01, 1.0)) for v in (max(ys), min(ys)))
    return [round(near, 3), round(far, 3)]


def per_second_counts(boxes: list[Box], frames: int, fps: float, size: tuple[int, int],
                      zone: list[list[float]]) -> list[int]:
    """People whose feet are in the zone for more than half of each full second's frames."""
    seconds = int(frames / fps + 1e-9)
    inside: dict[tuple[int, int], int] = {}
    for b in boxes:
        if b.frame >= frames:
            continue
        t = int(b.frame / fps + 1e-9)
        if t < seconds and point_in_polygon(*b.feet(size), zone):
            inside[(t, b.person)] = inside.get((t, b.person), 0) + 1
    counts = [0] * seconds
    for (t, _), n in inside.items():
        in_second = int((t + 1) * fps + 1e-9) - int(t * fps + 1e-9)
        counts[t] += n * 2 > in_second
    return counts


def baseline_mae(counts: list[int]) -> float:
    """MAE of predicting the sequence's mean count every second."""
    arr = np.asarray(counts, float)
    return float(np.abs(arr - arr.mean()).mean()) if arr.size else float("nan")


def truth_document(name: str, source: dict, counts: list[int], fps: float, size: tuple[int, int],
                   zone: list[list[float]], all_counts: list[int] | None = None) -> dict:
    """truth.json in the development scenes' format (one waiting_area zone, no counters).

    all_counts: the counts over all rows, flag 0 included; each second's excess over counts is written as "ignored".
    """
    ignored = [max(0, a - n) for n, a in zip(counts, all_counts or counts, strict=True)]
    return {
        "name": name, "source": source, "fps": fps, "width": size[0], "height": size[1],
        "duration_s": len(counts),
        "zones": [{"id": ZONE_ID, "kind": "waiting_area", "counter": None, "points": zone, "floor_points": zone}],
        "per_second": [{"t": t, "counts": {ZONE_ID: n}, "ignored": {ZONE_ID: k}}
                       for t, (n, k) in enumerate(zip(counts, ignored))],
        "citizens": [], "staff_absences": [],
        "definitions": {
            "position": "bottom centre of the annotated box (the feet)",
            "zone": "x 0.04 .. 0.96 (people half out of the picture are not always annotated), from just above the farthest annotated feet to the bottom edge",
            "count": "people whose feet are inside the zone in more than half of the frames of second t",
            "ignored": "MOTChallenge rows flagged 0 are left out of count (and of the zone); occluded people still count",
            "per_second.ignored": "people counted by the same rule over all rows (flag 0 included) less the count, "
                                  "at least 0: present that second only as ignore marks; MOT's don't care, scored by "
                                  "count_mae_dontcare (error outside count .. count + ignored), not by count_mae",
            "duration_s": "full seconds of the sequence; the frames of a last partial second are left out",
        },
        "summary": {"waiting_area_mean_count": round(float(np.mean(counts)), 3) if counts else 0.0,
                    "max_count": max(counts, default=0), "seconds": len(counts),
                    "baseline_mae": round(baseline_mae(counts), 3),
                    "ignored_person_seconds": sum(ignored)},
    }


def cameras_yaml(name: str, zone: list[list[float]], heights: list[float]) -> dict:
    """One camera playing scene.mp4 with the waiting-area zone, project defaults otherwise."""
    return {
        "site": {"name": f"Real footage: {name}", "timezone": "Asia/Ho_Chi_Minh", "language": "en"},
        "storage": {"recordings": "recordings", "database": "onestop.db"},
        "cameras": [{
            "id": name, "name": name, "streams": {"main": "scene.mp4"},
            "zones": [{"id": ZONE_ID, "kind": "waiting_area", "points": zone, "person_height": heights}],
        }],
    }


def read_frames(src: Path):  # noqa: ANN201 - generator of BGR arrays
    """BGR frames of a video file or of a folder of images (sorted by name)."""
    if src.is_dir():
        files = sorted(p for p in src.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise ValueError(f"{src}: no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
        for p in files:
            img = cv2.imread(str(p))
            if img is None:
                raise ValueError(f"{p}: not a readable image")
            yield img
        return
    cap = cv2.VideoCapture(str(src))
    if not cap.isOpened():
        raise ValueError(f"{src}: not a readable video")
    try:
        while True:
            ok, img = cap.read()
            if not ok:
                return
            yield img
    finally:
        cap.release()


def encode_h264(src: Path, out: Path, fps: float) -> tuple[int, tuple[int, int]]:
    """Re-encode the frames of src as H.264 (yuv420p, no B-frames, faststart) at fps; returns (frames, size)."""
    frames, proc, size = 0, None, (0, 0)
    try:
        for img in read_frames(src):
            if proc is None:
                size = (img.shape[1], img.shape[0])
                gop = max(1, round(GOP_S * fps))
                proc = subprocess.Popen(
                    ["ffmpeg", "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "bgr24",
                     "-s", f"{size[0]}x{size[1]}", "-framerate", f"{fps:g}", "-i", "-",
                     "-c:v", "libx264", "-preset", "medium", "-crf", str(CRF), "-pix_fmt", "yuv420p",
                     "-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0", "-bf", "0",
                     "-movflags", "+faststart", str(out)],
                    stdin=subprocess.PIPE)
            proc.stdin.write(np.ascontiguousarray(img).tobytes())
            frames += 1
    finally:
        if proc is not None:
            proc.stdin.close()
            if proc.wait() != 0:
                raise RuntimeError(f"ffmpeg failed writing {out}")
    if frames == 0:
        raise ValueError(f"{src}: no frames")
    return frames, size


def build(out_dir: Path, frames_src: Path, gt: Path, fps: float, name: str, source: dict | None = None) -> dict:
    """Write scene.mp4, truth.json and cameras.yaml for one sequence; returns the truth document."""
    boxes = load_mot_gt(gt)
    out_dir.mkdir(parents=True, exist_ok=True)
    frames, size = encode_h264(frames_src, out_dir / "scene.mp4", fps)
    last = max(b.frame for b in boxes) + 1
    if last > frames:
        raise ValueError(f"{gt}: annotates frame {last} but {frames_src} has {frames} frames")
    zone = floor_zone(boxes, size)
    counts = per_second_counts(boxes, frames, fps, size, zone)
    all_counts = per_second_counts(load_mot_gt(gt, with_ignored=True), frames, fps, size, zone)
    truth = truth_document(name, {"frames": str(frames_src), "gt": str(gt), **(source or {})}, counts, fps, size, zone,
                           all_counts)
    (out_dir / "truth.json").write_text(json.dumps(truth, indent=1), encoding="utf-8")
    config = cameras_yaml(name, zone, person_height(boxes, size, zone))
    (out_dir / "cameras.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return truth


def caviar_rows(xml_text: str) -> list[str]:
    """The MOTChallenge gt.txt lines of a CAVIAR ground-truth file (`<frame number=N>` from 0, each
    `<objectlist>/<object id=K>` with `<box xc yc w h>`): frame N+1, id K+1, left = xc - w/2,
    top = yc - h/2, w, h, flag 1. Every object there is a person (CAVIAR keeps left luggage and the
    like in the same list only with an object role: those are left out); `<grouplist>` boxes, which
    frame several of the same people together, are not people of their own."""
    rows = []
    for frame in ET.fromstring(xml_text).iter("frame"):
        number = int(frame.get("number", "-1"))
        if number < 0:
            raise ValueError(f"a <frame> without a number >= 0: {frame.attrib}")
        for obj in frame.findall("objectlist/object"):
            role = (obj.findtext("hypothesislist/hypothesis/role") or "").strip().lower()
            if role in ("left object", "object"):
                continue
            box = obj.find("box")
            if box is None:
                raise ValueError(f"frame {number}: object {obj.get('id')} has no <box>")
            xc, yc, w, h = (float(box.get(k, "nan")) for k in ("xc", "yc", "w", "h"))
            if not all(math.isfinite(v) for v in (xc, yc, w, h)) or w <= 0 or h <= 0:
                raise ValueError(f"frame {number}: object {obj.get('id')} has no usable box: {box.attrib}")
            rows.append((number + 1, int(obj.get("id", "-1")) + 1, xc - w / 2, yc - h / 2, w, h))
    return [f"{f},{i},{x:.1f},{y:.1f},{w:.1f},{h:.1f},1,-1,-1,-1" for f, i, x, y, w, h in sorted(rows)]


@dataclass(frozen=True)
class Sequence:
    """One public sequence of the manifest (benchmarks/real_footage.yaml)."""

    name: str
    folder: str  # "real" (scored) or "real-alt"
    frames: dict  # repo, commit, images, and dir (a folder of images) or video + sha256
    gt: dict  # repo, commit, path, sha256, format (mot | caviar)
    fps: float
    seconds: int
    mean: float


def load_manifest(path: Path) -> list[Sequence]:
    """The sequences of a manifest file; a ValueError naming the file, sequence and field for anything amiss."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ValueError(f"{path}: not YAML ({str(err).splitlines()[0]})") from None
    items = doc.get("sequences") if isinstance(doc, dict) else None
    if not isinstance(items, dict) or not items:
        raise ValueError(f"{path}: needs a `sequences:` mapping of name -> sequence")
    out = []
    for name, d in items.items():
        where = f"{path}: sequence {name}"

        def need(obj: object, key: str, kind: type | tuple[type, ...], field: str) -> object:
            value = obj.get(key) if isinstance(obj, dict) else None
            if not isinstance(value, kind) or isinstance(value, bool):
                raise ValueError(f"{where}: {field} is {value!r}; it must be a {getattr(kind, '__name__', 'number')}")
            return value

        frames, gt = need(d, "frames", dict, "frames"), need(d, "gt", dict, "gt")
        for obj, label in ((frames, "frames"), (gt, "gt")):
            need(obj, "repo", str, f"{label}.repo")
            commit = need(obj, "commit", str, f"{label}.commit")
            if len(commit) != 40 or any(c not in "0123456789abcdef" for c in commit):
                raise ValueError(f"{where}: {label}.commit is {commit!r}; it must be a full 40-digit commit id")
        if ("dir" in frames) == ("video" in frames):
            raise ValueError(f"{where}: frames needs either dir (a folder of images) or video (a video file)")
        need(frames, "dir" if "dir" in frames else "video", str, "frames.dir" if "dir" in frames else "frames.video")
        if "video" in frames:
            need(frames, "sha256", str, "frames.sha256")
        need(frames, "images", int, "frames.images")
        need(gt, "path", str, "gt.path")
        need(gt, "sha256", str, "gt.sha256")
        if gt.get("format") not in ("mot", "caviar"):
            raise ValueError(f"{where}: gt.format is {gt.get('format')!r}; it must be mot or caviar")
        folder = need(d, "folder", str, "folder")
        if folder not in ("real", "real-alt"):
            raise ValueError(f"{where}: folder is {folder!r}; it must be real or real-alt")
        fps = float(need(d, "fps", (int, float), "fps"))
        if fps <= 0:
            raise ValueError(f"{where}: fps is {fps}; it must be > 0")
        out.append(Sequence(str(name), folder, frames, gt, fps, int(need(d, "seconds", int, "seconds")),
                            float(need(d, "mean", (int, float), "mean"))))
    return out


def find_mirror(mirrors: Path, repo: str) -> Path:
    """The git copy of repo (OWNER/NAME) under mirrors: OWNER+NAME (bare or not), OWNER+NAME.git or OWNER+NAME/repo."""
    base = repo.replace("/", "+")
    for cand in (mirrors / base, mirrors / f"{base}.git", mirrors / base / "repo"):
        # a clone (with .git/) or a bare copy; not a folder that merely lies inside some other repository
        if (cand / ".git").exists() or (cand.is_dir() and subprocess.run(
                ["git", "-C", str(cand), "rev-parse", "--is-bare-repository"], capture_output=True,
                text=True).stdout.strip() == "true"):
            return cand
    raise ValueError(f"{repo}: no git copy under {mirrors} (git clone --bare https://github.com/{repo} {mirrors / base})")


def _blob(mirror: Path, commit: str, path: str, repo: str) -> bytes:
    """A file of the repository at commit."""
    proc = subprocess.run(["git", "-C", str(mirror), "cat-file", "blob", f"{commit}:{path}"], capture_output=True)
    if proc.returncode != 0:
        raise ValueError(f"{repo}: no {path} at {commit[:12]} in {mirror} ({proc.stderr.decode(errors='replace').strip()})")
    return proc.stdout


def _checked(data: bytes, sha256: str, what: str) -> bytes:
    got = hashlib.sha256(data).hexdigest()
    if got != sha256:
        raise ValueError(f"{what}: sha256 {got}, expected {sha256} (another file than the one this benchmark was built on)")
    return data


def fetch_sources(seq: Sequence, mirrors: Path, dest: Path) -> tuple[Path, Path]:
    """Write a sequence's frames (dest/frames/) and MOT ground truth (dest/gt.txt) from the git copies; returns both."""
    f, g = seq.frames, seq.gt
    frames_dir = dest / "frames"
    if frames_dir.exists():
        shutil.rmtree(frames_dir)
    frames_dir.mkdir(parents=True)
    mirror = find_mirror(mirrors, f["repo"])
    if "dir" in f:
        listing = subprocess.run(["git", "-C", str(mirror), "ls-tree", "--name-only", f["commit"], f["dir"].rstrip("/") + "/"],
                                 capture_output=True, text=True)
        if listing.returncode != 0:
            raise ValueError(f"{f['repo']}: no {f['dir']} at {f['commit'][:12]} in {mirror}")
        images = sorted(p for p in listing.stdout.splitlines() if Path(p).suffix.lower() in IMAGE_SUFFIXES)
        if len(images) != f["images"]:
            raise ValueError(f"{seq.name}: {f['dir']} holds {len(images)} images at {f['commit'][:12]}, expected {f['images']}")
        for p in images:
            (frames_dir / Path(p).name).write_bytes(_blob(mirror, f["commit"], p, f["repo"]))
    else:
        video = dest / Path(f["video"]).name
        video.write_bytes(_checked(_blob(mirror, f["commit"], f["video"], f["repo"]), f["sha256"], f"{f['repo']}:{f['video']}"))
        # every frame the stream holds, once: without passthrough ffmpeg repeats one near the start of the CAVIAR clip
        proc = subprocess.run(["ffmpeg", "-y", "-loglevel", "error", "-i", str(video), "-fps_mode", "passthrough",
                               str(frames_dir / "%04d.png")], capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"ffmpeg could not decode {video}: {proc.stderr.strip().splitlines()[-1:]}")
        n = sum(1 for _ in frames_dir.glob("*.png"))
        if n != f["images"]:
            raise ValueError(f"{seq.name}: {video.name} decodes to {n} frames, expected {f['images']}")
    data = _checked(_blob(find_mirror(mirrors, g["repo"]), g["commit"], g["path"], g["repo"]), g["sha256"],
                    f"{g['repo']}:{g['path']}")
    gt = dest / "gt.txt"
    if g["format"] == "caviar":
        (dest / Path(g["path"]).name).write_bytes(data)
        gt.write_text("\n".join(caviar_rows(data.decode("utf-8"))) + "\n", encoding="utf-8")
    else:
        gt.write_bytes(data)
    return frames_dir, gt


def rebuild(sequences: list[Sequence], mirrors: Path, data: Path) -> list[tuple[Sequence, dict]]:
    """Build each sequence into data/<folder>/<name>/ from the git copies under mirrors, its sources kept in
    data/<folder>/sources/<name>/; a ValueError when a built truth's length or mean count is not the manifest's."""
    out = []
    for seq in sequences:
        frames, gt = fetch_sources(seq, mirrors, data / seq.folder / "sources" / seq.name)
        source = {"repo": seq.frames["repo"], "commit": seq.frames["commit"],
                  "gt_repo": seq.gt["repo"], "gt_commit": seq.gt["commit"], "gt_path": seq.gt["path"]}
        truth = build(data / seq.folder / seq.name, frames, gt, seq.fps, seq.name, source)
        got_s, got_mean = truth["duration_s"], truth["summary"]["waiting_area_mean_count"]
        if got_s != seq.seconds or abs(got_mean - seq.mean) > 0.001:
            raise ValueError(f"{seq.name}: built {got_s} s at a mean count of {got_mean}, the manifest says "
                             f"{seq.seconds} s at {seq.mean}")
        out.append((seq, truth))
    return out


def retruth(out_dir: Path) -> dict:
    """Rewrite out_dir/truth.json from its source.gt with the current definitions, keeping its zone, fps, size and length."""
    old = json.loads((out_dir / "truth.json").read_text(encoding="utf-8"))
    gt = Path(old["source"]["gt"])
    fps, size, seconds = float(old["fps"]), (int(old["width"]), int(old["height"])), int(old["duration_s"])
    zone = next(z["points"] for z in old["zones"] if z["kind"] == "waiting_area")
    frames = math.ceil(seconds * fps - 1e-9)  # the frames of those seconds; those of a partial last one never count
    counts = per_second_counts(load_mot_gt(gt), frames, fps, size, zone)
    all_counts = per_second_counts(load_mot_gt(gt, with_ignored=True), frames, fps, size, zone)
    truth = truth_document(old["name"], old["source"], counts, fps, size, zone, all_counts)
    (out_dir / "truth.json").write_text(json.dumps(truth, indent=1), encoding="utf-8")
    return truth


def score(truth: dict, result: dict) -> dict:
    """Per-second waiting-area count MAE of an `onestop analyze` result (strict; ignore marks as don't care), and the baseline."""
    zone = next(z["id"] for z in truth["zones"] if z["kind"] == "waiting_area")
    true = np.array([row["counts"].get(zone, 0) for row in truth["per_second"]], float)
    ignored = np.array([row.get("ignored", {}).get(zone, 0) for row in truth["per_second"]], float)
    est = np.zeros_like(true)
    for row in result.get("per_second", []):
        t = int(row["t"])
        if 0 <= t < len(est) and zone in row["zones"]:
            est[t] = float(row["zones"][zone]["count"])
    return {
        "seconds": int(true.size), "true_mean": float(true.mean()), "found_mean": float(est.mean()),
        "count_mae": float(np.abs(est - true).mean()),
        "count_mae_dontcare": float(np.maximum(0.0, np.maximum(true - est, est - (true + ignored))).mean()),
        "baseline_mae": baseline_mae(true.tolist()),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="Write scene.mp4, truth.json, cameras.yaml.")
    b.add_argument("out_dir", type=Path)
    b.add_argument("--frames", type=Path, required=True, help="Video file or folder of images.")
    b.add_argument("--gt", type=Path, required=True, help="MOTChallenge gt.txt.")
    b.add_argument("--fps", type=float, required=True, help="The sequence's own frame rate.")
    b.add_argument("--name", help="Camera id (default: the folder name).")
    c = sub.add_parser("caviar", help="Write a MOTChallenge gt.txt from a CAVIAR ground-truth XML.")
    c.add_argument("xml", type=Path)
    c.add_argument("gt", type=Path)
    r = sub.add_parser("retruth", help="Rewrite DIR/truth.json from its annotations (source.gt), keeping zone and length.")
    r.add_argument("dir", type=Path)
    s = sub.add_parser("score", help="Count MAE of an `onestop analyze --json` result.")
    s.add_argument("dir", type=Path)
    s.add_argument("result", type=Path)
    s.add_argument("--json", action="store_true", help="Print JSON instead of key=value.")
    rb = sub.add_parser("rebuild", help="Build the manifest's sequences from git copies of their repositories.")
    rb.add_argument("names", nargs="*", help="Only these sequences (default: all).")
    rb.add_argument("--mirrors", type=Path, required=True, help="Folder of git copies, one per repository (OWNER+NAME).")
    rb.add_argument("--root", type=Path, default=DEFAULT_DATA, help=f"Where real/ and real-alt/ go (default {DEFAULT_DATA}).")
    rb.add_argument("--manifest", type=Path, default=MANIFEST)
    args = ap.parse_args(argv)
    try:
        if args.cmd == "build":
            if args.fps <= 0:
                raise ValueError(f"--fps: {args.fps} is not a frame rate (> 0)")
            truth = build(args.out_dir, args.frames, args.gt, args.fps, args.name or args.out_dir.name)
            print(f"{args.out_dir}: {truth['duration_s']} s, {json.dumps(truth['summary'])}")
        elif args.cmd == "caviar":
            try:
                rows = caviar_rows(args.xml.read_text(encoding="utf-8"))
            except ET.ParseError as err:
                raise ValueError(f"{args.xml}: not XML ({err})") from None
            except ValueError as err:
                raise ValueError(f"{args.xml}: {err}") from None
            if not rows:
                raise ValueError(f"{args.xml}: no <frame>/<objectlist>/<object> boxes (is it CAVIAR ground truth?)")
            args.gt.write_text("\n".join(rows) + "\n", encoding="utf-8")
            print(f"{args.gt}: {len(rows)} boxes")
        elif args.cmd == "rebuild":
            sequences = load_manifest(args.manifest)
            unknown = sorted(set(args.names) - {q.name for q in sequences})
            if unknown:
                raise ValueError(f"{args.manifest}: no sequence {', '.join(unknown)} (it has {', '.join(q.name for q in sequences)})")
            chosen = [q for q in sequences if not args.names or q.name in args.names]
            for seq, truth in rebuild(chosen, args.mirrors, args.root):
                print(f"{args.root / seq.folder / seq.name}: {truth['duration_s']} s, mean count "
                      f"{truth['summary']['waiting_area_mean_count']}", flush=True)
        elif args.cmd == "retruth":
            truth = retruth(args.dir)
            print(f"{args.dir}: {truth['duration_s']} s, {json.dumps(truth['summary'])}")
        else:
            truth = json.loads((args.dir / "truth.json").read_text(encoding="utf-8"))
            out = score(truth, json.loads(args.result.read_text(encoding="utf-8")))
            print(json.dumps(out) if args.json else " ".join(f"{k}={v:.3f}" for k, v in out.items()))
    except (ValueError, OSError, RuntimeError, KeyError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
