"""People for the varied simulator: a 3-D skeleton per pose, projected by the pinhole camera, drawn as shaded limbs."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from monitor.simulate.camera3d import Pinhole

SHIRTS = [(235, 235, 235), (215, 175, 115), (110, 60, 35), (60, 60, 190), (70, 190, 230), (80, 140, 70),
          (145, 145, 150), (180, 150, 225), (45, 45, 50), (65, 100, 150), (195, 120, 55), (120, 60, 120),
          (30, 30, 110), (160, 200, 200)]
TROUSERS = [(50, 40, 32), (32, 32, 36), (110, 110, 112), (130, 160, 180), (140, 90, 50), (70, 60, 52), (150, 80, 40)]
SKIN = [(145, 178, 220), (128, 162, 204), (108, 142, 186), (92, 122, 165)]
HAIR = [(20, 20, 24), (30, 34, 44), (50, 62, 84), (140, 140, 146)]
SHOES = [(25, 25, 28), (60, 70, 90), (200, 200, 205), (40, 50, 70)]
STAFF_SHIRTS = [(225, 195, 150), (240, 240, 240), (170, 120, 60)]  # uniform shirts of the officers
LIGHT = 1.18  # highlight factor on the lit (upper left) side of a limb
SHADE = 0.62  # silhouette edge darkening


@dataclass(frozen=True)
class Look:
    """Clothes and build of one person: colours (BGR) by part: shirt, sleeve, trousers, skin, hair, shoes."""

    colours: dict[str, tuple[int, int, int]]
    long_hair: bool
    height_m: float
    build: float  # width factor

    @classmethod
    def random(cls, seed: int, staff: bool = False) -> Look:
        rng = np.random.default_rng(seed)
        pick = lambda seq: tuple(int(v) for v in seq[int(rng.integers(len(seq)))])  # noqa: E731
        shirt = pick(STAFF_SHIRTS) if staff else pick(SHIRTS)
        colours = {"shirt": shirt, "sleeve": _shade(shirt, 0.92), "trousers": pick(TROUSERS), "skin": pick(SKIN),
                   "hair": pick(HAIR), "shoes": pick(SHOES)}
        return cls(colours, bool(rng.random() < 0.4), float(rng.uniform(1.55, 1.82)), float(rng.uniform(0.9, 1.15)))


@dataclass(frozen=True)
class Pose:
    """Where a person is and what they do: root = feet (standing) or seat centre on the floor (sitting)."""

    x: float
    y: float
    heading: float  # radians, direction faced in the floor plane (0 = +X, pi/2 = away from the camera)
    posture: str  # "walk" | "stand" | "sit"
    phase: float = 0.0  # walking cycle, radians
    seat_h: float = 0.46  # seat height when sitting
    hands_on_desk: bool = False
    lean: float = 0.0  # sideways shift of the upper body (m), a seated person's fidget


def _joints(pose: Pose, look: Look) -> dict[str, tuple[float, float, float]]:
    """Joint positions in the person's own frame (lateral, forward, up), metres."""
    s = look.height_m / 1.7
    b = look.build
    if pose.posture == "sit":
        hs, ln = pose.seat_h, pose.lean
        j = {"hipL": (-0.1 * b, 0.0, hs), "hipR": (0.1 * b, 0.0, hs),
             "kneeL": (-0.11 * b, 0.44 * s, hs + 0.04), "kneeR": (0.11 * b, 0.44 * s, hs + 0.04),
             "ankleL": (-0.11 * b, 0.5 * s, 0.08), "ankleR": (0.11 * b, 0.5 * s, 0.08),
             "toeL": (-0.11 * b, 0.62 * s, 0.03), "toeR": (0.11 * b, 0.62 * s, 0.03),
             "shL": (-0.19 * b + ln, -0.06, hs + 0.55 * s), "shR": (0.19 * b + ln, -0.06, hs + 0.55 * s),
             "neck": (ln, -0.05, hs + 0.62 * s), "head": (ln * 1.2, -0.03, hs + 0.73 * s)}
        if pose.hands_on_desk:
            j |= {"elbowL": (-0.24 * b, 0.12, hs + 0.3), "elbowR": (0.24 * b, 0.12, hs + 0.3),
                  "wristL": (-0.14, 0.42, 0.78), "wristR": (0.14, 0.42, 0.78)}
        else:
            j |= {"elbowL": (-0.22 * b, 0.06, hs + 0.3 * s), "elbowR": (0.22 * b, 0.06, hs + 0.3 * s),
                  "wristL": (-0.13, 0.3 * s, hs + 0.12), "wristR": (0.13, 0.3 * s, hs + 0.12)}
        return j
    swing = 0.42 * math.sin(pose.phase) if pose.posture == "walk" else 0.0
    bob = 0.025 * abs(math.cos(pose.phase)) if pose.posture == "walk" else 0.0
    j = {"hipL": (-0.09 * b, 0.0, 0.93 * s + bob), "hipR": (0.09 * b, 0.0, 0.93 * s + bob),
         "shL": (-0.19 * b, 0.0, 1.42 * s + bob), "shR": (0.19 * b, 0.0, 1.42 * s + bob),
         "neck": (0.0, 0.0, 1.5 * s + bob), "head": (0.0, 0.02, 1.6 * s + bob)}
    for side, sign in (("L", 1.0), ("R", -1.0)):
        th = sign * swing
        hip = j["hip" + side]
        knee = (hip[0], hip[1] + math.sin(th) * 0.45 * s, hip[2] - math.cos(th) * 0.45 * s)
        bend = max(0.0, -th) * 0.8
        ankle = (hip[0], knee[1] + math.sin(th - bend) * 0.43 * s, max(0.07, knee[2] - math.cos(th - bend) * 0.43 * s))
        j |= {"knee" + side: knee, "ankle" + side: ankle, "toe" + side: (hip[0], ankle[1] + 0.13 * s, 0.03)}
        sh = j["sh" + side]
        elbow = (sh[0] * 1.05, sh[1] - math.sin(th) * 0.3 * s, sh[2] - math.cos(th) * 0.3 * s)
        j |= {"elbow" + side: elbow, "wrist" + side: (sh[0] * 1.02, elbow[1] - math.sin(th) * 0.3 * s + 0.04, elbow[2] - 0.27 * s)}
    return j


