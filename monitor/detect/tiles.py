"""Perspective from the zones' person_height calibration, and the square crops the person detector runs on.

Zones are floor footprints: a person belongs to a zone when their anchor (the bottom centre of
their box: the feet, or the lowest visible part of a seated person) lies in it. The detector
finds people best when they are a given size in its 300x300 input, so the frame is cut into
square tiles whose side follows the standing height at their feet rows: near rows get large
tiles, far rows small ones, each scaled to 300x300.

Every tile owns a cell of anchor positions (the cells partition the plane): a person whose
anchor lies in a tile's cell fits wholly in that tile, and only that tile reports them, so tiles
analysed at different times never count one person twice.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from monitor.detect.occupancy import SEAT_KINDS

__all__ = ["FOOTPRINT_MAX", "HEAD_HEIGHT_SLOPE", "HEIGHT_FACTOR_OK", "Perspective", "Tile", "body_drawn_zones", "cell_overlaps",
           "head_height_zones", "height_factor", "height_markers", "height_off", "plan_tiles", "scaled_heights"]

# No calibration: a camera on the wall ~3 m up looking down the room (standing person 45 % of the
# frame height at the bottom row, 25 % at the top row), as monitor.detect.occupancy assumes.
DEFAULT_HEIGHTS = ((1.0, 0.45), (0.0, 0.25))
# Tile side / standing height at the tile's lowest anchor row (a side is never over the frame height).
# Standing and walking people (waiting areas): 4, so a person is at least 300/4 = 75 px of the 300x300
# input; the model finds walkers down to ~30 px (the measurement on walkway footage: 90 % of
# them on the whole frame, where they were 28-78 px). Large tiles make a sweep few calls: on the
# cameras measured here two full-height squares where 2.5 (120 px) needed 7, or 13 on PETS S2.L1. The
# sweep then comes every 2 s instead of every 3.5-6.5 s, and the seats keep the rest of the budget.
# Seated people (seats), half hidden by a desk or a chair back, show ~0.45 of a standing height: 1.6
# makes that ~85 px, inside the anchors' range rather than at its 0.1 floor.
STANDING_RATIO = 4.0
SEATED_RATIO = 1.6
# The part of a standing height that must fit above an anchor: all of it for people standing, a
# seated person's visible height for seats.
STANDING_FIT = 1.0
SEATED_FIT = 0.6
# Horizontal overlap of neighbouring tiles, in standing heights: wider than a seated person (~0.5).
OVERLAP_H = 0.6
# Far smaller people than this share of the frame height are beyond the detector (upscaled > 5x).
MIN_HEIGHT = 0.04
# The slope of the standing height against the feet row (Perspective.b) is a person's height over the
# camera's: heads at the camera's height all show on the horizon row, whatever the pitch, so at head
# height the head row is the same near and far (slope 1); a camera higher up sees nearer heads lower (under
# 1). From this slope up (a camera under 1.25 person heights, about 2.1 m) people near and far overlap in
# the picture and those behind others are hidden: on three of the four public clips filmed so (slopes
# 1.1-1.7) the count is 0.8-1.5 people off per second (TUD-Stadtmitte, MOT17-09, Venice-2; TUD-Campus, 2 s,
# holds; measured 2026-12-07); over a walkway from higher up (PETS, slopes 0.22) it holds. The development
# offices (3.8 m, 36 degrees down): 0.12.
HEAD_HEIGHT_SLOPE = 0.8
# A staff seat or service spot is drawn as its floor footprint (where the chair stands, or the feet): seen from
# 3 m or more, looking 30-45 degrees down, a footprint of 0.5-0.6 m deep shows 0.1-0.3 of a standing height
# (0.13 and 0.18 in the development offices), while the body of someone using it shows 0.5-0.9 (the same
# offices' body areas: 0.53 for a clerk above the desk, 0.90 for a seated citizen). Drawn as a body area, the
# lowered anchors fall below the zone and the seats read empty (development scenes: seats 43-44 %, every
# absence missed). A zone taller than this many standing heights at its lowest row was drawn as a body.
FOOTPRINT_MAX = 0.45
# The head top of someone the seats' tiles find over a staff seat lies this many standing heights (by the calibration)
# above the middle row of the seat's footprint: the median over a video was 0.633 and 0.640 in the two development
# offices and 0.630-0.738 on my eight simulated cameras (each 3 minutes; 3.0-3.8 m up, 22-45 degrees down, one in IR
# with the clerk behind a monitor). With the waiting area's person_height set to 0.7, 0.8, 1.2 or 1.3 times the true
# one, the development offices' medians were 0.98-1.00, 0.83-0.84, 0.54-0.55 and 0.51: the median over STAFF_HEAD_H is
# how many times person_height people really are (height_factor; 1.45-1.52, 1.25-1.28, 0.81-0.84 and 0.78 there).
STAFF_HEAD_H = 0.66
# Markers 20 % off still hold every target on the development offices (seats 99.4-100 %, service MAE 1.6-4.3 s, waits
# 0-6 %); 30 % off does not (seats 76-86 % at 0.7, service MAE 49-77 s; 96-98 % and up to 68 s at 1.3). A factor outside
# this band says the markers are off by more than that; from MIN_HEAD_SIGHTINGS sightings on (one staff seat's tile
# looks every 2 s: about a minute of a clerk at their desk).
HEIGHT_FACTOR_OK = (0.8, 1.3)
MIN_HEAD_SIGHTINGS = 30


@dataclass(frozen=True)
class Perspective:
    """Standing-person height (fraction of the frame height) as a linear function of the feet row y (0..1)."""

    a: float  # height at y = 0
    b: float  # change per unit of y

    @classmethod
    def from_points(cls, points: Sequence[tuple[float, float]]) -> Perspective:
        """Least-squares line through (y, height) calibration points; the default camera without any."""
        pts = list(points) or list(DEFAULT_HEIGHTS)
        ys = np.array([p[0] for p in pts], float)
        hs = np.array([p[1] for p in pts], float)
        if np.ptp(ys) < 1e-3:  # one row only: people are the same size everywhere
            return cls(float(hs.mean()), 0.0)
        b, a = np.polyfit(ys, hs, 1)
        return cls(float(a), float(b))

    @classmethod
    def from_zones(cls, zones: Sequence) -> Perspective:  # noqa: ANN001 - ZoneSpec-like (points, person_height)
        """From every zone with person_height: [near, far] at the polygon's lowest and highest row."""
        pts: list[tuple[float, float]] = []
        for z in zones:
            if z.person_height is None:
                continue
            ys = [p[1] for p in z.points]
            pts += [(max(ys), z.person_height[0]), (min(ys), z.person_height[1])]
        return cls.from_points(pts)

    @property
    def at_head_height(self) -> bool:
        """True when the calibration says the camera is at about a person's height (HEAD_HEIGHT_SLOPE)."""
        return self.b >= HEAD_HEIGHT_SLOPE

    def height(self, y: float) -> float:
        """Standing height at feet row y, never below MIN_HEIGHT."""
        return max(self.a + self.b * y, MIN_HEIGHT)


