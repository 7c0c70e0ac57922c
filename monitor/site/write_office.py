"""Edit the `counters:` and `queues:` sections of cameras.yaml from the web UI, through monitor.site.write.

Each change goes through the same editing session as the camera edits (file lock, ruamel round trip
keeping comments, load_config on a candidate before it replaces the file, a backup). A file without
the sections gets them written out from its derived office first, so the first edit keeps every
counter the zones gave. After a change, feed entries that name no counter nor field any more are
dropped, and so is a queue left feeding nothing (its waiting areas can be made a queue again).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from monitor.site.config import Config, ConfigError
from monitor.site.office import Office
from monitor.site.write import editing, flow, put

__all__ = ["CounterInput", "QueueInput", "remove_counter", "remove_queue", "save_counter", "save_queue"]

Key = tuple[str, str]  # (camera, zone)


@dataclass
class CounterInput:
    """A counter as the admin entered it; queue: the id of the queue feeding it, or new_queue to make one."""

    id: str
    name: str
    field: str | None
    seat: Key
    spot: Key
    queue: str | None = None
    new_queue: QueueInput | None = None


@dataclass
class QueueInput:
    """A queue as the admin entered it."""

    id: str
    name: str
    areas: list[Key] = field(default_factory=list)
    feeds: list[str] = field(default_factory=list)


def save_counter(path: Path, office: Office, counter: CounterInput, new: bool) -> Config:
    """Add (new) or change a counter and make the chosen queue feed it."""
    with editing(path) as edit:
        counters, queues = _sections(edit.doc, office)
        node = _find(counters, counter.id)
        if new and node is not None:
            raise ConfigError([f"{path}: counters: a counter with id '{counter.id}' already exists"])
        if not new and node is None:
            raise KeyError(counter.id)
        if node is None:
            node = CommentedMap(id=counter.id)
            counters.append(node)
        put(node, "name", counter.name, after="id")
        put(node, "field", counter.field, after="name")
        put(node, "staff_seat", _ref(counter.seat), after="field" if counter.field else "name")
        put(node, "service_spot", _ref(counter.spot), after="staff_seat")
        target = counter.queue
        if counter.new_queue is not None:
            queues.append(_queue_node(counter.new_queue))
            target = counter.new_queue.id
        _feed(queues, counter, target)
        _prune(edit.doc)
    return edit.config


def remove_counter(path: Path, office: Office, counter_id: str) -> Config:
    """Delete a counter; without counters left the sections go and the office is derived from the zones again."""
    with editing(path) as edit:
        counters, _queues = _sections(edit.doc, office)
        node = _find(counters, counter_id)
        if node is None:
            raise KeyError(counter_id)
        counters.remove(node)
        if not counters:
            edit.doc.pop("counters", None)
            edit.doc.pop("queues", None)
        else:
            _prune(edit.doc)
    return edit.config


def save_queue(path: Path, office: Office, queue: QueueInput, new: bool) -> Config:
    """Add (new) or change a queue: its name, waiting areas and feeds."""
    with editing(path) as edit:
        _counters, queues = _sections(edit.doc, office)
        node = _find(queues, queue.id)
        if new and node is not None:
            raise ConfigError([f"{path}: queues: a queue with id '{queue.id}' already exists"])
        if not new and node is None:
            raise KeyError(queue.id)
        if node is None:
            queues.append(_queue_node(queue))
        else:
            put(node, "name", queue.name, after="id")
            node["waiting_areas"] = CommentedSeq(_ref(a) for a in queue.areas)
            node["feeds"] = flow(list(queue.feeds))
    return edit.config


def remove_queue(path: Path, office: Office, queue_id: str) -> Config:
    """Delete a queue (the counters it fed need another queue, or the file is not changed)."""
    with editing(path) as edit:
        _counters, queues = _sections(edit.doc, office)
        node = _find(queues, queue_id)
        if node is None:
            raise KeyError(queue_id)
        queues.remove(node)
    return edit.config


# ---------------------------------------------------------------- helpers


def _sections(doc: CommentedMap, office: Office) -> tuple[CommentedSeq, CommentedSeq]:
    """The counters and queues sequences; written out from the derived office when the file has none."""
    if not isinstance(doc.get("counters"), list):
        doc["counters"] = CommentedSeq(_counter_node(c.id, c.name, c.field, c.seat, c.spot) for c in office.counters)
        doc["queues"] = CommentedSeq(_queue_node(QueueInput(q.id, q.name, list(q.areas), list(q.counters)))
                                     for q in office.queues)
    if not isinstance(doc.get("queues"), list):
        doc["queues"] = CommentedSeq()
    return doc["counters"], doc["queues"]


def _find(seq: CommentedSeq, item_id: str) -> CommentedMap | None:
    return next((n for n in seq if isinstance(n, dict) and str(n.get("id")) == item_id), None)


def _ref(key: Key) -> CommentedMap:
    node = CommentedMap(camera=key[0], zone=key[1])
    node.fa.set_flow_style()
    return node


def _counter_node(cid: str, name: str, fld: str | None, seat: Key, spot: Key) -> CommentedMap:
    node = CommentedMap(id=cid, name=name)
    if fld:
        node["field"] = fld
    node["staff_seat"], node["service_spot"] = _ref(seat), _ref(spot)
    return node


def _queue_node(queue: QueueInput) -> CommentedMap:
    return CommentedMap(id=queue.id, name=queue.name, waiting_areas=CommentedSeq(_ref(a) for a in queue.areas),
                        feeds=flow(list(queue.feeds)))


def _feed(queues: CommentedSeq, counter: CounterInput, target: str | None) -> None:
    """Make `target` the one queue naming this counter (its field, if the queue feeds that, is enough)."""
    for q in queues:
        feeds = q.get("feeds")
        if not isinstance(feeds, list):
            continue
        if str(q.get("id")) != target:
            while counter.id in feeds:
                feeds.remove(counter.id)
        elif counter.id not in feeds and (counter.field is None or counter.field not in feeds):
            feeds.append(counter.id)


def _prune(doc: CommentedMap) -> None:
    """Drop feed entries naming no counter nor field, then the queues left feeding nothing."""
    counters: list[Any] = [c for c in doc.get("counters") or [] if isinstance(c, dict)]
    names = {str(c.get("id")) for c in counters} | {str(c.get("field")) for c in counters if c.get("field")}
    queues = doc.get("queues") or []
    for q in list(queues):
        feeds = q.get("feeds") if isinstance(q, dict) else None
        if not isinstance(feeds, list):
            continue
        for item in [f for f in feeds if str(f) not in names]:
            feeds.remove(item)
        if not feeds:
            queues.remove(q)
