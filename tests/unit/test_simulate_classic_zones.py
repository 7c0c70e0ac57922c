"""The classic simulator's waiting row: its floor footprint holds where the person detector anchors the sitters."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from monitor.detect.occupancy import ZoneSpec
from monitor.detect.presence import PersonOccupancy
from monitor.simulate.model import (
    SEAT_FRAC,
    Actor,
    ActorState,
    CounterModel,
    Layout,
    Segment,
    SimConfig,
    point_in_polygon,
)
from monitor.simulate.render import CameraRenderer

LAYOUTS = {"quay-1": Layout(), "quay-2 (mirrored)": Layout().mirrored()}


def _seated_row(layout: Layout) -> list[ActorState]:
    """A citizen on every waiting chair, each with a look of their own."""
    out = []
    for k, seat in enumerate(layout.waiting_seats):
        actor = Actor(f"c{k}", "citizen", 1000 + 7919 * k, (Segment(0.0, 60.0, (seat,), "sit", "waiting"),))
        out.append(ActorState(actor, seat[0], seat[1], "sit", "waiting", 0.0, (0.0, 0.0), 0.0))
    return out


def _specs(layout: Layout) -> list[ZoneSpec]:
    return [ZoneSpec(zid, z["kind"], tuple(tuple(p) for p in z["points"]),
                     tuple(z["person_height"]) if "person_height" in z else None)
            for zid, z in layout.zones().items()]


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_a_full_waiting_row_is_counted_by_the_detector(name: str) -> None:
    """The real model on a rendered row of five sitters: those it finds are counted in the waiting area.

    The footprint used to stop above the chairs' floor row while the detector anchors a sitter seen
    from behind at their seat, 0.27 standing heights higher in the picture: the count read 0.
    """
    layout = LAYOUTS[name]
    frame = CameraRenderer(layout, (640, 360), seed=1, noise_sigma=2.0).render(_seated_row(layout), (1001, False), 0.0, 0.0)
    rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    occ = PersonOccupancy(_specs(layout), 16 / 9)
    motion = np.zeros(rgb.shape[:2], np.uint8)
    for i in range(41):  # 20 s at 2 analyses a second: every waiting-area tile runs more than once
        state = occ.update(i * 0.5, motion, lambda: rgb)
    xs = [s[0] for s in layout.waiting_seats]
    over_chairs = [d for d in occ._area_dets if min(xs) - 0.04 <= (d.x0 + d.x1) / 2 <= max(xs) + 0.04 and d.y0 > 0.45]
    assert len(over_chairs) >= 3, over_chairs  # the model finds most of the flat sitters (4 of 5 here)
    poly = layout.zones()["waiting"]["points"]
    for d in over_chairs:
        assert point_in_polygon(occ.anchor(d), poly), (d, occ.anchor(d), poly)
    assert state["waiting"].count == len(over_chairs)


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_waiting_footprint_lies_on_the_far_side_of_the_chairs(name: str) -> None:
    """Chairs and the rows where their seats are seen are inside; the floor towards the camera is not."""
    layout = LAYOUTS[name]
    poly = layout.zones()["waiting"]["points"]
    for x, y in layout.waiting_seats:
        h = layout.height(y)
        assert point_in_polygon((x, y), poly)  # the chair's floor
        assert point_in_polygon((x, y - SEAT_FRAC * h), poly)  # its seat, where a sitter's hidden legs start
        assert point_in_polygon((x, layout.walk_y), poly)  # where the sitters' feet are, facing the counter
        assert not point_in_polygon((x, y + 0.1 * h), poly)  # behind the chairs, on the camera's side: nobody
    assert not point_in_polygon(layout.citizen_seat, poly)


def test_truth_counts_someone_walking_along_the_row_in_the_waiting_area() -> None:
    """The truth follows the definition the detector measures: feet (or the seat) in the footprint."""
    model = CounterModel(Layout(), SimConfig(minutes=0.1), np.random.default_rng(0))
    seat = model.layout.waiting_seats[1]
    walker = Actor("w", "citizen", 1, (Segment(0.0, 10.0, ((seat[0], model.layout.walk_y), seat), "walk"),))
    assert model.state(walker, 0.1).zone == "waiting"
    stroller = Actor("s", "citizen", 2, (Segment(0.0, 10.0, (model.layout.aisle[0], model.layout.door_point()), "walk"),))
    assert model.state(stroller, 0.1).zone is None
