"""The events list: filters, keyset pages (cursors) and the per-zone index of events (migration 008)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlite_utils

CURSOR_ID_MAX = 200  # event ids are <camera>-<YYYYmmdd-HHMMSS>-<hex>: well under this
_CURSOR = re.compile(r"([0-9]{1,12}(?:\.[0-9]{1,20})?)_([A-Za-z0-9_.-]{1,%d})" % CURSOR_ID_MAX)


@dataclass(frozen=True)
class EventFilter:
    """What the events list may be narrowed to; None means no condition."""

    camera: str | None = None
    zone: str | None = None
    since: float | None = None  # start >= since
    until: float | None = None  # start < until
    tod_from: int | None = None  # seconds after local midnight: start's local time >= tod_from ...
    tod_to: int | None = None  # ... and < tod_to (from > to wraps past midnight)
    tz: ZoneInfo | None = None  # the zone of the time-of-day conditions (UTC when None)
    min_length: float | None = None  # end - start >= min_length (ongoing events have no length yet)
    reviewed: bool | None = None


@dataclass(frozen=True)
class Cursor:
    """A place in the newest-first list: the (start, id) of one event; pages continue past it."""

    start: float
    id: str

    @classmethod
    def of(cls, event: dict[str, Any]) -> Cursor:
        """The cursor of an events row."""
        return cls(float(event["start"]), str(event["id"]))

    @classmethod
    def parse(cls, raw: str) -> Cursor:
        """A cursor from its token '<start>_<id>'; ValueError when it is not one."""
        m = _CURSOR.fullmatch(raw)
        if not m:
            raise ValueError(raw)
        return cls(float(m.group(1)), m.group(2))

    def token(self) -> str:
        """The URL form: start exactly (repr round-trips a float), then the id."""
        text = repr(self.start)
        return f"{text}_{self.id}" if "e" not in text else f"{self.start:.6f}_{self.id}"


@dataclass(frozen=True)
class EventPage:
    """One page of the list, newest first, with the cursors of its older and newer neighbours."""

    events: list[dict[str, Any]]
    older: Cursor | None  # pass as `before` for the next older page; None at the oldest
    newer: Cursor | None  # pass as `after` for the next newer page; None at the newest


def list_events(
    db: sqlite_utils.Database,
    *,
    camera: str | None = None,
    since: float | None = None,
    until: float | None = None,
    limit: int = 100,
    offset: int = 0,
    filters: EventFilter | None = None,
    before: Cursor | None = None,
    after: Cursor | None = None,
) -> list[dict[str, Any]]:
    """Events newest first (start, then id), narrowed by `filters`, the shortcuts and a cursor.

    `before`: only events older than the cursor; `after`: only the `limit` events just newer
    than it (still returned newest first).
    """
    shortcuts = {"camera": camera or None, "since": since, "until": until}
    f = replace(filters or EventFilter(), **{k: v for k, v in shortcuts.items() if v is not None})
    sql, params = list_sql(db, f, before=before, after=after)
    cur = db.execute(sql, [*params, limit, offset])
    cols = [c[0] for c in cur.description]
    rows = [dict(zip(cols, row)) for row in cur.fetchall()]
    return rows[::-1] if after else rows


def list_sql(db: sqlite_utils.Database, f: EventFilter, *, before: Cursor | None = None,
             after: Cursor | None = None) -> tuple[str, list[Any]]:
    """The SELECT of list_events (ending in `limit ? offset ?`) and its parameters before those two."""
    by_zone = bool(f.zone) and has_zone_index(db)
    key, key_id = ("z", "event_id") if by_zone else ("e", "id")
    where, params = _event_conditions(db, f, key=key, by_zone=by_zone)
    cursor, direction = (after, "asc") if after else (before, "desc")
    if cursor is not None:
        where.append(f"({key}.start, {key}.{key_id}) {'>' if after else '<'} (?, ?)")
        params += [cursor.start, cursor.id]
    # CROSS JOIN keeps event_zones as the outer loop: its index gives the order, events is looked up by id.
    source = "event_zones z cross join events e on e.id = z.event_id" if by_zone else _events_source(f)
    return (f"select e.* from {source} where {' and '.join(where) or '1=1'}"
            f" order by {key}.start {direction}, {key}.{key_id} {direction} limit ? offset ?"), params


def _events_source(f: EventFilter) -> str:
    """The events table, through the partial index of reviewed events when only those are wanted."""
    if not f.reviewed:
        return "events e"
    # Without statistics the planner may take the full (camera, start, end) index for a cursor range
    # and skip 19 of 20 rows (5% of events are reviewed); the partial index holds only the wanted ones.
    return f"events e indexed by idx_events_reviewed{'_camera' if f.camera else ''}_start"


def page_events(db: sqlite_utils.Database, filters: EventFilter, size: int, *, before: Cursor | None = None,
                after: Cursor | None = None, offset: int = 0) -> EventPage:
    """One page of `size` events: the newest, the ones older than `before`, or newer than `after`."""
    if after is not None:
        rows = list_events(db, filters=filters, limit=size + 1, after=after)
        if len(rows) > size:  # more newer ones beyond this page
            shown = rows[1:]
            return EventPage(shown, Cursor.of(shown[-1]), Cursor.of(shown[0]))
        before = None  # we reached the newest events: show the first page, full
    rows = list_events(db, filters=filters, limit=size + 1, before=before, offset=offset)
    shown = rows[:size]
    older = Cursor.of(shown[-1]) if len(rows) > size else None
    if before is None and offset == 0:
        newer = None
    else:  # an empty page past the end still links back to the events before its cursor
        newer = Cursor.of(shown[0]) if shown else before
    return EventPage(shown, older, newer)


def has_zone_index(db: sqlite_utils.Database) -> bool:
    """Whether the database has event_zones (migration 008; a read-only connection cannot migrate)."""
    return db.execute("select 1 from sqlite_master where type = 'table' and name = 'event_zones'").fetchone() is not None


def _event_conditions(db: sqlite_utils.Database, f: EventFilter, *, key: str = "e",
                      by_zone: bool = False) -> tuple[list[str], list[Any]]:
    """SQL conditions for a filter: start and camera on the key table `key`, the rest on the events row `e`."""
    where: list[str] = []
    params: list[Any] = []
    if f.camera:
        where.append(f"{key}.camera = ?")
        params.append(f.camera)
    if f.zone and by_zone:
        where.append("z.zone = ?")
        params.append(f.zone)
    elif f.zone:
        where.append("instr(',' || e.zones || ',', ?) > 0")
        params.append(f",{f.zone},")
    if f.since is not None:
        where.append(f"{key}.start >= ?")
        params.append(f.since)
    if f.until is not None:
        where.append(f"{key}.start < ?")
        params.append(f.until)
    if f.tod_from is not None or f.tod_to is not None:
        tod = _time_of_day_sql(db, f.tz)
        bounds = [(f"{tod} >= ?", f.tod_from), (f"{tod} < ?", f.tod_to)]
        bounds = [(sql, v) for sql, v in bounds if v is not None]
        wraps = f.tod_from is not None and f.tod_to is not None and f.tod_from > f.tod_to  # e.g. 22:00-06:00
        where.append(f"({' or '.join(sql for sql, _ in bounds)})" if wraps else " and ".join(sql for sql, _ in bounds))
        params += [v for _, v in bounds]
    if f.min_length is not None:
        where.append('e."end" - e.start >= ?')
        params.append(f.min_length)
    if f.reviewed is not None:
        where.append("e.reviewed_at is not null" if f.reviewed else "e.reviewed_at is null")
    return where, params


def _fixed_offset(tz: ZoneInfo) -> int | None:
    """The zone's UTC offset in seconds if it keeps one offset all year (no daylight saving), else None."""
    offsets = {datetime(y, m, 1, tzinfo=tz).utcoffset() for y in range(2020, 2040) for m in (1, 4, 7, 10)}
    if len(offsets) != 1:
        return None
    (offset,) = offsets
    return int(offset.total_seconds()) if offset is not None else 0


