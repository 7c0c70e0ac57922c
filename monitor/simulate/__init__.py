"""A synthetic one-stop office with ground truth: model (story), render (pixels), output (video, YAML, truth)."""

from monitor.simulate.model import (
    Actor,
    ActorState,
    CitizenRecord,
    CounterModel,
    Layout,
    OfficeModel,
    Segment,
    SimConfig,
    point_in_polygon,
)
from monitor.simulate.output import SimResult, make_renderer, simulate_office
from monitor.simulate.render import CameraRenderer, Look, draw_person

__all__ = [
    "Actor",
    "ActorState",
    "CameraRenderer",
    "CitizenRecord",
    "CounterModel",
    "Layout",
    "Look",
    "OfficeModel",
    "Segment",
    "SimConfig",
    "SimResult",
    "draw_person",
    "make_renderer",
    "point_in_polygon",
    "simulate_office",
]