# (from, to, radius m, colour key) in drawing units
LIMBS = [("hipL", "kneeL", 0.075, "trousers"), ("kneeL", "ankleL", 0.058, "trousers"), ("ankleL", "toeL", 0.045, "shoes"),
         ("hipR", "kneeR", 0.075, "trousers"), ("kneeR", "ankleR", 0.058, "trousers"), ("ankleR", "toeR", 0.045, "shoes"),
         ("shL", "elbowL", 0.052, "sleeve"), ("elbowL", "wristL", 0.042, "sleeve"),
         ("shR", "elbowR", 0.052, "sleeve"), ("elbowR", "wristR", 0.042, "sleeve"), ("neck", "head", 0.05, "skin")]


def _world(pose: Pose, local: dict[str, tuple[float, float, float]]) -> dict[str, np.ndarray]:
    fwd = np.array([math.cos(pose.heading), math.sin(pose.heading), 0.0])
    lat = np.array([math.sin(pose.heading), -math.cos(pose.heading), 0.0])
    root = np.array([pose.x, pose.y, 0.0])
    return {k: root + a * lat + b * fwd + np.array([0.0, 0.0, z]) for k, (a, b, z) in local.items()}


def _shade(c: tuple[int, int, int], f: float) -> tuple[int, int, int]:
    return tuple(int(min(255, max(0, v * f))) for v in c)  # type: ignore[return-value]