def _time_of_day_sql(db: sqlite_utils.Database, tz: ZoneInfo | None) -> str:
    """An SQL expression for the local seconds-after-midnight of an event's start."""
    offset = 0 if tz is None else _fixed_offset(tz)
    if offset is not None:  # Asia/Ho_Chi_Minh and other zones without daylight saving: plain arithmetic
        return f"((cast(e.start as integer) + {offset}) % 86400 + 86400) % 86400"
    zone = tz

    def local_tod(start: float | None) -> int | None:
        if start is None:
            return None
        t = datetime.fromtimestamp(start, zone)
        return t.hour * 3600 + t.minute * 60 + t.second

    db.conn.create_function("onestop_local_tod", 1, local_tod, deterministic=True)
    return "onestop_local_tod(e.start)"


# -- the per-zone index (migration 008) -------------------------------------------------------------


def _zones_json(column: str) -> str:
    """SQL turning a comma-separated zones value into a JSON array (zone ids are slugs: no quotes)."""
    return f"""'["' || replace({column}, ',', '","') || '"]'"""


def _valid_json(column: str) -> str:
    """SQL for the zones JSON array of `column`, or an empty array when the value is not a plain list."""
    arr = _zones_json(column)
    return f"case when {column} is not null and json_valid({arr}) then {arr} else '[]' end"


