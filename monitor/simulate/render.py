"""The simulated office's OpenCV renderer: background, furniture occluders and people drawn from model states."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from monitor.simulate.model import (
    CHAIR_BACK_FRAC,
    DEPTH_STRETCH,
    HEAD_R,
    HEAD_UP,
    OFFICE_SEAT_FRAC,
    PERSON_M,
    SEAT_FRAC,
    STRIDE_M,
    TORSO_FRAC,
    Actor,
    ActorState,
    Layout,
    Pt,
)

SHIRTS = [(245, 245, 245), (225, 185, 120), (95, 55, 30), (55, 55, 195), (70, 200, 235), (80, 145, 70),
          (150, 150, 155), (185, 160, 235), (40, 40, 45), (60, 95, 145), (200, 125, 60), (125, 65, 125)]
TROUSERS = [(45, 35, 30), (30, 30, 32), (115, 115, 115), (125, 165, 185), (145, 95, 55), (75, 65, 55)]
SKIN = [(150, 182, 222), (132, 166, 206), (112, 146, 190), (96, 126, 170)]
HAIR = [(22, 22, 26), (32, 36, 46), (55, 68, 90), (150, 150, 155)]
OFFICER_SHIRT, OFFICER_TROUSERS = (220, 190, 145), (55, 45, 40)


@dataclass(frozen=True)
class Look:
    shirt: tuple[int, int, int]
    trousers: tuple[int, int, int]
    skin: tuple[int, int, int]
    hair: tuple[int, int, int]
    long_hair: bool
    scale: float  # height relative to the mean person
    build: float  # width relative to the mean person

    @classmethod
    def of(cls, actor: Actor) -> Look:
        rng = np.random.default_rng(actor.look)
        pick = lambda seq: seq[int(rng.integers(len(seq)))]  # noqa: E731
        officer = actor.role == "officer"
        return cls(
            OFFICER_SHIRT if officer else pick(SHIRTS), OFFICER_TROUSERS if officer else pick(TROUSERS),
            pick(SKIN), pick(HAIR[:3]) if officer else pick(HAIR), bool(rng.random() < 0.4),
            float(rng.uniform(0.93, 1.07)), float(rng.uniform(0.9, 1.15)),
        )


def _shade(c: tuple[int, int, int], f: float) -> tuple[int, int, int]:
    return tuple(int(min(255, v * f)) for v in c)  # type: ignore[return-value]


class _Pen:
    """Sub-pixel anti-aliased drawing around a person's foot point, in units of their height."""

    S = 16  # cv2 fixed-point shift of 4 bits

    def __init__(self, img: np.ndarray, fx: float, fy: float, hp: float) -> None:
        self.img, self.fx, self.fy, self.hp = img, fx, fy, hp

    def p(self, dx: float, up: float) -> tuple[int, int]:
        return (int((self.fx + dx * self.hp) * self.S), int((self.fy - up * self.hp) * self.S))

    def poly(self, pts: list[tuple[float, float]], color) -> None:
        arr = np.array([self.p(*q) for q in pts], np.int32)
        cv2.fillConvexPoly(self.img, arr, color, cv2.LINE_AA, 4)

    def line(self, a: tuple[float, float], b: tuple[float, float], width: float, color) -> None:
        cv2.line(self.img, self.p(*a), self.p(*b), color, max(1, int(width * self.hp)), cv2.LINE_AA, 4)

    def circle(self, c: tuple[float, float], r: float, color) -> None:
        cv2.circle(self.img, self.p(*c), int(r * self.hp * self.S), color, -1, cv2.LINE_AA, 4)

    def ellipse(self, c: tuple[float, float], ax: tuple[float, float], a0: float, a1: float, color) -> None:
        axes = (int(ax[0] * self.hp * self.S), int(ax[1] * self.hp * self.S))
        cv2.ellipse(self.img, self.p(*c), axes, 0, a0, a1, color, -1, cv2.LINE_AA, 4)


