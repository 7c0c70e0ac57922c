"""The office in cameras.yaml: named counters, the queues that feed them, and the queue-ticket feeds.

A counter is a staff seat and a service spot, each a zone of some camera (not necessarily the
same one). A queue is one or more waiting areas on any cameras and feeds counters, named one by
one or by their field (lĩnh vực). Without `counters:` the office is derived as it always was: the
i-th service_spot of a camera with its i-th staff_seat, queued in that camera's first waiting_area
(`derive_office`); `explicit_yaml` prints that as the sections to paste.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field as dc_field
from typing import Annotated, Any, Protocol

import numpy as np
from pydantic import BeforeValidator, Field

from monitor.detect.occupancy import SEAT_KINDS
from monitor.site.base import Slug, StrictModel, check_slug

__all__ = [
    "CounterSpec",
    "FieldSpec",
    "Office",
    "OfficeCounter",
    "OfficeQueue",
    "QueueSpec",
    "TicketFeed",
    "TicketSettings",
    "ZoneRef",
    "derive_office",
    "explicit_yaml",
    "office_of",
    "office_problems",
    "office_summary",
    "polygon_grid",
    "seats_in_waiting_areas",
]

OVERLAP_GRID = 200  # waiting areas are compared on a 200x200 grid: a shared edge is no overlap
OVERLAP_MIN = 0.0005  # fraction of the frame two areas may share before it counts (rounding of points)
# A staff seat or service spot more than this share of whose floor footprint lies in a waiting area of its camera
# is covered by it: the area was drawn around the people in the picture (its top edge up at the heads of the back
# row, over the counters), not around the floor of the chairs. Drawn on the floor, the counters' zones and the aisle
# in front of them lie outside it (0 % of every seat and spot in the development offices and my eight simulated
# halls); score.py's body areas cover 26-80 % of the seats and spots, and their waiting area drawn so (the seats as
# footprints) took the development scenes' mean wait 1-3 % -> 39-92 % off and the count MAE 0.05-0.09 -> 0.32-1.81.
SEAT_COVERED = 0.5
SEAT_GRID = 400  # seats are small (about 28x15 px of 640x360): a finer grid than OVERLAP_GRID
DEFAULT_SKEW_S = 120.0  # a kiosk clock within two minutes of ours is normal; further is a wrong clock


def _none_as_empty(value: Any) -> Any:
    return [] if value is None else value


class ZoneRef(StrictModel):
    """A zone of a camera, by ids."""

    camera: Slug = Field(description="Camera id.")
    zone: Slug = Field(description="Zone id within that camera.")

    @property
    def key(self) -> tuple[str, str]:
        """(camera, zone)."""
        return (self.camera, self.zone)


class CounterSpec(StrictModel):
    """A service counter: where the officer sits and where the citizen is served."""

    id: Slug = Field(description="Slug, unique among counters; tickets name counters by it.")
    name: str = Field(min_length=1, description='Shown in the UI and reports, e.g. "Quầy 3 – Địa chính".')
    field: Slug | None = Field(None, description="Field (lĩnh vực) slug, e.g. dia-chinh; a queue may feed a whole field.")
    staff_seat: ZoneRef = Field(description="The officer's chair: a staff_seat zone.")
    service_spot: ZoneRef = Field(description="Where the citizen is served: a service_spot zone.")


class FieldSpec(StrictModel):
    """A field (lĩnh vực) and the names the UI and reports show for it."""

    id: Slug = Field(description="The slug counters and tickets use, e.g. dia-chinh.")
    name: str = Field(min_length=1, description='Vietnamese name, e.g. "Địa chính – xây dựng".')
    name_en: str | None = Field(None, min_length=1, description="English name; unset: the Vietnamese name.")


class QueueSpec(StrictModel):
    """Where citizens wait, and which counters call them."""

    id: Slug = Field(description="Slug, unique among queues.")
    name: str = Field(min_length=1, description="Shown in the UI and reports.")
    waiting_areas: Annotated[list[ZoneRef], BeforeValidator(_none_as_empty)] = Field(
        min_length=1, description="waiting_area zones on any cameras; their people are summed."
    )
    feeds: Annotated[list[str], BeforeValidator(_none_as_empty)] = Field(
        min_length=1, description="Counter ids and/or fields whose counters take citizens from this queue."
    )


class TicketFeed(StrictModel):
    """A queue-ticket system that sends events (POST /api/v1/tickets) or exports files."""

    id: Slug = Field(description="Slug naming the feed; tickets are unique per feed.")
    token: str | None = Field(None, description="Bearer token the feed sends; should be ${ENV_VAR}. Unset: no API access.")
    clock_skew_s: float = Field(DEFAULT_SKEW_S, ge=0, le=3600, description="Event times further in the future than this are refused.")


class TicketSettings(StrictModel):
    """Queue-ticket feeds (optional)."""

    feeds: Annotated[list[TicketFeed], BeforeValidator(_none_as_empty)] = Field(
        default_factory=list, description="The feeds allowed to send tickets."
    )

    def feed(self, feed_id: str) -> TicketFeed | None:
        """The feed with this id, or None."""
        return next((f for f in self.feeds if f.id == feed_id), None)


# ---------------------------------------------------------------- the resolved office


@dataclass(frozen=True)
class OfficeCounter:
    """A counter with its zones resolved and its queue (None: no queue feeds it)."""

    id: str
    name: str
    field: str | None
    seat: tuple[str, str]  # (camera, zone)
    spot: tuple[str, str]
    queue: str | None


@dataclass(frozen=True)
class OfficeQueue:
    """A queue: its waiting areas and the ids of the counters it feeds."""

    id: str
    name: str
    areas: tuple[tuple[str, str], ...]
    counters: tuple[str, ...]


@dataclass(frozen=True)
class Office:
    """Counters and queues; derived is True when they come from the zones (no counters: section)."""

    counters: tuple[OfficeCounter, ...]
    queues: tuple[OfficeQueue, ...]
    derived: bool
    field_names: dict[str, tuple[str, str]] = dc_field(default_factory=dict)  # field id -> (vi, en)

    def field_label(self, field_id: str | None, lang: str = "vi") -> str:
        """The field's display name in lang (vi or en); its id when the config names no such field."""
        if field_id is None:
            return ""
        vi, en = self.field_names.get(field_id, (field_id, field_id))
        return en if lang == "en" else vi

    def counter(self, counter_id: str) -> OfficeCounter | None:
        """The counter with this id, or None."""
        return next((c for c in self.counters if c.id == counter_id), None)

    @property
    def fields(self) -> list[str]:
        """The fields of the counters, in order of first appearance."""
        return list(dict.fromkeys(c.field for c in self.counters if c.field))