def _insert_zones_sql(row: str, source: str = "") -> str:
    """SQL adding the event_zones rows of the events row `row` (new, or an alias declared in `source`)."""
    return (f"insert or ignore into event_zones (zone, camera, start, event_id)"
            f" select j.value, {row}.camera, {row}.start, {row}.id from {source}json_each({_valid_json(row + '.zones')}) j"
            f" where j.value != ''")


def _delete_zones_sql(row: str) -> str:
    """SQL removing the event_zones rows of the events row `row` (old), by primary key."""
    return (f"delete from event_zones where camera = {row}.camera and start = {row}.start and event_id = {row}.id"
            f" and zone in (select value from json_each({_valid_json(row + '.zones')}))")


def create_zone_index(db: sqlite_utils.Database) -> None:
    """Create event_zones, the triggers keeping it equal to events.zones, and fill it from the events."""
    # One row per (event, zone) with the event's camera and start copied in, in index order: "camera X,
    # zone Z, newest first" is one range of the primary key, "zone Z, newest first" one of the index.
    db.execute(
        "CREATE TABLE event_zones ("
        " zone TEXT NOT NULL, camera TEXT NOT NULL, start REAL NOT NULL, event_id TEXT NOT NULL,"
        " PRIMARY KEY (zone, camera, start, event_id)) WITHOUT ROWID"
    )
    db.execute("CREATE INDEX idx_event_zones_zone_start ON event_zones (zone, start, event_id)")
    # Triggers rather than Writer code: every path that writes events (writer, prune, recovery, tools)
    # keeps the index right. `insert or replace` deletes without firing delete triggers, hence the
    # BEFORE INSERT clean-up of the row about to be replaced.
    db.execute(f"CREATE TRIGGER event_zones_insert AFTER INSERT ON events BEGIN {_insert_zones_sql('new')}; END")
    db.execute(
        "CREATE TRIGGER event_zones_replace BEFORE INSERT ON events BEGIN"
        " delete from event_zones where (zone, camera, start, event_id) in"
        f" (select j.value, o.camera, o.start, o.id from events o, json_each({_valid_json('o.zones')}) j"
        " where o.id = new.id); END"
    )
    db.execute(
        "CREATE TRIGGER event_zones_update AFTER UPDATE OF zones, start, camera ON events"
        " WHEN old.zones IS NOT new.zones OR old.start IS NOT new.start OR old.camera IS NOT new.camera"
        f" BEGIN {_delete_zones_sql('old')}; {_insert_zones_sql('new')}; END"
    )
    db.execute(f"CREATE TRIGGER event_zones_delete AFTER DELETE ON events BEGIN {_delete_zones_sql('old')}; END")
    db.execute(_insert_zones_sql("e", source="events e, "))