def _darken_ellipse(img: np.ndarray, c: tuple[int, int], axes: tuple[int, int], factor: float) -> None:
    """A soft shadow: scale the pixels inside an ellipse."""
    h, w = img.shape[:2]
    x0, x1 = max(c[0] - axes[0], 0), min(c[0] + axes[0] + 1, w)
    y0, y1 = max(c[1] - axes[1], 0), min(c[1] + axes[1] + 1, h)
    if x1 <= x0 or y1 <= y0:
        return
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.ellipse(mask, (c[0] - x0, c[1] - y0), axes, 0, 0, 360, 255, -1)
    roi = img[y0:y1, x0:x1]
    roi[mask > 0] = (roi[mask > 0] * factor).astype(np.uint8)


def _draw_head(pen: _Pen, c: tuple[float, float], look: Look, front: bool) -> None:
    r = HEAD_R
    if front:
        pen.circle(c, r, look.skin)
        pen.ellipse((c[0], c[1] + 0.012), (r * 1.06, r * 0.95), 180, 360, look.hair)
    else:
        if look.long_hair:
            pen.ellipse((c[0], c[1] - 0.06), (r * 1.0, r * 1.3), 0, 360, look.hair)
        pen.circle(c, r * 1.02, look.hair)


def _torso(pen: _Pen, hip: tuple[float, float], sh: tuple[float, float], look: Look) -> None:
    sw, hw = 0.125 * look.build, 0.095 * look.build
    pen.poly([(hip[0] - hw, hip[1]), (hip[0] + hw, hip[1]), (sh[0] + sw, sh[1] - 0.035), (sh[0] + sw - 0.03, sh[1]),
              (sh[0] - sw + 0.03, sh[1]), (sh[0] - sw, sh[1] - 0.035)], look.shirt)


def draw_person(img: np.ndarray, st: ActorState, layout: Layout, look: Look) -> None:
    """Draw one actor (standing/walking or seated) with its feet or chair at (st.x, st.y)."""
    h, w = img.shape[:2]
    hp = layout.height(st.y) * h * look.scale
    pen = _Pen(img, st.x * w, st.y * h, hp)
    if st.posture == "sit":
        _draw_seated(pen, st, look)
        return
    hx, hy = st.heading[0] * layout.aspect, st.heading[1] * DEPTH_STRETCH
    norm = math.hypot(hx, hy) or 1.0
    hx, hy = hx / norm, hy / norm
    swing = math.sin(2 * math.pi * st.walked_m / STRIDE_M)
    bob = 0.012 * abs(math.cos(2 * math.pi * st.walked_m / STRIDE_M))
    _darken_ellipse(img, (int(st.x * w), int(st.y * h)), (int(0.16 * hp), int(0.035 * hp)), 0.72)
    hip, sh = (0.0, 0.47 + bob), (0.0, 0.80 + bob)
    for side in (-1, 1):
        foot = (side * 0.05 + side * swing * 0.11 * hx, max(0.0, side * swing) * 0.03 - side * swing * 0.035 * hy)
        pen.line((side * 0.05, hip[1]), foot, 0.085 * look.build, look.trousers)
        pen.ellipse((foot[0], foot[1] - 0.005), (0.04, 0.02), 0, 360, (35, 35, 40))
    _torso(pen, hip, sh, look)
    arm = _shade(look.shirt, 0.85)
    for side in (-1, 1):
        hand = (side * 0.15 - side * swing * 0.07 * hx, 0.46 + bob + side * swing * 0.02 * hy)
        pen.line((side * 0.12 * look.build, sh[1] - 0.03), hand, 0.055, arm)
        pen.circle(hand, 0.025, look.skin)
    pen.line((0, sh[1]), (0, sh[1] + 0.04), 0.05, look.skin)
    _draw_head(pen, (0.0, 0.895 + bob), look, front=hy > 0.05)


def _draw_seated(pen: _Pen, st: ActorState, look: Look) -> None:
    front = st.actor.role == "officer"  # officers face the camera, citizens face the counter
    hip_up = OFFICE_SEAT_FRAC if front else SEAT_FRAC
    sh = (st.lean, hip_up + TORSO_FRAC)
    head = (st.lean * 1.3, sh[1] + HEAD_UP)
    if front:
        for side in (-1, 1):
            knee = (side * 0.07, hip_up - 0.06)
            pen.line((side * 0.06, hip_up), knee, 0.09, look.trousers)
            pen.line(knee, (side * 0.07, 0.0), 0.075, look.trousers)
    _torso(pen, (0.0, hip_up), sh, look)
    arm = _shade(look.shirt, 0.85)
    for side in (-1, 1):
        hand = (side * 0.09 + st.lean * 0.5, hip_up + 0.06 if front else hip_up + 0.04)
        pen.line((side * 0.12 * look.build + st.lean, sh[1] - 0.03), hand, 0.055, arm)
        pen.circle(hand, 0.025, look.skin)
    pen.line((st.lean, sh[1]), (head[0], sh[1] + 0.04), 0.05, look.skin)
    _draw_head(pen, head, look, front=front)


