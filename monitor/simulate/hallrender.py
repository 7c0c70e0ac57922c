"""Pixels of the varied hall: a perspective background painted once, furniture that hides people, lighting and camera noise per frame."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from monitor.simulate.camera3d import Pinhole
from monitor.simulate.figure import Look, Pose, draw_figure, figure_extent
from monitor.simulate.hall import DESK_DEPTH_M, DESK_H_M, Hall
from monitor.simulate.story import Story

WALLS = [((200, 214, 222), (186, 198, 206)), ((205, 220, 208), (190, 204, 194)), ((215, 215, 215), (196, 196, 198)),
         ((180, 200, 220), (165, 184, 204))]  # BGR back wall, side walls
FLOORS = [(182, 188, 192), (165, 178, 190), (196, 196, 192), (150, 160, 168)]
CHAIRS = [(140, 90, 45), (150, 100, 60), (60, 60, 65), (120, 70, 40)]  # backrest colours
LEAN_STEP_M = 0.004  # seated people are drawn from cached sprites, their sway quantised to this
SPRITES_MAX = 4000
WALL_H_M = 3.2
CHAIR_SEAT_M, CHAIR_BACK_M = 0.45, 0.88


@dataclass(frozen=True)
class Occluder:
    """Furniture drawn again over the people behind it: opaque (copied from the background) or glass (tinted)."""

    depth: float
    box: tuple[int, int, int, int]  # y0, y1, x0, x1
    mask: np.ndarray  # bool (h, w, 1)
    glass: bool = False


def _quad(cam: Pinhole, pts: list[tuple[float, float, float]]) -> np.ndarray | None:
    uv = cam.project(np.array(pts, float))
    return None if np.isnan(uv).any() else np.rint(uv).astype(np.int32)


def _occluder(shape: tuple[int, ...], polys: list[np.ndarray], depth: float, glass: bool = False) -> Occluder | None:
    h, w = shape[:2]
    allp = np.concatenate(polys)
    x0, y0 = np.maximum(allp.min(0) - 2, 0)
    x1, y1 = np.minimum(allp.max(0) + 3, (w, h))
    if x1 <= x0 or y1 <= y0:
        return None
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    for p in polys:
        cv2.fillConvexPoly(mask, p - (x0, y0), 1)
    return Occluder(depth, (int(y0), int(y1), int(x0), int(x1)), mask.astype(bool)[..., None], glass)


class HallRenderer:
    """One camera's frames of a Story."""

    def __init__(self, hall: Hall, story: Story, seed: int) -> None:
        self.hall, self.story, self.cam = hall, story, hall.spec.camera
        rng = np.random.default_rng([seed, 5])
        self.occluders: list[Occluder] = []
        self.background = self._paint(rng)
        w, h = self.cam.size
        sigma = 7.0 if hall.spec.ir else 2.2
        self._noise = np.rint(rng.normal(0, sigma, (h + 16, w + 32))).astype(np.int16)
        self._noise_rng = np.random.default_rng([seed, 6])
        self._looks: dict[str, Look] = {}
        self._sprites: dict[tuple[str, float, float, float], tuple[int, int, np.ndarray, np.ndarray] | None] = {}
        self._light = _lighting(hall.spec, rng)

    # ---------------------------------------------------------------- background
    def _paint(self, rng: np.random.Generator) -> np.ndarray:
        cam, hall, spec = self.cam, self.hall, self.hall.spec
        w, h = cam.size
        back, side = WALLS[spec.palette]
        img = np.empty((h, w, 3), np.uint8)
        img[:] = side
        hw, by = hall.half_w, hall.back_y
        near = cam.y_m + 0.4  # the floor from just in front of the camera (the office simulator's cameras stand in the hall)
        floor = _quad(cam, [(-hw, near, 0), (hw, near, 0), (hw, by, 0), (-hw, by, 0)])
        wall = _quad(cam, [(-hw, by, 0), (hw, by, 0), (hw, by, WALL_H_M), (-hw, by, WALL_H_M)])
        if wall is not None:
            cv2.fillConvexPoly(img, wall, back)
        self._floor(img, floor, rng)
        self._wall_items(img)
        self._counter(img)
        for chair in hall.service_seats + hall.waiting_chairs:
            self._chair(img, chair.x, chair.y, CHAIRS[spec.palette])
        self._plant(img, (hw - 0.5) * (1 if spec.door_left else -1), hall.lane_y - 0.3)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        vignette = 1.0 - 0.14 * (((xx / w - 0.5) ** 2 + (yy / h - 0.45) ** 2) / 0.5)
        img = (img * vignette[..., None]).clip(0, 255).astype(np.uint8)
        return cv2.GaussianBlur(img, (3, 3), 0)

    def _floor(self, img: np.ndarray, floor: np.ndarray | None, rng: np.random.Generator) -> None:
        cam, hall = self.cam, self.hall
        if floor is None:
            return
        base = FLOORS[self.hall.spec.palette]
        cv2.fillConvexPoly(img, floor, base)
        tile = 0.6
        grout = tuple(int(v * 0.86) for v in base)
        lw = max(1, cam.size[1] // 360)
        for x in np.arange(-hall.half_w, hall.half_w + 0.01, tile):
            q = _quad(cam, [(x, cam.y_m + 0.4, 0), (x, hall.back_y, 0)])
            if q is not None:
                cv2.line(img, tuple(q[0]), tuple(q[1]), grout, lw, cv2.LINE_AA)
        for y in np.arange(0.4, hall.back_y, tile):
            q = _quad(cam, [(-hall.half_w, y, 0), (hall.half_w, y, 0)])
            if q is not None:
                cv2.line(img, tuple(q[0]), tuple(q[1]), grout, lw, cv2.LINE_AA)
        line = _quad(cam, [(-hall.half_w + 0.5, hall.lane_y - 0.45, 0), (hall.half_w - 0.5, hall.lane_y - 0.45, 0)])
        if line is not None:  # the yellow "wait behind the line" stripe
            cv2.line(img, tuple(line[0]), tuple(line[1]), (60, 190, 220), max(1, cam.size[1] // 240), cv2.LINE_AA)

    def _wall_items(self, img: np.ndarray) -> None:
        cam, hall, spec = self.cam, self.hall, self.hall.spec
        by, xs = hall.back_y - 0.01, spec.counter_x
        door = hall.staff_door()
        q = _quad(cam, [(door[0] - 0.45, by, 0), (door[0] + 0.45, by, 0), (door[0] + 0.45, by, 2.1), (door[0] - 0.45, by, 2.1)])
        if q is not None:
            cv2.fillConvexPoly(img, q, (55, 85, 120))
        mid = (xs[0] + xs[-1]) / 2
        disp = _quad(cam, [(mid - 0.6, by, 2.2), (mid + 0.6, by, 2.2), (mid + 0.6, by, 2.6), (mid - 0.6, by, 2.6)])
        self.display = disp
        if disp is not None:
            cv2.fillConvexPoly(img, disp, (20, 20, 24))
        board = _quad(cam, [(mid - 2.6, by, 1.3), (mid - 1.6, by, 1.3), (mid - 1.6, by, 2.0), (mid - 2.6, by, 2.0)])
        if board is not None:
            cv2.fillConvexPoly(img, board, (90, 130, 175))
        side = -1.0 if spec.door_left else 1.0
        for k in range(3):  # windows on the wall opposite the entrance: the daylight drift shows here
            y0 = hall.near_y + 1.0 + k * 2.2
            win = _quad(cam, [(-side * hall.half_w, y0, 1.0), (-side * hall.half_w, y0 + 1.4, 1.0),
                              (-side * hall.half_w, y0 + 1.4, 2.4), (-side * hall.half_w, y0, 2.4)])
            if win is not None:
                cv2.fillConvexPoly(img, win, (235, 228, 215))
        entry = hall.entrance()
        q = _quad(cam, [(side * hall.half_w, entry[1] - 0.6, 0), (side * hall.half_w, entry[1] + 0.6, 0),
                        (side * hall.half_w, entry[1] + 0.6, 2.1), (side * hall.half_w, entry[1] - 0.6, 2.1)])
        if q is not None:
            cv2.fillConvexPoly(img, q, (80, 88, 95))

    def _counter(self, img: np.ndarray) -> None:
        cam, hall, spec = self.cam, self.hall, self.hall.spec
        x0, x1 = spec.counter_x[0] - 1.1, spec.counter_x[-1] + 1.1
        yf, yb = spec.desk_y - DESK_DEPTH_M / 2, spec.desk_y + DESK_DEPTH_M / 2
        for seat in hall.staff_seats:  # office chairs: their backs are behind the staff
            q = _quad(cam, [(seat.x - 0.24, seat.y + 0.22, 0.5), (seat.x + 0.24, seat.y + 0.22, 0.5),
                            (seat.x + 0.24, seat.y + 0.22, 1.15), (seat.x - 0.24, seat.y + 0.22, 1.15)])
            if q is not None:
                cv2.fillConvexPoly(img, q, (40, 40, 46))
        top = _quad(cam, [(x0, yf, DESK_H_M), (x1, yf, DESK_H_M), (x1, yb, DESK_H_M), (x0, yb, DESK_H_M)])
        face = _quad(cam, [(x0, yf, 0), (x1, yf, 0), (x1, yf, DESK_H_M), (x0, yf, DESK_H_M)])
        polys = []
        if top is not None and face is not None:
            cv2.fillConvexPoly(img, top, (205, 222, 232))
            cv2.fillConvexPoly(img, face, (230, 235, 238))
            stripe = _quad(cam, [(x0, yf - 0.01, 0.5), (x1, yf - 0.01, 0.5), (x1, yf - 0.01, 0.58), (x0, yf - 0.01, 0.58)])
            if stripe is not None:
                cv2.fillConvexPoly(img, stripe, (150, 90, 40))
            polys += [top, face]
        for k, x in enumerate(spec.counter_x):
            num = _quad(cam, [(x - 0.12, yf - 0.02, 0.62), (x + 0.12, yf - 0.02, 0.62), (x + 0.12, yf - 0.02, 0.74), (x - 0.12, yf - 0.02, 0.74)])
            if num is not None:
                cv2.fillConvexPoly(img, num, (160, 80, 30))
                c = num.mean(0).astype(int)
                cv2.putText(img, str(k + 1), (int(c[0]) - 3, int(c[1]) + 4), cv2.FONT_HERSHEY_SIMPLEX,
                            max(0.25, (num[:, 1].max() - num[:, 1].min()) / 28), (255, 255, 255), 1, cv2.LINE_AA)
        occ = _occluder(img.shape, polys, yf) if polys else None
        if occ:
            self.occluders.append(occ)
        for x in spec.counter_x:
            if spec.monitors:
                side = 0.18 if (x * 7) % 2 > 1 else -0.18
                mon = _quad(cam, [(x + side - 0.26, spec.desk_y + 0.12, 0.8), (x + side + 0.26, spec.desk_y + 0.12, 0.8),
                                  (x + side + 0.26, spec.desk_y + 0.12, 1.17), (x + side - 0.26, spec.desk_y + 0.12, 1.17)])
                if mon is not None:
                    cv2.fillConvexPoly(img, mon, (45, 45, 50))
                    o = _occluder(img.shape, [mon], spec.desk_y + 0.12)
                    if o:
                        self.occluders.append(o)
            if spec.glass:
                pane = _quad(cam, [(x - 0.6, yf + 0.02, DESK_H_M), (x + 0.6, yf + 0.02, DESK_H_M),
                                   (x + 0.6, yf + 0.02, 1.55), (x - 0.6, yf + 0.02, 1.55)])
                if pane is not None:
                    o = _occluder(img.shape, [pane], yf + 0.02, glass=True)
                    if o:
                        _apply_glass(img, o)
                        cv2.polylines(img, [pane], True, (200, 205, 210), max(1, cam.size[1] // 300), cv2.LINE_AA)
                        self.occluders.append(o)

    def _chair(self, img: np.ndarray, x: float, y: float, colour: tuple[int, int, int]) -> None:
        """A chair facing the counters: seat, legs, and a backrest (towards the camera) that hides the sitter's back."""
        cam = self.cam
        lw = max(1, cam.size[1] // 300)
        for dx in (-0.2, 0.2):
            q = _quad(cam, [(x + dx, y - 0.18, 0), (x + dx, y - 0.18, CHAIR_SEAT_M)])
            if q is not None:
                cv2.line(img, tuple(q[0]), tuple(q[1]), (120, 120, 125), lw, cv2.LINE_AA)
        seat = _quad(cam, [(x - 0.24, y - 0.2, CHAIR_SEAT_M), (x + 0.24, y - 0.2, CHAIR_SEAT_M),
                           (x + 0.24, y + 0.22, CHAIR_SEAT_M), (x - 0.24, y + 0.22, CHAIR_SEAT_M)])
        back = _quad(cam, [(x - 0.25, y - 0.24, CHAIR_SEAT_M - 0.02), (x + 0.25, y - 0.24, CHAIR_SEAT_M - 0.02),
                           (x + 0.25, y - 0.24, CHAIR_BACK_M), (x - 0.25, y - 0.24, CHAIR_BACK_M)])
        if seat is None or back is None:
            return
        cv2.fillConvexPoly(img, seat, tuple(int(v * 0.8) for v in colour))
        cv2.fillConvexPoly(img, back, colour)
        cv2.polylines(img, [back], True, tuple(int(v * 0.6) for v in colour), lw, cv2.LINE_AA)
        o = _occluder(img.shape, [back], y - 0.24)
        if o:
            self.occluders.append(o)

    def _plant(self, img: np.ndarray, x: float, y: float) -> None:
        cam = self.cam
        pot = _quad(cam, [(x - 0.2, y, 0), (x + 0.2, y, 0), (x + 0.25, y, 0.45), (x - 0.25, y, 0.45)])
        top = cam.project(np.array([[x, y, 1.1]]))[0]
        if pot is None or np.isnan(top).any():
            return
        cv2.fillConvexPoly(img, pot, (40, 75, 130))
        r = max(2, int(cam.px_per_m((x, y, 0.8)) * 0.4))
        cv2.circle(img, (int(top[0]), int(top[1])), r, (50, 130, 60), -1, cv2.LINE_AA)

    # ---------------------------------------------------------------- frames
    def render(self, t: float) -> np.ndarray:
        """One BGR frame at time t."""
        img = self.background.copy()
        self._draw_display(img, t)
        items: list[tuple[float, int, object]] = []
        for actor, pose in self.story.poses(t):
            d = float(self.cam.depth(np.array([[pose.x, pose.y, 0.8]]))[0])
            if d > 0.3:
                items.append((d, 0, (actor, pose)))
        if items:
            for o in self.occluders:
                items.append((float(self.cam.depth(np.array([[0.0, o.depth, 0.6]]))[0]), 1, o))
        for _, kind, obj in sorted(items, key=lambda it: (-it[0], it[1])):
            if kind == 0:
                actor, pose = obj  # type: ignore[misc]
                look = self._looks.get(actor.id) or self._looks.setdefault(actor.id, Look.random(actor.look, actor.role == "staff"))
                if pose.posture == "sit":
                    self._draw_seated(img, actor.id, pose, look)
                else:
                    draw_figure(img, self.cam, pose, look)
            elif obj.glass:  # type: ignore[union-attr]
                _apply_glass(img, obj)  # type: ignore[arg-type]
            else:
                y0, y1, x0, x1 = obj.box  # type: ignore[union-attr]
                np.copyto(img[y0:y1, x0:x1], self.background[y0:y1, x0:x1], where=obj.mask)  # type: ignore[union-attr]
        return self._expose(img, t)

    def _draw_seated(self, img: np.ndarray, key: str, pose: Pose, look: Look) -> None:
        """A seated person from a cached sprite (premultiplied colour and coverage), drawn once per sway step."""
        lean = round(pose.lean / LEAN_STEP_M) * LEAN_STEP_M
        k = (key, pose.x, pose.y, lean)  # the seat too: a citizen sits in the hall, then at a counter
        if k not in self._sprites:
            if len(self._sprites) > SPRITES_MAX:
                self._sprites.clear()
            self._sprites[k] = _sprite(self.cam, Pose(pose.x, pose.y, pose.heading, "sit", seat_h=pose.seat_h,
                                                      hands_on_desk=pose.hands_on_desk, lean=lean), look)
        sprite = self._sprites[k]
        if sprite is None:
            return
        x0, y0, colour, cover = sprite
        h, w = img.shape[:2]
        sx0, sy0 = max(0, -x0), max(0, -y0)
        ex, ey = min(colour.shape[1], w - x0), min(colour.shape[0], h - y0)
        if ex <= sx0 or ey <= sy0:
            return
        roi = img[y0 + sy0 : y0 + ey, x0 + sx0 : x0 + ex]
        a = cover[sy0:ey, sx0:ex]
        roi[:] = (roi * (1.0 - a) + colour[sy0:ey, sx0:ex]).clip(0, 255).astype(np.uint8)

    def _draw_display(self, img: np.ndarray, t: float) -> None:
        if self.display is None:
            return
        ticket, counter, blinking = self.story.ticket_at(t)
        if blinking and int(t * 2) % 2:
            return
        x0, y0 = self.display.min(0)
        x1, y1 = self.display.max(0)
        text = f"{ticket} > {counter}"
        scale = max(0.2, (y1 - y0) * 0.6 / 22)
        (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_DUPLEX, scale, 1)
        scale *= min(1.0, (x1 - x0) * 0.9 / max(tw, 1))
        (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_DUPLEX, scale, 1)
        org = (int((x0 + x1 - tw) / 2), int((y0 + y1 + th) / 2))
        cv2.putText(img, text, org, cv2.FONT_HERSHEY_DUPLEX, scale, (40, 40, 250), 1, cv2.LINE_AA)

    def _expose(self, img: np.ndarray, t: float) -> np.ndarray:
        """Lighting (steps, flicker, drift) and the camera's noise; IR mode is grey and noisier."""
        gain = self._light(t)
        w, h = self.cam.size
        dy, dx = self._noise_rng.integers(0, 16), self._noise_rng.integers(0, 32)
        noise = self._noise[dy : dy + h, dx : dx + w]
        if self.hall.spec.ir:
            grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.int16)
            grey = (grey * 0.75 * gain + 28 + noise).clip(0, 255).astype(np.uint8)
            return cv2.cvtColor(cv2.GaussianBlur(grey, (3, 3), 0), cv2.COLOR_GRAY2BGR)
        out = cv2.convertScaleAbs(img, alpha=gain)
        return cv2.add(out, cv2.merge([noise, noise, noise]), dtype=cv2.CV_8U)


def _sprite(cam: Pinhole, pose: Pose, look: Look) -> tuple[int, int, np.ndarray, np.ndarray] | None:
    """A figure drawn on black and on white: (x0, y0, premultiplied colour, coverage) of its box."""
    box = figure_extent(cam, pose, look)
    if box is None:
        return None
    w, h = cam.size  # only the part inside the frame: someone right under a camera would need a huge sprite
    x0, y0, x1, y1 = max(box[0], 0), max(box[1], 0), min(box[2], w), min(box[3], h)
    if x1 <= x0 or y1 <= y0:
        return None
    size = (max(1, y1 - y0), max(1, x1 - x0), 3)
    black, white = np.zeros(size, np.uint8), np.full(size, 255, np.uint8)
    draw_figure(black, cam, pose, look, (x0, y0))
    draw_figure(white, cam, pose, look, (x0, y0))
    cover = 1.0 - (white.astype(np.float32) - black.astype(np.float32)).mean(axis=2, keepdims=True) / 255.0
    return x0, y0, black.astype(np.float32), cover.clip(0.0, 1.0)


def _apply_glass(img: np.ndarray, o: Occluder) -> None:
    y0, y1, x0, x1 = o.box
    roi = img[y0:y1, x0:x1]
    tinted = (roi.astype(np.float32) * 0.78 + np.array([235, 230, 215], np.float32) * 0.22).astype(np.uint8)
    np.copyto(roi, tinted, where=o.mask)


def _lighting(spec, rng: np.random.Generator):  # noqa: ANN001, ANN202 - spec: HallSpec; returns t -> gain
    """Global gain over time: light steps (lamps switched), exposure flicker bursts and a slow daylight drift."""
    steps, flicker = [], []
    t = float(rng.exponential(600 / max(spec.light_steps_per_10min, 1e-3)))
    while t < 7200:
        length = float(rng.uniform(60, 300))
        steps.append((t, t + length, float(rng.uniform(0.82, 1.2))))
        t += length + float(rng.exponential(600 / max(spec.light_steps_per_10min, 1e-3)))
    t = float(rng.exponential(600 / max(spec.flicker_per_10min, 1e-3)))
    while t < 7200:
        flicker.append((t, t + float(rng.uniform(0.4, 1.5)), float(rng.uniform(0.05, 0.16))))
        t += float(rng.exponential(600 / max(spec.flicker_per_10min, 1e-3)))
    drift_amp, drift_period, phase = float(rng.uniform(0.0, 0.08)), float(rng.uniform(600, 2400)), float(rng.uniform(0, 6.28))

    def gain(t: float) -> float:
        g = 1.0 + drift_amp * math.sin(2 * math.pi * t / drift_period + phase)
        for a, b, f in steps:
            if a <= t < b:
                g *= f
        for a, b, amp in flicker:
            if a <= t < b:
                g *= 1.0 + amp * math.sin(2 * math.pi * 6.0 * (t - a))
        return g

    return gain