def _capsule(img: np.ndarray, a: np.ndarray, b: np.ndarray, width: float, color: tuple[int, int, int]) -> None:
    """A limb: dark silhouette edge, base colour, highlight offset towards the light (upper left)."""
    w = max(1.0, width)
    s = 16
    pa, pb = (a * s).astype(np.int64), (b * s).astype(np.int64)
    cv2.line(img, tuple(pa), tuple(pb), _shade(color, SHADE), max(1, round(w * 1.12)), cv2.LINE_AA, 4)
    cv2.line(img, tuple(pa), tuple(pb), color, max(1, round(w * 0.9)), cv2.LINE_AA, 4)
    if w >= 4:
        off = (np.array([-0.22, -0.12]) * w * s).astype(np.int64)
        cv2.line(img, tuple(pa + off), tuple(pb + off), _shade(color, LIGHT), max(1, round(w * 0.35)), cv2.LINE_AA, 4)


def _torso(img: np.ndarray, p: dict[str, np.ndarray], px_m: float, look: Look) -> None:
    widen = 0.035 * px_m
    shl, shr, hl, hr = p["shL"], p["shR"], p["hipL"], p["hipR"]
    across = shr - shl
    n = across / (np.linalg.norm(across) or 1.0)
    poly = np.array([shl - n * widen, shr + n * widen, hr + n * widen * 0.6, hl - n * widen * 0.6])
    s = 16
    hip_c, sh_c = (hl + hr) / 2, (shl + shr) / 2
    core = max(1, round(0.24 * look.build * px_m))  # the chest's depth: a side view is not a line
    cv2.line(img, tuple((hip_c * s).astype(np.int64)), tuple((sh_c * s).astype(np.int64)), _shade(look.colours["shirt"], 0.8), core, cv2.LINE_AA, 4)
    cv2.fillConvexPoly(img, (poly * s).astype(np.int32), _shade(look.colours["shirt"], SHADE), cv2.LINE_AA, 4)
    inner = poly + (poly.mean(0) - poly) * 0.12
    cv2.fillConvexPoly(img, (inner * s).astype(np.int32), look.colours["shirt"], cv2.LINE_AA, 4)
    lit = np.array([inner[0], (inner[0] + inner[1]) / 2, (inner[2] + inner[3]) / 2, inner[3]])
    lit = lit + (lit.mean(0) - lit) * 0.25
    cv2.fillConvexPoly(img, (lit * s).astype(np.int32), _shade(look.colours["shirt"], 1.1), cv2.LINE_AA, 4)