class _ZoneLike(Protocol):
    id: str
    kind: str
    points: list[tuple[float, float]]


class _CameraLike(Protocol):
    id: str
    name: str
    zones: list[Any]


class _ConfigLike(Protocol):
    cameras: list[Any]
    fields: list[FieldSpec]
    counters: list[CounterSpec] | None
    queues: list[QueueSpec] | None


def office_of(config: _ConfigLike) -> Office:
    """The office of a validated config: its explicit sections, or derived from the zones."""
    names = {f.id: (f.name, f.name_en or f.name) for f in getattr(config, "fields", None) or []}
    if config.counters is None:
        return derive_office(config.cameras)
    queues = tuple(
        OfficeQueue(q.id, q.name, tuple(a.key for a in q.waiting_areas), tuple(_fed(q.feeds, config.counters)))
        for q in config.queues or []
    )
    queue_of = {cid: q.id for q in queues for cid in q.counters}
    counters = tuple(
        OfficeCounter(c.id, c.name, c.field, c.staff_seat.key, c.service_spot.key, queue_of.get(c.id))
        for c in config.counters
    )
    return Office(counters, queues, derived=False, field_names=names)


def _fed(feeds: Sequence[str], counters: Sequence[CounterSpec]) -> list[str]:
    """Counter ids a queue's feeds name: counter ids as such, fields as all their counters."""
    ids = {c.id for c in counters}
    out: list[str] = []
    for item in feeds:
        named = [item] if item in ids else [c.id for c in counters if c.field == item]
        out += [cid for cid in named if cid not in out]
    return out


