"""The typed messages between the worker processes and the writer: dict form, checks, pickling, dispatch."""

from __future__ import annotations

import pickle

import pytest

from monitor.db.store import _HANDLERS, Writer, get_event, open_db
from monitor.messages import (
    ClipFailed,
    ClipReady,
    EventEnded,
    EventStarted,
    Heartbeat,
    Message,
    MessageError,
    OccupancyCorrection,
    OccupancySample,
    SegmentReady,
    Status,
    Thumbnail,
    ZoneReading,
)

T = 1_790_000_000.0

# One of each message type, with every optional field set (the default-only forms are below).
EXAMPLES: list[Message] = [
    Status(camera="quay-1", t=T, state="offline", error="timed out", reconnects=3,
           info={"main": {"codec": "h264", "width": 1920}}),
    Heartbeat(camera="quay-1", t=T, pid=4242, frames=120, packets=300,
              stats={"input_fps": 25.0, "dropped": 0, "lag_s": None}),
    EventStarted(camera="quay-1", t=T, id="quay-1-20260922-080000", start=T - 2, peak=0.4, clip=True),
    EventEnded(camera="quay-1", t=T, id="quay-1-20260922-080000", end=T + 10, peak=0.7, zones=("cho", "ghe")),
    ClipReady(camera="quay-1", t=T, id="quay-1-20260922-080000", path="quay-1/2026-09-22/e.mp4", duration=27.5),
    ClipFailed(camera="quay-1", t=T, id="quay-1-20260922-080000"),
    Thumbnail(camera="quay-1", t=T, id="quay-1-20260922-080000", path="quay-1/2026-09-22/e.jpg"),
    OccupancySample(camera="quay-1", t=1_790_000_001,
                    zones={"ghe": ZoneReading(True, 1.0), "cho": ZoneReading(False, 2.333)}),
    OccupancyCorrection(camera="quay-1", t=1_789_999_950, zones={"cho": ZoneReading(True, 3.333)}),
    SegmentReady(camera="quay-1", t=T, path="quay-1/2026-09-22/segments/080000-040.mp4", start=T - 60.5,
                 duration=60.04, bytes=15_012_345),
]
MINIMAL: list[Message] = [
    Status(camera="c", t=1.0, state="stopped"),
    Heartbeat(camera="c", t=1.0),
    EventStarted(camera="c", t=1.0, id="e", start=1.0),
    EventEnded(camera="c", t=1.0, id="e", end=None),
    ClipReady(camera="c", t=1.0, id="e", path="c/e.mp4"),
    OccupancySample(camera="c", t=1, zones={}),
]


def _id(m: Message) -> str:
    return type(m).__name__


@pytest.mark.parametrize("message", EXAMPLES + MINIMAL, ids=_id)
def test_every_message_round_trips_through_its_dict_and_pickle(message):
    data = message.to_dict()
    assert data["type"] == message.TYPE and data["camera"] == message.camera
    assert Message.from_dict(data) == message
    assert type(message).from_dict(data) == message
    assert pickle.loads(pickle.dumps(message)) == message  # what the multiprocessing queue does


def test_every_message_type_has_a_writer_handler_and_an_example():
    def leaves(cls: type) -> set[type]:
        subs = set(cls.__subclasses__())
        return subs.union(*(leaves(s) for s in subs))

    assert leaves(Message) == set(_HANDLERS) == {type(m) for m in EXAMPLES}


def test_the_dict_form_is_the_documented_wire_format():
    assert ClipFailed(camera="c", t=1.0, id="e").to_dict() == {
        "type": "clip", "camera": "c", "t": 1.0, "id": "e", "state": "failed", "path": None, "duration": None}
    assert ClipReady(camera="c", t=1.0, id="e", path="p.mp4", duration=2.0).to_dict()["state"] == "complete"
    sample = OccupancySample.of("c", 7, {"ghe": {"occupied": True, "count": 1.0}})
    assert sample.to_dict() == {"type": "occupancy", "camera": "c", "t": 7,
                                "zones": {"ghe": {"occupied": True, "count": 1.0}}}
    assert EventEnded(camera="c", t=1.0, id="e", end=2.0, zones=("a",)).to_dict()["zones"] == ["a"]


