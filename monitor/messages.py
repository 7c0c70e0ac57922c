"""Typed messages from the camera worker processes (and the supervisor) to the single database writer.

Each message is a frozen dataclass; its class is its type. The workers put the objects themselves on
the multiprocessing queue (pickled: both ends run the same code, and the type travels with the
object, so no end converts anything). `to_dict()` and `Message.from_dict()` give the plain-dict
form, `{"type": ..., field: value}`, which is what tests, tools and the docs use; `from_dict` checks
every field and raises MessageError naming the message type, the field and the value.
"""

from __future__ import annotations

import math
import types
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from functools import cache
from typing import Any, ClassVar, Union, get_args, get_origin, get_type_hints

__all__ = [
    "ClipFailed",
    "ClipReady",
    "EventEnded",
    "EventStarted",
    "Heartbeat",
    "Message",
    "MessageError",
    "OccupancyCorrection",
    "OccupancySample",
    "SegmentReady",
    "Status",
    "Thumbnail",
    "ZoneReading",
    "describe",
]


class MessageError(ValueError):
    """A dict that is not a valid message: unknown type, missing or unknown field, wrong value."""


@dataclass(frozen=True)
class ZoneReading:
    """One zone in one second: occupied at the end of the second, mean people count over it."""

    occupied: bool
    count: float


@dataclass(frozen=True, kw_only=True)
class Message:
    """Fields every message has: the camera it is about and when it was sent (unix seconds)."""

    TYPE: ClassVar[str] = ""
    FIXED: ClassVar[Mapping[str, Any]] = {}  # constant fields of the dict form (the clip state)

    camera: str
    t: float

    def to_dict(self) -> dict[str, Any]:
        """The plain-dict form: {"type": TYPE, field: value, ...} (tuples as lists, zones as dicts)."""
        out: dict[str, Any] = {"type": self.TYPE}
        out.update({f.name: _plain(getattr(self, f.name)) for f in fields(self)})
        out.update(self.FIXED)
        return out

    @classmethod
    def from_dict(cls, data: Any) -> Message:
        """The message a dict describes (any type when called on Message); MessageError if it is not valid."""
        if not isinstance(data, Mapping):
            raise MessageError(f"a message must be a mapping with a 'type', got {type(data).__name__}")
        kind = data.get("type")
        target = _class_of(data)
        if cls is not Message and target is not cls:
            raise MessageError(f"expected a {cls.TYPE!r} message, got type {kind!r}")
        return target._build(data)

    @classmethod
    def _build(cls, data: Mapping[str, Any]) -> Message:
        hints = _hints(cls)
        names = {f.name for f in fields(cls)}
        unknown = sorted(str(k) for k in data if k != "type" and k not in names and k not in cls.FIXED)
        if unknown:
            raise MessageError(f"{cls.TYPE} message: unknown field(s) {', '.join(unknown)}")
        for key, value in cls.FIXED.items():
            if key in data and data[key] != value:
                raise MessageError(f"{cls.TYPE} message: {key} must be {value!r}, got {data[key]!r}")
        missing = [f.name for f in fields(cls)
                   if f.name not in data and f.default is MISSING and f.default_factory is MISSING]
        if missing:
            raise MessageError(f"{cls.TYPE} message: missing field(s) {', '.join(missing)}")
        return cls(**{f.name: _convert(hints[f.name], data[f.name], f"{cls.TYPE} message: {f.name}")
                      for f in fields(cls) if f.name in data})


@dataclass(frozen=True, kw_only=True)
class Status(Message):
    """The camera's state changed (or the periodic repeat): online, connecting, reconnecting, offline, ..."""

    TYPE: ClassVar[str] = "status"
    state: str
    error: str | None = None
    reconnects: int = 0
    info: dict[str, Any] = field(default_factory=dict)  # per stream role: what the source said about itself


