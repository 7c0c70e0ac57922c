"""A pinhole camera over a flat floor (metres): projection of world points and polygons into the image."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

Vec3 = tuple[float, float, float]


@dataclass(frozen=True)
class Pinhole:
    """Camera at (x_m, y_m, height_m) looking along +Y, tilted pitch_deg below the horizon; x right, z up."""

    height_m: float
    pitch_deg: float
    vfov_deg: float
    size: tuple[int, int]  # pixels (width, height)
    x_m: float = 0.0  # where it hangs on the floor plan (the office simulator places several cameras)
    y_m: float = 0.0

    @property
    def origin(self) -> tuple[float, float, float]:
        return (self.x_m, self.y_m, self.height_m)

    @property
    def focal_px(self) -> float:
        return self.size[1] / 2 / math.tan(math.radians(self.vfov_deg) / 2)

    def _axes(self) -> tuple[np.ndarray, np.ndarray]:
        p = math.radians(self.pitch_deg)
        forward = np.array([0.0, math.cos(p), -math.sin(p)])
        down = np.array([0.0, -math.sin(p), -math.cos(p)])
        return forward, down

    def depth(self, pts: np.ndarray) -> np.ndarray:
        """Distance along the optical axis of world points (N, 3)."""
        forward, _ = self._axes()
        rel = np.asarray(pts, float) - self.origin
        return rel @ forward

    def project(self, pts: np.ndarray) -> np.ndarray:
        """Pixel coordinates (N, 2) of world points (N, 3); points behind the camera get NaN."""
        forward, down = self._axes()
        rel = np.atleast_2d(np.asarray(pts, float)) - self.origin
        z = rel @ forward
        f = self.focal_px
        with np.errstate(divide="ignore", invalid="ignore"):
            u = self.size[0] / 2 + f * rel[:, 0] / z
            v = self.size[1] / 2 + f * (rel @ down) / z
        out = np.stack([u, v], axis=1)
        out[z <= 0.05] = np.nan
        return out

    def px_per_m(self, at: Vec3) -> float:
        """Image pixels per metre for something at world point `at` (facing the camera)."""
        return self.focal_px / float(self.depth(np.array([at]))[0])

    def normalised(self, pts: np.ndarray) -> np.ndarray:
        """Projection in 0..1 image coordinates."""
        return self.project(pts) / np.array(self.size, float)

    def floor_y_range(self) -> tuple[float, float]:
        """Nearest and farthest floor Y seen at the image's centre column (far may be inf)."""
        p, half = math.radians(self.pitch_deg), math.radians(self.vfov_deg) / 2
        near = self.height_m / math.tan(p + half)
        far = self.height_m / math.tan(p - half) if p - half > math.radians(1) else math.inf
        return self.y_m + near, self.y_m + far

    def half_width_at(self, y: float) -> float:
        """Half the floor width (metres) seen at floor Y = y."""
        z = float(self.depth(np.array([[self.x_m, y, 0.0]]))[0])
        return z * (self.size[0] / 2) / self.focal_px

    def standing_height(self, v: float) -> float:
        """Height (fraction of frame height) of a 1.7 m person whose feet are at normalised image row v."""
        f = 0.5 / math.tan(math.radians(self.vfov_deg) / 2)
        a = math.radians(self.pitch_deg) + math.atan((v - 0.5) / f)
        if a <= 0:
            return 0.0
        d = self.height_m / math.tan(a)
        head = math.atan((self.height_m - 1.7) / d) - math.radians(self.pitch_deg)
        return v - (0.5 + f * math.tan(head))


def clip_to_unit(poly: list[tuple[float, float]]) -> list[list[float]]:
    """Sutherland-Hodgman clip of a normalised polygon to the 0..1 square, rounded to 4 decimals."""
    out = [tuple(p) for p in poly]
    for axis in (0, 1):
        for keep_low in (True, False):
            edge = 0.0 if keep_low else 1.0
            inside = (lambda q, a=axis, e=edge, lo=keep_low: q[a] >= e if lo else q[a] <= e)
            src, out = out, []
            for i, cur in enumerate(src):
                prev = src[i - 1]
                if inside(cur):
                    if not inside(prev):
                        out.append(_cross(prev, cur, axis, edge))
                    out.append(cur)
                elif inside(prev):
                    out.append(_cross(prev, cur, axis, edge))
            if not out:
                return []
    return [[round(float(x), 4), round(float(y), 4)] for x, y in out]


def _cross(a: tuple, b: tuple, axis: int, edge: float) -> tuple[float, float]:
    t = (edge - a[axis]) / (b[axis] - a[axis])
    return (a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]))


def convex_hull(pts: np.ndarray) -> list[tuple[float, float]]:
    """Counter-clockwise convex hull (monotone chain) of 2-D points."""
    p = sorted(map(tuple, np.asarray(pts, float).tolist()))
    if len(p) < 3:
        return p

    def half(seq: list) -> list:
        h: list = []
        for q in seq:
            while len(h) >= 2 and (h[-1][0] - h[-2][0]) * (q[1] - h[-2][1]) - (h[-1][1] - h[-2][1]) * (q[0] - h[-2][0]) <= 0:
                h.pop()
            h.append(q)
        return h

    lower, upper = half(p), half(p[::-1])
    return lower[:-1] + upper[:-1]