@dataclass(frozen=True)
class Tile:
    """A square crop (normalised x0, y0, x1, y1) and the cell of anchors it reports (cx0, cy0, cx1, cy1)."""

    box: tuple[float, float, float, float]
    cell: tuple[float, float, float, float]

    def owns(self, x: float, y: float) -> bool:
        """True when an anchor at (x, y) is this tile's to report."""
        cx0, cy0, cx1, cy1 = self.cell
        return cx0 <= x < cx1 and cy0 <= y < cy1

    def pixels(self, width: int, height: int) -> tuple[int, int, int, int]:
        """The crop in pixels of a width x height frame (x0, y0, x1, y1), clipped to it."""
        x0, y0, x1, y1 = self.box
        return (max(0, round(x0 * width)), max(0, round(y0 * height)),
                min(width, round(x1 * width)), min(height, round(y1 * height)))


def _columns(lo: float, hi: float, side: float, overlap: float, aspect: float) -> list[tuple[float, float, float, float]]:
    """(tile x0, x1, cell x0, x1) in frame-height units covering [lo, hi] with tiles of `side`."""
    lo, hi = max(0.0, lo), min(aspect, hi)
    if side >= aspect:
        return [(0.0, aspect, -math.inf, math.inf)]
    if hi - lo <= side:
        x0 = min(max((lo + hi - side) / 2, 0.0), aspect - side)
        return [(x0, x0 + side, -math.inf, math.inf)]
    n = math.ceil((hi - lo - overlap) / (side - overlap))
    starts = [lo + (hi - lo - side) * i / (n - 1) for i in range(n)]
    bounds = [-math.inf] + [(starts[i] + side + starts[i + 1]) / 2 for i in range(n - 1)] + [math.inf]
    return [(s, s + side, bounds[i], bounds[i + 1]) for i, s in enumerate(starts)]


def plan_tiles(
    footprints: Sequence[Sequence[tuple[float, float]]],
    persp: Perspective,
    aspect: float,
    ratio: float = STANDING_RATIO,
    fit: float = STANDING_FIT,
) -> list[Tile]:
    """Tiles covering every person whose anchor may fall in one of the regions (normalised polygons).

    aspect: frame width / height. Bands of tiles go up the frame from the lowest footprint row,
    each band's side `ratio` standing heights at its lowest row; a band reports the anchors from
    its top + `fit` standing heights down to its bottom, so the whole (visible) person fits in it.
    """
    boxes = []
    for poly in footprints:
        xs = [p[0] * aspect for p in poly]
        ys = [p[1] for p in poly]
        boxes.append((min(xs), min(ys), max(xs), max(ys)))
    if not boxes:
        return []
    tiles: list[Tile] = []
    bottom = min(1.0, max(b[3] for b in boxes) + 0.1 * persp.height(1.0))
    top_needed = min(b[1] for b in boxes)
    cell_bottom = math.inf
    while True:
        h = persp.height(bottom)
        side = min(ratio * h, 1.0, aspect)
        top = max(0.0, bottom - side)
        lo_row = top + fit * h if top > 0 else -math.inf  # anchors above this may be cut by the tile's top
        band = [b for b in boxes if b[3] >= (lo_row if top > 0 else -1) and b[1] <= bottom]
        if band:
            x_lo = min(b[0] for b in band) - OVERLAP_H * h
            x_hi = max(b[2] for b in band) + OVERLAP_H * h
            for x0, x1, cx0, cx1 in _columns(x_lo, x_hi, side, OVERLAP_H * h, aspect):
                tiles.append(Tile((x0 / aspect, top, x1 / aspect, top + side),
                                  (cx0 / aspect, lo_row, cx1 / aspect, cell_bottom)))
        if top <= 0 or lo_row <= top_needed:
            break
        bottom, cell_bottom = lo_row, lo_row
    return tiles