def _head(img: np.ndarray, c: np.ndarray, r: float, look: Look, facing_camera: bool) -> None:
    s = 16
    ci = tuple((c * s).astype(np.int64))
    ri = max(1, int(r * s))
    cv2.circle(img, ci, ri + 8, _shade(look.colours["skin"], SHADE), -1, cv2.LINE_AA, 4)
    if facing_camera:
        cv2.circle(img, ci, ri, look.colours["skin"], -1, cv2.LINE_AA, 4)
        cv2.ellipse(img, (ci[0], ci[1] - ri // 5), (int(ri * 1.05), int(ri * 0.85)), 0, 180, 360, look.colours["hair"], -1, cv2.LINE_AA, 4)
        if r >= 4:
            for side in (-1, 1):
                eye = (ci[0] + side * int(ri * 0.38), ci[1] + int(ri * 0.1))
                cv2.circle(img, eye, max(1, int(ri * 0.12)), (40, 40, 50), -1, cv2.LINE_AA, 4)
    else:
        cv2.circle(img, ci, ri, look.colours["hair"], -1, cv2.LINE_AA, 4)
        cv2.circle(img, (ci[0] - ri // 3, ci[1] - ri // 3), max(1, ri // 3), _shade(look.colours["hair"], 1.6), -1, cv2.LINE_AA, 4)
    if look.long_hair:
        cv2.ellipse(img, (ci[0], ci[1] + int(ri * 0.9)), (int(ri * 0.9), int(ri * 0.8)), 0, 0, 360, look.colours["hair"], -1, cv2.LINE_AA, 4)


def floor_shadow(img: np.ndarray, cam: Pinhole, x: float, y: float, radius: float = 0.32, factor: float = 0.72) -> None:
    """A soft dark ellipse on the floor under a person."""
    ring = np.array([[x + radius * math.cos(a), y + radius * 0.8 * math.sin(a), 0.0] for a in np.linspace(0, 2 * math.pi, 12)])
    pts = cam.project(ring)
    if np.isnan(pts).any():
        return
    x0, y0 = np.floor(pts.min(0)).astype(int) - 1
    x1, y1 = np.ceil(pts.max(0)).astype(int) + 2
    h, w = img.shape[:2]
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x1 <= x0 or y1 <= y0:
        return
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillConvexPoly(mask, np.rint(pts - (x0, y0)).astype(np.int32), 255)
    mask = cv2.GaussianBlur(mask, (5, 5), 0).astype(np.float32) / 255.0
    roi = img[y0:y1, x0:x1].astype(np.float32)
    img[y0:y1, x0:x1] = (roi * (1 - (1 - factor) * mask[..., None])).astype(np.uint8)


def figure_extent(cam: Pinhole, pose: Pose, look: Look) -> tuple[int, int, int, int] | None:
    """Pixel box (x0, y0, x1, y1) that holds everything draw_figure paints for a seated pose (no shadow)."""
    arr = np.array(list(_world(pose, _joints(pose, look)).values()))
    uv = cam.project(arr)
    if np.isnan(uv).any():
        return None
    pad = 0.25 * cam.focal_px / max(float(cam.depth(arr).min()), 0.3)  # head radius and limb widths
    (x0, y0), (x1, y1) = uv.min(0) - pad, uv.max(0) + pad
    return int(x0), int(y0), int(x1) + 2, int(y1) + 2


def draw_figure(img: np.ndarray, cam: Pinhole, pose: Pose, look: Look, origin: tuple[int, int] = (0, 0)) -> None:
    """Draw one person: limbs, torso and head sorted far to near, each as wide as its metres at that depth.

    origin: the image's top-left corner in camera pixels (drawing into a crop of the frame).
    """
    pts3 = _world(pose, _joints(pose, look))
    names = list(pts3)
    arr = np.array([pts3[k] for k in names])
    uv = cam.project(arr)
    if np.isnan(uv).any():
        return
    uv = uv - np.array(origin, float)
    depth = cam.depth(arr)
    p = dict(zip(names, uv))
    dz = dict(zip(names, depth))
    f = cam.focal_px
    if pose.posture != "sit" and origin == (0, 0):
        floor_shadow(img, cam, pose.x, pose.y)
    colours = look.colours
    parts: list[tuple[float, object]] = []
    facing = np.array([math.cos(pose.heading), math.sin(pose.heading)])
    to_cam = -np.array([pose.x, pose.y]) / (math.hypot(pose.x, pose.y) or 1.0)
    facing_camera = float(facing @ to_cam) > 0.2
    hidden = {"ankleL", "ankleR", "toeL", "toeR"} if pose.posture == "sit" and not facing_camera else set()
    for a, b, r, key in LIMBS:
        if b in hidden:  # seen from behind and above, the chair's seat hides a sitter's shins
            continue
        parts.append(((dz[a] + dz[b]) / 2, ("limb", a, b, 2 * r * f / ((dz[a] + dz[b]) / 2), colours[key])))
    for side in ("L", "R"):
        parts.append((dz["wrist" + side] - 0.01, ("hand", "wrist" + side, 0.05 * f / dz["wrist" + side])))
    torso_d = (dz["shL"] + dz["shR"] + dz["hipL"] + dz["hipR"]) / 4
    parts.append((torso_d, ("torso",)))
    head_d = dz["head"]
    parts.append((head_d - 0.02, ("head",)))
    for _, part in sorted(parts, key=lambda it: -it[0]):
        kind = part[0]
        if kind == "limb":
            _, a, b, width, colour = part
            _capsule(img, p[a], p[b], width, colour)
        elif kind == "hand":
            _, j, r = part
            c = tuple((p[j] * 16).astype(np.int64))
            cv2.circle(img, c, max(1, int(r * 16)), look.colours["skin"], -1, cv2.LINE_AA, 4)
        elif kind == "torso":
            _torso(img, p, f / torso_d, look)
        else:
            _head(img, p["head"], 0.105 * f / head_d * look.height_m / 1.7, look, facing_camera)