@dataclass(frozen=True, kw_only=True)
class Heartbeat(Message):
    """Sent every second: the worker is alive; its pid, counters and figures (monitor/camera/stats.py)."""

    TYPE: ClassVar[str] = "heartbeat"
    pid: int | None = None
    frames: int | None = None
    packets: int | None = None
    stats: dict[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class EventStarted(Message):
    """Motion became an event; clip says whether a clip is being recorded for it."""

    TYPE: ClassVar[str] = "event_start"
    id: str
    start: float
    peak: float = 0.0
    clip: bool = False


@dataclass(frozen=True, kw_only=True)
class EventEnded(Message):
    """An event ended; zones are the ids of the zones its motion touched (None: not known)."""

    TYPE: ClassVar[str] = "event_end"
    id: str
    end: float | None
    peak: float = 0.0
    zones: tuple[str, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class ClipReady(Message):
    """An event's clip is complete; path is relative to the recordings folder."""

    TYPE: ClassVar[str] = "clip"
    FIXED: ClassVar[Mapping[str, Any]] = {"state": "complete"}
    id: str
    path: str
    duration: float | None = None


@dataclass(frozen=True, kw_only=True)
class ClipFailed(Message):
    """An event's clip could not be written (out of space, a broken stream); the event stays."""

    TYPE: ClassVar[str] = "clip"
    FIXED: ClassVar[Mapping[str, Any]] = {"state": "failed", "path": None, "duration": None}
    id: str


@dataclass(frozen=True, kw_only=True)
class Thumbnail(Message):
    """An event's thumbnail was written; path is relative to the recordings folder."""

    TYPE: ClassVar[str] = "thumbnail"
    id: str
    path: str


@dataclass(frozen=True, kw_only=True)
class OccupancySample(Message):
    """One whole second of zone occupancy for one camera; t is that second (an int)."""

    TYPE: ClassVar[str] = "occupancy"
    t: int  # narrower than Message.t: one sample per whole second
    zones: dict[str, ZoneReading]

    @classmethod
    def of(cls, camera: str, second: int, zones: Mapping[str, Mapping[str, Any]]) -> OccupancySample:
        """From SecondAggregator output: {zone: {"occupied": bool, "count": float}}."""
        return cls(camera=camera, t=second,
                   zones={z: ZoneReading(bool(r["occupied"]), float(r["count"])) for z, r in zones.items()})


@dataclass(frozen=True, kw_only=True)
class OccupancyCorrection(OccupancySample):
    """A second already sent, corrected: its zones as they are now replace what the store holds (a seated person
    found late counts from when they sat down; SecondAggregator.corrections)."""

    TYPE: ClassVar[str] = "occupancy_correction"


@dataclass(frozen=True, kw_only=True)
class SegmentReady(Message):
    """A continuous-recording segment is complete on disk; path is relative to the recordings folder.

    start is the wall-clock time of its first frame, duration comes from its packet timestamps.
    """

    TYPE: ClassVar[str] = "segment"
    path: str
    start: float
    duration: float
    bytes: int


_CLASSES: dict[str, type[Message]] = {
    c.TYPE: c
    for c in (Status, Heartbeat, EventStarted, EventEnded, ClipReady, Thumbnail, OccupancySample, OccupancyCorrection,
              SegmentReady)
}


def _class_of(data: Mapping[str, Any]) -> type[Message]:
    kind = data.get("type")
    if kind == "clip" and data.get("state") == "failed":  # one dict type, two messages (ready, failed)
        return ClipFailed
    try:
        return _CLASSES[kind]
    except (KeyError, TypeError):
        raise MessageError(f"unknown message type {kind!r}; known: {', '.join(sorted(_CLASSES))}") from None


def describe(message: Any) -> str:
    """'<type> message for <camera>' for a log line, whether message is a Message, a dict or neither."""
    if isinstance(message, Message):
        kind, camera = message.TYPE, message.camera
    elif isinstance(message, Mapping):
        kind, camera = message.get("type"), message.get("camera")
    else:
        return f"{type(message).__name__} (not a message)"
    return f"{kind} message for {camera}"


@cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in fields(value)}
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _convert(hint: Any, value: Any, where: str) -> Any:
    """value checked against a field's type hint (ints accepted as floats); MessageError if it does not fit."""
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (hint,) = [a for a in args if a is not type(None)]  # only `X | None` is used
        origin, args = get_origin(hint), get_args(hint)
    if hint is Any:
        return value
    if hint is bool and isinstance(value, bool):
        return value
    if hint is int and isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer():
        return int(value)
    if hint is float and isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    if hint is str and isinstance(value, str):
        return value
    if origin is tuple and isinstance(value, (list, tuple)):
        return tuple(_convert(args[0], v, f"{where}[{i}]") for i, v in enumerate(value))
    if origin is dict and isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        return {k: _convert(args[1], v, f"{where}.{k}") for k, v in value.items()}
    if hint is ZoneReading:
        if isinstance(value, ZoneReading):
            return value
        if isinstance(value, Mapping) and set(value) == {"occupied", "count"}:
            return ZoneReading(_convert(bool, value["occupied"], f"{where}.occupied"),
                               _convert(float, value["count"], f"{where}.count"))
        raise MessageError(f"{where}: expected {{'occupied': bool, 'count': number}}, got {value!r}")
    name = getattr(hint, "__name__", str(hint))
    raise MessageError(f"{where}: expected {name}, got {value!r}")