def derive_office(cameras: Sequence[_CameraLike]) -> Office:
    """Counters as before the office model: i-th service_spot with i-th staff_seat of one camera, first waiting_area as queue."""
    counters: list[OfficeCounter] = []
    queues: list[OfficeQueue] = []
    taken: set[str] = set()
    for cam in cameras:
        spots = [z.id for z in cam.zones if z.kind == "service_spot"]
        seats = [z.id for z in cam.zones if z.kind == "staff_seat"]
        area = next((z.id for z in cam.zones if z.kind == "waiting_area"), None)
        pairs = list(zip(spots, seats))
        ids = []
        for i, (spot, seat) in enumerate(pairs):
            cid = _unique_id(cam.id if len(pairs) == 1 else f"{cam.id}-{spot}", f"{cam.id}-{i + 1}", taken)
            name = cam.name if len(pairs) == 1 else f"{cam.name} · {spot}"
            ids.append(cid)
            counters.append(OfficeCounter(cid, name, None, (cam.id, seat), (cam.id, spot), cam.id if area and pairs else None))
        if area and pairs:
            queues.append(OfficeQueue(cam.id, cam.name, ((cam.id, area),), tuple(ids)))
    return Office(tuple(counters), tuple(queues), derived=True)


def _unique_id(wanted: str, fallback: str, taken: set[str]) -> str:
    """wanted if it is a free slug, else fallback (cut to 32 characters), else fallback-2, -3..."""
    candidates = [wanted[:32], fallback[-32:]] + [f"{fallback[:28]}-{n}" for n in range(2, 1000)]
    for cid in candidates:
        try:
            check_slug(cid)
        except ValueError:
            continue
        if cid not in taken:
            taken.add(cid)
            return cid
    raise ValueError(f"no free counter id for {wanted!r}")  # 1000 counters of one camera: not an office


# ---------------------------------------------------------------- validation

Loc = tuple[str | int, ...]
_WANTED_KIND = {"staff_seat": "staff_seat", "service_spot": "service_spot", "waiting_areas": "waiting_area"}


def office_problems(config: _ConfigLike) -> list[tuple[Loc, str]]:
    """(YAML location, message) for each problem of the counters and queues sections; [] when fine."""
    if config.counters is None:
        if config.queues:
            return [(("queues",), "queues need a counters: section naming the counters they feed")]
        return []
    cameras = {c.id: c for c in config.cameras}
    problems = _duplicates(config.counters, "counters", "counter") + _duplicates(config.queues or [], "queues", "queue")
    used: dict[tuple[str, str], Loc] = {}
    for loc, ref, kind in _refs(config):
        message = _ref_problem(ref, kind, cameras)
        if message is None and ref.key in used:
            message = f"zone {ref.camera}/{ref.zone} is already used by {_dotted(used[ref.key])}"
        if message is not None:
            problems.append((loc + (message[0],), message[1]) if isinstance(message, tuple) else (loc, message))
        used.setdefault(ref.key, loc)
    problems += _overlaps(config, cameras)
    problems += _feed_problems(config)
    problems += _field_problems(config)
    return problems


def _field_problems(config: _ConfigLike) -> list[tuple[Loc, str]]:
    """Duplicate field ids. A counter's field missing from fields: is allowed: it is shown by its id."""
    return _duplicates(getattr(config, "fields", None) or [], "fields", "field")