@dataclass(frozen=True)
class _Occluder:
    """A piece of furniture that hides actors standing behind it (depth = its floor row)."""

    depth: float
    box: tuple[int, int, int, int]  # y0, y1, x0, x1
    mask: np.ndarray


class CameraRenderer:
    """Pixels for one camera: a static background painted once, actors and nuisances per frame."""

    def __init__(self, layout: Layout, size: tuple[int, int], seed: int, noise_sigma: float, tint: int = 0) -> None:
        self.layout, self.size = layout, size
        rng = np.random.default_rng(seed)
        self.background, self._occluders = _paint_background(layout, size, rng, tint)
        w, h = size
        self._noise = np.rint(rng.normal(0, noise_sigma, (h + 16, w + 32, 3))).astype(np.int16)
        self._noise_rng = np.random.default_rng([seed, 1])
        self._looks: dict[str, Look] = {}

    def render(self, states: list[ActorState], ticket: tuple[int, bool], light: float, t: float) -> np.ndarray:
        """One BGR frame at size: background, display, actors in depth order, lighting and noise."""
        img = self.background.copy()
        self._draw_display(img, ticket, t)
        items: list[tuple[float, int, object]] = [(s.y, 0, s) for s in states]
        items += [(o.depth, 1, o) for o in self._occluders]
        for _, kind, obj in sorted(items, key=lambda it: (it[0], it[1])):
            if kind == 0:
                st = obj  # type: ignore[assignment]
                look = self._looks.get(st.actor.id) or self._looks.setdefault(st.actor.id, Look.of(st.actor))
                draw_person(img, st, self.layout, look)
            else:
                y0, y1, x0, x1 = obj.box  # type: ignore[attr-defined]
                np.copyto(img[y0:y1, x0:x1], self.background[y0:y1, x0:x1], where=obj.mask)  # type: ignore[attr-defined]
        if abs(light) >= 0.5:
            img = cv2.add(img, (light, light, light, 0))
        w, h = self.size
        dy, dx = self._noise_rng.integers(0, 16), self._noise_rng.integers(0, 32)
        return cv2.add(img, self._noise[dy : dy + h, dx : dx + w], dtype=cv2.CV_8U)

    def _draw_display(self, img: np.ndarray, ticket: tuple[int, bool], t: float) -> None:
        number, blinking = ticket
        if blinking and int(t * 2) % 2:
            return
        h, w = img.shape[:2]
        x0, y0, x1, y1 = self.layout.display
        bw, bh = (x1 - x0) * w, (y1 - y0) * h
        text = str(number)
        scale = bh * 0.6 / 22
        (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_DUPLEX, scale, 1)
        scale *= min(1.0, bw * 0.85 / tw)
        (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_DUPLEX, scale, 1)
        org = (int(x0 * w + (bw - tw) / 2), int(y0 * h + (bh + th) / 2))
        cv2.putText(img, text, org, cv2.FONT_HERSHEY_DUPLEX, scale, (40, 40, 250), max(1, int(bh / 14)), cv2.LINE_AA)