def cell_overlaps(tile: Tile, region: Sequence[tuple[float, float]]) -> bool:
    """True when the tile's cell meets the bounding box of a region (normalised x, frame-height y)."""
    xs = [p[0] for p in region]
    ys = [p[1] for p in region]
    cx0, cy0, cx1, cy1 = tile.cell
    return cx0 < max(xs) and min(xs) < cx1 and cy0 < max(ys) and min(ys) < cy1


def head_height_zones(zones: Sequence) -> list[str]:  # noqa: ANN001 - config Zones or ZoneSpecs (id, points, person_height)
    """The ids of the zones whose own person_height says the camera is at about head height (Perspective.at_head_height)."""
    out = []
    for z in zones:
        if z.person_height is not None and Perspective.from_zones([z]).at_head_height:
            out.append(z.id)
    return out


def body_drawn_zones(zones: Sequence) -> list[str]:  # noqa: ANN001 - config Zones or ZoneSpecs (id, kind, points, person_height)
    """The ids of the staff seats and service spots drawn as a person's body rather than a floor footprint.

    Taller than FOOTPRINT_MAX standing heights at their lowest row, by the person_height calibration of the
    camera's zones; nothing without a calibration (the standing height is then a guess).
    """
    if not any(z.person_height is not None for z in zones):
        return []
    persp = Perspective.from_zones(zones)
    out = []
    for z in zones:
        if z.kind not in SEAT_KINDS:
            continue
        ys = [p[1] for p in z.points]
        if max(ys) - min(ys) > FOOTPRINT_MAX * persp.height(max(ys)):
            out.append(z.id)
    return out


def height_factor(head_h: Sequence[float]) -> float | None:
    """How many times the calibration's standing height people are, from the head tops seen over staff seats (in the
    calibration's standing heights above the seat footprints' middle rows; STAFF_HEAD_H); None under MIN_HEAD_SIGHTINGS."""
    if len(head_h) < MIN_HEAD_SIGHTINGS:
        return None
    return round(float(np.median(np.asarray(head_h, float))) / STAFF_HEAD_H, 3)


def walker_factor(box_h: Sequence[float]) -> float | None:
    """How many times the calibration's standing height people are, from the boxes of people walking in a waiting
    area (each box's height in the calibration's standing heights at its bottom row; PersonOccupancy's
    WALKER_COVER): the median, as the markers are set at the head of someone standing, whose whole box a walker's
    is. None under MIN_HEAD_SIGHTINGS."""
    if len(box_h) < MIN_HEAD_SIGHTINGS:
        return None
    return round(float(np.median(np.asarray(box_h, float))), 3)


def height_off(factor: float | None) -> bool:
    """True when a height factor says the markers are off by more than HEIGHT_FACTOR_OK allows (None: not known yet)."""
    return factor is not None and not HEIGHT_FACTOR_OK[0] <= factor <= HEIGHT_FACTOR_OK[1]


def height_markers(zones: Sequence) -> dict[str, list[float]]:  # noqa: ANN001 - config Zones or ZoneSpecs
    """The person_height markers as set (id -> [near, far], rounded to 4 digits): what a height check measured
    against, in the worker's heartbeat, so that a correction is applied only to the markers it was found for."""
    return {z.id: [round(float(v), 4) for v in z.person_height] for z in zones if z.person_height is not None}


def scaled_heights(zones: Sequence, factor: float) -> dict[str, tuple[float, float]]:  # noqa: ANN001 - config Zones or ZoneSpecs
    """The person_height of each zone (id -> (near, far)) that makes the camera's standing heights factor times what
    they are now (the height check's correction), at most the frame's height. Zones with a person_height get it
    times factor; with none on any zone, the first waiting area (else the first zone) gets the default camera's
    heights at its bottom and top rows times factor, which puts Perspective.from_zones on the default line times factor."""
    def scale(near: float, far: float) -> tuple[float, float]:
        return round(min(near * factor, 1.0), 4), round(min(far * factor, 1.0), 4)

    calibrated = {z.id: scale(*z.person_height) for z in zones if z.person_height is not None}
    if calibrated or not zones:
        return calibrated
    zone = next((z for z in zones if z.kind == "waiting_area"), zones[0])
    ys = [p[1] for p in zone.points]
    default = Perspective.from_points([])
    return {zone.id: scale(default.height(max(ys)), default.height(min(ys)))}