def _duplicates(items: Sequence[CounterSpec | QueueSpec | FieldSpec], section: str, what: str) -> list[tuple[Loc, str]]:
    seen: dict[str, int] = {}
    out: list[tuple[Loc, str]] = []
    for i, item in enumerate(items):
        if item.id in seen:
            out.append(((section, i, "id"), f"duplicate {what} id '{item.id}' (first used by {section}[{seen[item.id]}])"))
        seen.setdefault(item.id, i)
    return out


def _refs(config: _ConfigLike) -> list[tuple[Loc, ZoneRef, str]]:
    """Every zone reference with its location and the zone kind it needs."""
    out: list[tuple[Loc, ZoneRef, str]] = []
    for i, c in enumerate(config.counters or []):
        out.append((("counters", i, "staff_seat"), c.staff_seat, "staff_seat"))
        out.append((("counters", i, "service_spot"), c.service_spot, "service_spot"))
    for i, q in enumerate(config.queues or []):
        out += [(("queues", i, "waiting_areas", k), a, "waiting_area") for k, a in enumerate(q.waiting_areas)]
    return out


def _ref_problem(ref: ZoneRef, kind: str, cameras: dict[str, _CameraLike]) -> tuple[str, str] | None:
    """(the key at fault, message) when the reference does not name a zone of the right kind."""
    cam = cameras.get(ref.camera)
    if cam is None:
        return "camera", f"unknown camera '{ref.camera}' (known: {', '.join(cameras) or 'none configured'})"
    zone = next((z for z in cam.zones if z.id == ref.zone), None)
    if zone is None:
        known = ", ".join(z.id for z in cam.zones if z.kind == kind) or f"no {kind} zones"
        return "zone", f"camera '{ref.camera}' has no zone '{ref.zone}' ({kind} zones: {known})"
    if zone.kind != kind:
        return "zone", f"zone {ref.camera}/{ref.zone} is a {zone.kind} zone; a {kind} zone is needed here"
    return None


def _overlaps(config: _ConfigLike, cameras: dict[str, _CameraLike]) -> list[tuple[Loc, str]]:
    """Two waiting areas of the queues that share floor on one camera: the people there would count twice."""
    areas = [(loc, ref) for loc, ref, _ in _refs(config) if loc[0] == "queues"]
    masks: dict[tuple[str, str], np.ndarray] = {}
    for _, ref in areas:
        zone = next((z for z in getattr(cameras.get(ref.camera), "zones", []) if z.id == ref.zone), None)
        if zone is not None and zone.kind == "waiting_area":
            masks[ref.key] = polygon_grid(zone.points)
    out: list[tuple[Loc, str]] = []
    for k, (loc, ref) in enumerate(areas):
        for other_loc, other in areas[:k]:
            if ref.camera != other.camera or ref.key == other.key or ref.key not in masks or other.key not in masks:
                continue
            shared = float(np.mean(masks[ref.key] & masks[other.key]))
            if shared > OVERLAP_MIN:
                out.append((loc, f"waiting area {ref.camera}/{ref.zone} overlaps {other.camera}/{other.zone} "
                                 f"({_dotted(other_loc)}) on {shared:.1%} of the picture; people there would be counted twice"))
    return out


def polygon_grid(points: Sequence[tuple[float, float]], size: int = OVERLAP_GRID) -> np.ndarray:
    """Boolean size x size grid of the cell centres inside the polygon (even-odd rule)."""
    c = (np.arange(size) + 0.5) / size
    x, y = np.meshgrid(c, c)
    inside = np.zeros(x.shape, bool)
    pts = list(points)
    for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1]):
        if y0 == y1:
            continue
        crosses = (y0 > y) != (y1 > y)
        x_at = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
        inside ^= crosses & (x < x_at)
    return inside


def seats_in_waiting_areas(zones: Sequence[Any]) -> list[tuple[str, str]]:
    """(waiting area id, seat or spot id) for each staff seat or service spot a waiting area of the same camera
    covers (more than SEAT_COVERED of its footprint): the area was drawn around the people, not the floor."""
    areas = [(z.id, polygon_grid(z.points, SEAT_GRID)) for z in zones if z.kind == "waiting_area"]
    if not areas:
        return []
    out = []
    for z in zones:
        if z.kind not in SEAT_KINDS:
            continue
        seat = polygon_grid(z.points, SEAT_GRID)
        cells = max(int(seat.sum()), 1)
        out += [(aid, z.id) for aid, area in areas if (seat & area).sum() / cells > SEAT_COVERED]
    return out