def _paint_background(lay: Layout, size: tuple[int, int], rng: np.random.Generator, tint: int) -> tuple[np.ndarray, list[_Occluder]]:
    """The empty office as seen by one camera, and the furniture that can hide people."""
    w, h = size
    img = np.zeros((h, w, 3), np.uint8)
    P = lambda x, y: (int(round(x * w)), int(round(y * h)))  # noqa: E731
    hy = int(lay.horizon * h)
    wall = np.array([(185, 212, 224), (190, 218, 205)][tint % 2], np.float32)
    img[:hy] = (wall * np.linspace(1.04, 0.94, hy)[:, None]).clip(0, 255).astype(np.uint8)[:, None, :]
    _paint_floor(img, lay, rng)
    cv2.rectangle(img, P(0, lay.horizon - 0.018), P(1, lay.horizon), (95, 105, 115), -1)
    _paint_wall_items(img, lay, P, rng)
    occ: list[_Occluder] = []
    # furniture back to front; each piece that can stand in front of a person becomes an occluder
    _paint_office_chair(img, lay, P)
    occ.append(_paint_desk(img, lay, P))
    occ.append(_paint_chair(img, lay, lay.citizen_seat, P))
    d = lay.waiting_seats
    cv2.line(img, P(d[0][0], d[0][1] - 0.02), P(d[-1][0], d[-1][1] - 0.02), (120, 120, 125), max(2, h // 180))
    occ += [_paint_chair(img, lay, s, P) for s in d]
    occ.append(_paint_plant(img, lay, lay.plant, 1.0, P))
    _paint_plant(img, lay, (lay.door[2] + 0.05 if not lay.flipped else lay.door[0] - 0.05, lay.horizon + 0.03), 0.8, P)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    vignette = 1.0 - 0.16 * (((xx / w - 0.5) ** 2 + (yy / h - 0.45) ** 2) / 0.5)
    img = (img * vignette[..., None]).clip(0, 255).astype(np.uint8)
    grain = rng.normal(0, 2.0, img.shape).astype(np.float32)
    img = cv2.GaussianBlur((img + grain).clip(0, 255).astype(np.uint8), (3, 3), 0)
    return img, occ


def _paint_floor(img: np.ndarray, lay: Layout, rng: np.random.Generator) -> None:
    """Light ceramic tiles in perspective: rows shrink towards the wall, columns meet above the image."""
    h, w = img.shape[:2]
    rows, y = [lay.horizon], lay.horizon
    while y < 1.0:
        y += 0.6 / PERSON_M * lay.height(y) / DEPTH_STRETCH
        rows.append(y)
    vx, vy = 0.5 * w, -1.2 * h
    tile_px = 0.6 / PERSON_M * lay.near_h * h
    cols = np.arange(-30, 31) * tile_px + 0.5 * w + tile_px / 2

    def col_x(c: float, yn: float) -> float:
        return vx + (c - vx) * (yn * h - vy) / (h - vy)

    base = np.array((172, 180, 186), np.float32)
    for r0, r1 in zip(rows, rows[1:]):
        for c0, c1 in zip(cols, cols[1:]):
            quad = np.array([(col_x(c0, r0), r0 * h), (col_x(c1, r0), r0 * h), (col_x(c1, r1), r1 * h), (col_x(c0, r1), r1 * h)])
            if quad[:, 0].max() < 0 or quad[:, 0].min() > w:
                continue
            shade = base * (0.95 + 0.1 * (r1 - lay.horizon)) + rng.normal(0, 3.0)
            cv2.fillConvexPoly(img, np.rint(quad).astype(np.int32), tuple(float(v) for v in shade.clip(0, 255)))
    grout = (150, 156, 160)
    for r in rows:
        cv2.line(img, (0, int(r * h)), (w, int(r * h)), grout, 1, cv2.LINE_AA)
    for c in cols:
        cv2.line(img, (int(col_x(c, lay.horizon)), int(lay.horizon * h)), (int(col_x(c, 1.0)), h), grout, 1, cv2.LINE_AA)


def _paint_wall_items(img: np.ndarray, lay: Layout, P, rng: np.random.Generator) -> None:
    h, w = img.shape[:2]
    lw = max(1, h // 240)
    # doorway into a dim corridor, with its frame and an open leaf
    x0, y0, x1, y1 = lay.door
    cv2.rectangle(img, P(x0, y0), P(x1, y1), (70, 78, 84), -1)
    cv2.rectangle(img, P(x0, y1 - 0.06), P(x1, y1), (105, 112, 118), -1)
    cv2.rectangle(img, P(x0 - 0.008, y0 - 0.012), P(x1 + 0.008, y1), (45, 70, 105), max(2, h // 90))
    leaf = x1 + 0.035 if lay.flipped else x0 - 0.035
    edge = x1 + 0.004 if lay.flipped else x0 - 0.004
    cv2.fillConvexPoly(img, np.array([P(edge, y0), P(leaf, y0 + 0.02), P(leaf, y1 + 0.02), P(edge, y1)]), (60, 95, 140))
    # queue-number display (digits are drawn per frame)
    x0, y0, x1, y1 = lay.display
    cv2.rectangle(img, P(x0 - 0.006, y0 - 0.01), P(x1 + 0.006, y1 + 0.01), (70, 70, 75), -1)
    cv2.rectangle(img, P(x0, y0), P(x1, y1), (18, 18, 22), -1)
    # a red banner above and a notice board with papers
    cv2.rectangle(img, P(0.22, 0.0), P(0.78, 0.03), (40, 40, 175), -1)
    cv2.line(img, P(0.24, 0.015), P(0.76, 0.015), (60, 200, 230), lw)
    bx = 0.04 if not lay.flipped else 0.76
    cv2.rectangle(img, P(bx, 0.08), P(bx + 0.2, 0.27), (80, 120, 165), -1)
    for i in range(5):
        px, py = bx + 0.012 + (i % 3) * 0.063, 0.1 + (i // 3) * 0.085
        cv2.rectangle(img, P(px, py), P(px + 0.05, py + 0.07), (235, 238, 240), -1)
        for k in range(4):
            cv2.line(img, P(px + 0.006, py + 0.014 + k * 0.013), P(px + 0.044 - 0.01 * (k % 2), py + 0.014 + k * 0.013), (150, 150, 150), lw)
    # a filing cabinet against the wall behind the desk
    cx = lay.desk[0] - 0.02 if not lay.flipped else lay.desk[2] - 0.1
    cv2.rectangle(img, P(cx, 0.2), P(cx + 0.12, lay.horizon), (120, 125, 130), -1)
    for k in range(3):
        yk = 0.21 + k * 0.066
        cv2.rectangle(img, P(cx + 0.006, yk), P(cx + 0.114, yk + 0.058), (145, 150, 155), -1)
        cv2.rectangle(img, P(cx + 0.05, yk + 0.02), P(cx + 0.07, yk + 0.027), (70, 70, 70), -1)
    # a wall clock
    cv2.circle(img, P(0.62 if not lay.flipped else 0.38, 0.09), int(0.035 * h), (240, 240, 240), -1, cv2.LINE_AA)
    cv2.circle(img, P(0.62 if not lay.flipped else 0.38, 0.09), int(0.035 * h), (50, 50, 50), lw + 1, cv2.LINE_AA)


def _occluder(img_shape: tuple[int, ...], polys: list[np.ndarray], depth: float) -> _Occluder:
    h, w = img_shape[:2]
    allp = np.concatenate(polys)
    x0, y0 = np.maximum(allp.min(0) - 2, 0)
    x1, y1 = np.minimum(allp.max(0) + 3, (w, h))
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    for p in polys:
        cv2.fillPoly(mask, [p - (x0, y0)], 1)
    return _Occluder(depth, (int(y0), int(y1), int(x0), int(x1)), mask.astype(bool)[..., None])


def _paint_office_chair(img: np.ndarray, lay: Layout, P) -> None:
    x, y = lay.staff_seat
    hn = lay.height(y)
    seat = y - OFFICE_SEAT_FRAC * hn
    cv2.ellipse(img, P(x, y), (int(lay.width(0.16, y) * img.shape[1]), int(0.03 * hn * img.shape[0])), 0, 0, 360, (120, 125, 130), -1)
    cv2.rectangle(img, P(x - lay.width(0.11, y), seat - 0.42 * hn), P(x + lay.width(0.11, y), seat), (38, 38, 44), -1)
    cv2.line(img, P(x, seat), P(x, y), (60, 60, 60), max(2, img.shape[0] // 150))


def _paint_desk(img: np.ndarray, lay: Layout, P) -> _Occluder:
    x0, back, x1, front = lay.desk
    tb, tf = lay.desk_top_y(back), lay.desk_top_y(front)
    shadow = np.array([P(x0 - 0.01, front + 0.01), P(x1 + 0.01, front + 0.01), P(x1, back), P(x0, back)])
    cv2.fillConvexPoly(img, shadow, (130, 136, 140))
    top = np.array([P(x0 + 0.01, tb), P(x1 - 0.01, tb), P(x1, tf), P(x0, tf)])
    face = np.array([P(x0, tf), P(x1, tf), P(x1, front), P(x0, front)])
    cv2.fillConvexPoly(img, top, (170, 200, 222))
    cv2.fillConvexPoly(img, face, (95, 135, 170))
    cv2.line(img, P(x0, tf), P(x1, tf), (70, 100, 130), max(2, img.shape[0] // 200))
    cv2.rectangle(img, P(x0 + 0.02, tf + 0.02), P(x1 - 0.02, front - 0.015), (85, 122, 155), max(1, img.shape[0] // 300))
    mx = x1 - 0.09 if not lay.flipped else x0 + 0.03
    monitor = np.array([P(mx, tb - 0.08), P(mx + 0.06, tb - 0.08), P(mx + 0.06, tb - 0.005), P(mx, tb - 0.005)])
    cv2.fillConvexPoly(img, monitor, (40, 40, 45))
    cv2.rectangle(img, P(mx + 0.025, tb - 0.005), P(mx + 0.035, (tb + tf) / 2), (60, 60, 65), -1)
    px = x0 + 0.03 if not lay.flipped else x1 - 0.1
    for k in range(3):
        cv2.rectangle(img, P(px + 0.004 * k, tf - 0.035 - 0.006 * k), P(px + 0.06 + 0.004 * k, tf - 0.012 - 0.006 * k), (225 - 12 * k, 232, 235), -1)
    return _occluder(img.shape, [top, face, monitor], front)


def _paint_chair(img: np.ndarray, lay: Layout, at: Pt, P) -> _Occluder:
    """A waiting-room chair seen from behind; its back hides the lower back of whoever sits on it."""
    x, y = at
    hn = lay.height(y)
    seat = y - SEAT_FRAC * hn
    hw = lay.width(0.115, y)
    lw = max(2, img.shape[0] // 200)
    cv2.ellipse(img, P(x, y - 0.005), (int(hw * 1.1 * img.shape[1]), int(0.025 * hn * img.shape[0])), 0, 0, 360, (135, 140, 146), -1)
    for sx in (-0.85, 0.85):
        cv2.line(img, P(x + sx * hw, seat), P(x + sx * hw, y - 0.03 * hn), (150, 150, 155), lw)
    cv2.rectangle(img, P(x - hw, seat - 0.05 * hn), P(x + hw, seat), (125, 85, 45), -1)
    back = np.array([P(x - hw, seat - CHAIR_BACK_FRAC * hn), P(x + hw, seat - CHAIR_BACK_FRAC * hn), P(x + hw, seat + 0.012 * hn), P(x - hw, seat + 0.012 * hn)])
    cv2.fillConvexPoly(img, back, (150, 100, 55))
    cv2.polylines(img, [back], True, (175, 175, 180), lw)
    for sx in (-0.9, 0.9):
        cv2.line(img, P(x + sx * hw, seat), P(x + sx * hw, y + 0.004), (175, 175, 180), lw)
    return _occluder(img.shape, [back], y + 0.002)


def _paint_plant(img: np.ndarray, lay: Layout, at: Pt, size: float, P) -> _Occluder:
    x, y = at
    hn = lay.height(y) * size
    pot = np.array([P(x - lay.width(0.1, y) * size, y - 0.16 * hn), P(x + lay.width(0.1, y) * size, y - 0.16 * hn),
                    P(x + lay.width(0.07, y) * size, y), P(x - lay.width(0.07, y) * size, y)])
    cv2.fillConvexPoly(img, pot, (40, 75, 130))
    rng = np.random.default_rng(int(x * 1000))
    polys = [pot]
    for _ in range(14):
        a = rng.uniform(-1.2, 1.2)
        ln = rng.uniform(0.25, 0.5) * hn
        tip = (x + math.sin(a) * ln / 2 * img.shape[0] / img.shape[1], y - 0.16 * hn - math.cos(a) * ln)
        green = (int(rng.uniform(30, 60)), int(rng.uniform(110, 160)), int(rng.uniform(40, 80)))
        c = P((x + tip[0]) / 2, (y - 0.16 * hn + tip[1]) / 2)
        axes = (int(0.05 * hn * img.shape[0]), int(ln / 2 * img.shape[0]))
        cv2.ellipse(img, c, axes, math.degrees(a), 0, 360, green, -1, cv2.LINE_AA)
        polys.append(cv2.ellipse2Poly(c, axes, int(math.degrees(a)), 0, 360, 20))
    return _occluder(img.shape, polys, y + 0.01)