def test_older_dict_spellings_still_read():
    # ints for float fields, a clip without its state, the clip state spelled out
    assert Message.from_dict({"type": "event_start", "camera": "c", "id": "e", "start": 1, "t": 0}) == \
        EventStarted(camera="c", t=0.0, id="e", start=1.0)
    assert isinstance(Message.from_dict({"type": "clip", "camera": "c", "id": "e", "path": "p", "t": 0}), ClipReady)
    assert isinstance(Message.from_dict({"type": "clip", "camera": "c", "id": "e", "path": "p", "state": "complete",
                                         "duration": 3.0, "t": 0}), ClipReady)


@pytest.mark.parametrize("data, error", [
    ({"type": "event_end", "camera": "c"}, "event_end message: missing field(s) t, id, end"),
    ({"type": "mystery", "camera": "c", "t": 1.0}, "unknown message type 'mystery'; known: clip, event_end"),
    ({"camera": "c", "t": 1.0}, "unknown message type None"),
    (["status"], "a message must be a mapping with a 'type', got list"),
    ({"type": "status", "camera": "c", "t": "noon", "state": "online"},
     "status message: t: expected float, got 'noon'"),
    ({"type": "status", "camera": "c", "t": 1.0, "state": "online", "colour": "red"},
     "status message: unknown field(s) colour"),
    ({"type": "heartbeat", "camera": "c", "t": 1.0, "pid": True}, "heartbeat message: pid: expected int, got True"),
    ({"type": "event_end", "camera": "c", "t": 1.0, "id": "e", "end": 2.0, "zones": ["a", 3]},
     "event_end message: zones[1]: expected str, got 3"),
    ({"type": "clip", "camera": "c", "t": 1.0, "id": "e", "path": None}, "clip message: path: expected str, got None"),
    ({"type": "clip", "camera": "c", "t": 1.0, "id": "e", "state": "failed", "path": "x.mp4"},
     "clip message: path must be None, got 'x.mp4'"),
    ({"type": "occupancy", "camera": "c", "t": 1.5, "zones": {}}, "occupancy message: t: expected int, got 1.5"),
    ({"type": "occupancy", "camera": "c", "t": 1, "zones": {"ghe": {"occupied": 1}}},
     "occupancy message: zones.ghe: expected {'occupied': bool, 'count': number}, got {'occupied': 1}"),
    ({"type": "event_start", "camera": "c", "t": float("nan"), "id": "e", "start": 1.0},
     "event_start message: t: expected float, got nan"),
])
def test_from_dict_rejects_a_malformed_message_with_a_clear_error(data, error):
    with pytest.raises(MessageError) as info:
        Message.from_dict(data)
    assert str(info.value).startswith(error)


def test_from_dict_on_a_subclass_wants_that_type():
    with pytest.raises(MessageError, match="expected a 'heartbeat' message, got type 'status'"):
        Heartbeat.from_dict(Status(camera="c", t=1.0, state="online").to_dict())


def test_the_writer_takes_messages_and_dicts_alike(tmp_path):
    db = open_db(tmp_path / "m.db")
    writer = Writer(db, clock=lambda: 5.0)
    writer.apply([EXAMPLES[2], EXAMPLES[3].to_dict(), EXAMPLES[4], EXAMPLES[6].to_dict()])
    event = get_event(db, "quay-1-20260922-080000")
    assert event is not None
    assert (event["end"], event["zones"], event["clip_state"], event["clip_path"], event["thumb_path"]) == (
        T + 10, "cho,ghe", "complete", "quay-1/2026-09-22/e.mp4", "quay-1/2026-09-22/e.jpg")
    writer.apply([EXAMPLES[5]])
    event = get_event(db, "quay-1-20260922-080000")
    assert (event["clip_state"], event["clip_path"], event["clip_duration"]) == ("failed", None, None)
    db.conn.close()