def _feed_problems(config: _ConfigLike) -> list[tuple[Loc, str]]:
    counters = config.counters or []
    ids = {c.id for c in counters}
    fields = {c.field for c in counters if c.field}
    out: list[tuple[Loc, str]] = []
    fed_by: dict[str, str] = {}
    for i, q in enumerate(config.queues or []):
        for k, item in enumerate(q.feeds):
            if item in ids and item in fields:
                out.append((("queues", i, "feeds", k), f"'{item}' is both a counter id and a field; rename one"))
            elif item not in ids and item not in fields:
                out.append((("queues", i, "feeds", k), f"'{item}' is neither a counter id ({', '.join(sorted(ids))}) "
                                                       f"nor a field ({', '.join(sorted(fields)) or 'none set'})"))
        for cid in _fed(q.feeds, counters):
            if cid in fed_by and fed_by[cid] != q.id:
                out.append((("queues", i, "feeds"), f"counter '{cid}' is already fed by queue '{fed_by[cid]}'; "
                                                    "a counter takes its citizens from one queue"))
            fed_by.setdefault(cid, q.id)
    for i, c in enumerate(counters):
        if c.id not in fed_by:
            how = f" (or its field '{c.field}')" if c.field else ""
            out.append((("counters", i, "id"), f"counter '{c.id}' is fed by no queue: add it{how} to a queue's feeds"))
    return out


def _dotted(loc: Loc) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if k else str(p)) for k, p in enumerate(loc))


# ---------------------------------------------------------------- the explicit sections


def explicit_yaml(office: Office) -> str:
    """The office as `counters:` and `queues:` YAML, to paste into cameras.yaml (names quoted)."""
    lines = ["counters:"]
    for c in office.counters:
        lines += [f"  - id: {c.id}", f"    name: {_quote(c.name)}"]
        if c.field:
            lines.append(f"    field: {c.field}")
        lines += [f"    staff_seat: {{camera: {c.seat[0]}, zone: {c.seat[1]}}}",
                  f"    service_spot: {{camera: {c.spot[0]}, zone: {c.spot[1]}}}"]
    lines.append("queues:" if office.queues else "queues: []")
    for q in office.queues:
        lines += [f"  - id: {q.id}", f"    name: {_quote(q.name)}", "    waiting_areas:"]
        lines += [f"      - {{camera: {cam}, zone: {zone}}}" for cam, zone in q.areas]
        lines.append(f"    feeds: [{', '.join(q.counters)}]")
    unfed = [c.id for c in office.counters if c.queue is None]
    if unfed:
        lines.append(f"# no waiting area feeds {', '.join(unfed)}: add a queue feeding them before pasting "
                     "(a counter without a queue is an error in the explicit sections)")
    return "\n".join(lines)


def office_summary(office: Office) -> str:
    """The counters and queues for `onestop check-config`; derived ones come as YAML to paste."""
    if office.derived:
        return ("Counters derived from the zones (no counters: section). To name them and share queues "
                "across cameras, paste and edit:\n" + explicit_yaml(office))
    lines = [f"Counters: {len(office.counters)}"]
    lines += [f"  {c.id}  {c.name}  field={c.field or '-'}  seat={'/'.join(c.seat)}  spot={'/'.join(c.spot)}"
              f"  queue={c.queue}" for c in office.counters]
    lines.append(f"Queues: {len(office.queues)}")
    lines += [f"  {q.id}  {q.name}  areas={', '.join('/'.join(a) for a in q.areas)}  feeds={', '.join(q.counters)}"
              for q in office.queues]
    return "\n".join(lines)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
