"""SQLite store: schema with recorded migrations, the single writer, and read queries."""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import sqlite_utils

from monitor.messages import (ClipFailed, ClipReady, EventEnded, EventStarted, Heartbeat, Message, OccupancyCorrection,
                              OccupancySample, SegmentReady, Status, Thumbnail, ZoneReading)
from monitor.records import ZoneSamples
from monitor.db.outbox import m012_hub_outbox
from monitor.db.segments import insert_segment, m013_segments
from monitor.db.cases import m014_cases
from monitor.db.tickets import m010_tickets
from monitor.db.alerts import create_table as create_alerts_table
from monitor.db.eventlist import Cursor, EventFilter, EventPage, create_zone_index, list_events, page_events  # noqa: F401

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000  # a web reader or a backup may hold a lock for seconds; never fail a write for that

Migration = Callable[[sqlite_utils.Database], None]


def _m001_initial(db: sqlite_utils.Database) -> None:
    db["cameras"].create(
        {
            "id": str,
            "name": str,
            "enabled": int,
            "state": str,
            "state_since": float,
            "last_seen": float,
            "error": str,
            "reconnects": int,
            "info": str,
            "updated": float,
        },
        pk="id",
    )
    db["events"].create(
        {
            "id": str,
            "camera": str,
            "start": float,
            "end": float,
            "peak": float,
            "clip_path": str,
            "thumb_path": str,
            "clip_state": str,
            "clip_duration": float,
            "created": float,
        },
        pk="id",
    )
    db["events"].create_index(["start"])
    db["events"].create_index(["camera", "start"])


def _m002_camera_process(db: sqlite_utils.Database) -> None:
    db["cameras"].add_column("pid", int)
    db["cameras"].add_column("frames", int)


def _m003_occupancy(db: sqlite_utils.Database) -> None:
    # WITHOUT ROWID: rows are stored in primary-key order, so a (camera, zone, t0..t1) read is one
    # contiguous range of the table itself, with no separate index to keep up to date.
    db.execute(
        "CREATE TABLE occupancy ("
        " camera TEXT NOT NULL, zone TEXT NOT NULL, t INTEGER NOT NULL,"
        " occupied INTEGER NOT NULL, count REAL NOT NULL,"
        " PRIMARY KEY (camera, zone, t)) WITHOUT ROWID"
    )
    db.execute(
        "CREATE TABLE occupancy_minute ("
        " camera TEXT NOT NULL, zone TEXT NOT NULL, minute INTEGER NOT NULL,"
        " samples INTEGER NOT NULL, occupied_s INTEGER NOT NULL,"
        " count_sum REAL NOT NULL, count_max REAL NOT NULL,"
        " PRIMARY KEY (camera, zone, minute)) WITHOUT ROWID"
    )


def _m004_users(db: sqlite_utils.Database) -> None:
    # Roles and languages are checked in monitor/db/users.py, not with CHECK constraints: adding a
    # role later must not mean rebuilding the table.
    db.execute(
        "CREATE TABLE users ("
        " username TEXT PRIMARY KEY, password_hash TEXT NOT NULL, role TEXT NOT NULL,"
        " language TEXT, created REAL NOT NULL, last_login REAL)"
    )


def _m005_event_review_zones(db: sqlite_utils.Database) -> None:
    # zones: comma-separated ids of the zones where the event's motion was (",ghe,cho," searches
    # need no LIKE escaping); reviewed_by/reviewed_at: who marked the event reviewed, and when.
    for column, kind in (("zones", str), ("reviewed_by", str), ("reviewed_at", float), ("note", str)):
        db["events"].add_column(column, kind)
    # "Reviewed only" lists are short: partial indexes keep them from walking every unreviewed row.
    db.execute("CREATE INDEX idx_events_reviewed_start ON events (start) WHERE reviewed_at IS NOT NULL")
    db.execute("CREATE INDEX idx_events_reviewed_camera_start ON events (camera, start) WHERE reviewed_at IS NOT NULL")


def _m006_report_cache(db: sqlite_utils.Database) -> None:
    # One row per counter per local day: the report rows computed from that day's per-second
    # samples (see monitor/counters/reports.py), so long reports need not re-read a month of samples.
    db.execute(
        "CREATE TABLE report_cache ("
        " camera TEXT NOT NULL, counter TEXT NOT NULL, day TEXT NOT NULL,"
        " payload TEXT NOT NULL, version INTEGER NOT NULL, computed REAL NOT NULL,"
        " PRIMARY KEY (camera, counter, day)) WITHOUT ROWID"
    )
    db.execute("CREATE INDEX idx_report_cache_day ON report_cache (day)")


def _m007_audit(db: sqlite_utils.Database) -> None:
    # Who did what, when and from where (monitor/db/audit.py): logins, clip views, exports, changes.
    # Append-only; read newest first and by day range, hence the index on t.
    db.execute(
        "CREATE TABLE audit ("
        " id INTEGER PRIMARY KEY, t REAL NOT NULL, user TEXT NOT NULL, ip TEXT NOT NULL,"
        " action TEXT NOT NULL, target TEXT NOT NULL, detail TEXT NOT NULL)"
    )
    db.execute("CREATE INDEX idx_audit_t ON audit (t)")


def _m008_event_zones(db: sqlite_utils.Database) -> None:
    # event_zones: one row per (event, zone), kept by triggers, so a zone filter reads an index
    # range instead of testing every event's zones column (monitor/db/eventlist.py).
    create_zone_index(db)
    # "end" in the start indexes: a minimum-length filter is tested on index entries, without
    # reading each skipped event's row (5x faster for min_length=120 on 1M events).
    db.execute("DROP INDEX idx_events_start")
    db.execute("DROP INDEX idx_events_camera_start")
    db.execute('CREATE INDEX idx_events_start_end ON events (start, "end")')
    db.execute('CREATE INDEX idx_events_camera_start_end ON events (camera, start, "end")')


def _m009_camera_stats(db: sqlite_utils.Database) -> None:
    # stats: the worker's latest figures (JSON, monitor/camera/stats.py) and when they came; down_since: when
    # the camera last stopped being online (NULL while online or stopped), for the offline alert.
    for column, kind in (("stats", str), ("stats_at", float), ("down_since", float)):
        db["cameras"].add_column(column, kind)


def _m011_alerts(db: sqlite_utils.Database) -> None:
    # Alerts raised by the rules (monitor/ops/rules.py): one row per alert, open while "end" is NULL,
    # acknowledged in the web UI. 011, not 010: the office model's ticket events take 010.
    create_alerts_table(db)


MIGRATIONS: list[tuple[str, Migration]] = [
    ("001_initial", _m001_initial),
    ("002_camera_process", _m002_camera_process),
    ("003_occupancy", _m003_occupancy),
    ("004_users", _m004_users),
    ("005_event_review_zones", _m005_event_review_zones),
    ("006_report_cache", _m006_report_cache),
    ("007_audit", _m007_audit),
    ("008_event_zones", _m008_event_zones),
    ("009_camera_stats", _m009_camera_stats),
    ("010_tickets", m010_tickets),  # defined with its queries in monitor/db/tickets.py
    ("011_alerts", _m011_alerts),
    ("012_hub_outbox", m012_hub_outbox),  # defined in monitor/db/outbox.py
    ("013_segments", m013_segments),  # continuous recording, defined in monitor/db/segments.py
    ("014_cases", m014_cases),  # complaint cases and their holds: monitor/db/cases.py
]

CLIP_STATES = ("recording", "complete", "failed", "none", "missing", "pruned")  # missing/pruned: recovery, retention


def connect(path: Path | str, *, readonly: bool = False) -> sqlite_utils.Database:
    """A connection with WAL and a busy timeout; read-only connections cannot write by accident."""
    path = Path(path)
    if readonly:
        conn = sqlite3.connect(
            f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
        )
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return sqlite_utils.Database(conn)


def migrate(db: sqlite_utils.Database) -> list[str]:
    """Apply the migrations not yet recorded; returns the names applied."""
    if "_migrations" not in db.table_names():
        db["_migrations"].create({"name": str, "applied": float}, pk="name")
    done = {row["name"] for row in db["_migrations"].rows}
    applied = []
    for name, fn in MIGRATIONS:
        if name in done:
            continue
        with db.atomic():
            fn(db)
            db["_migrations"].insert({"name": name, "applied": time.time()})
        applied.append(name)
    return applied


@contextlib.contextmanager
def immediate(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """A write transaction that takes the write lock at its start (waiting up to the busy timeout)."""
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")


def open_db(path: Path | str) -> sqlite_utils.Database:
    """Open (creating if needed) the database for writing, with migrations applied."""
    db = connect(path)
    migrate(db)
    return db


class Writer:
    """Applies worker messages to the database in one short transaction per batch."""

    def __init__(self, db: sqlite_utils.Database, clock: Callable[[], float] = time.time):
        self.db = db
        self.clock = clock

    def register_cameras(self, cameras: Iterable[tuple[str, str, bool]]) -> None:
        """Upsert (id, name, enabled) for each configured camera.

        It reads, then writes: the write lock is taken first (BEGIN IMMEDIATE). In a deferred
        transaction, a commit by the writer thread's connection between the read and the write made
        the write fail at once with "database is locked", the busy timeout notwithstanding: the
        supervisor re-registers the cameras from its own connection on every cameras.yaml reload.
        """
        now = self.clock()
        with immediate(self.db):
            for cam_id, name, enabled in cameras:
                existing = self.db.execute("select id from cameras where id = ?", [cam_id]).fetchone()
                if existing:
                    self.db.execute(
                        "update cameras set name = ?, enabled = ?, updated = ? where id = ?",
                        [name, int(enabled), now, cam_id],
                    )
                else:
                    self.db["cameras"].insert(
                        {
                            "id": cam_id,
                            "name": name,
                            "enabled": int(enabled),
                            "state": "disabled" if not enabled else "starting",
                            "state_since": now,
                            "reconnects": 0,
                            "updated": now,
                        }
                    )

    def apply(self, messages: Iterable[Message | Mapping[str, Any]]) -> None:
        """Write a batch of messages in one transaction: all or nothing.

        Dicts are read with Message.from_dict first: one that is not a valid message raises
        MessageError before anything is written (the DurableWriter then drops just that one).
        """
        batch = [m if isinstance(m, Message) else Message.from_dict(m) for m in messages]
        if not batch:
            return
        with self.db.atomic():
            for msg in batch:
                _HANDLERS[type(msg)](self, msg)

    # -- message handlers -------------------------------------------------------------
    def _status(self, m: Status) -> None:
        row = self.db.execute("select state from cameras where id = ?", [m.camera]).fetchone()
        values = [m.state, m.error, m.reconnects, json.dumps(m.info or {}), m.t, m.t]
        if row is None:
            self.db.execute(
                "insert into cameras (state, error, reconnects, info, updated, last_seen, state_since, id, enabled)"
                " values (?, ?, ?, ?, ?, ?, ?, ?, 1)",
                [*values, m.t, m.camera],
            )
            return
        since = ", state_since = ?" if row[0] != m.state else ""
        extra = [m.t] if since else []
        self.db.execute(
            "update cameras set state = ?, error = ?, reconnects = ?, info = ?, updated = ?, last_seen = ?"
            f"{since} where id = ?",
            [*values, *extra, m.camera],
        )
        self._down_since(m)

    def _down_since(self, m: Status) -> None:
        """Keep when the camera left "online" (a stopped worker is a shutdown, not an outage)."""
        up = m.state in ("online", "stopped", "disabled")
        self.db.execute(
            "update cameras set down_since = case when ? then null else coalesce(down_since, ?) end where id = ?",
            [up, m.t, m.camera],
        )

    def _heartbeat(self, m: Heartbeat) -> None:
        self.db.execute(
            "update cameras set last_seen = ?, pid = coalesce(?, pid), frames = coalesce(?, frames) where id = ?",
            [m.t, m.pid, m.frames, m.camera],
        )
        if m.stats is not None:
            self.db.execute("update cameras set stats = ?, stats_at = ? where id = ?",
                            [json.dumps(m.stats), m.t, m.camera])

    def _event_start(self, m: EventStarted) -> None:
        self.db.execute(
            "insert or replace into events (id, camera, start, peak, clip_state, created) values (?, ?, ?, ?, ?, ?)",
            [m.id, m.camera, m.start, m.peak, "recording" if m.clip else "none", self.clock()],
        )

    def _event_end(self, m: EventEnded) -> None:
        joined = ",".join(sorted(set(m.zones))) if m.zones else None  # the zones the motion touched
        self.db.execute(
            "update events set end = ?, peak = max(coalesce(peak, 0), ?), zones = coalesce(?, zones) where id = ?",
            [m.end, m.peak, joined, m.id],
        )

    def _clip_ready(self, m: ClipReady) -> None:
        self.db.execute(
            "update events set clip_path = ?, clip_state = 'complete', clip_duration = ? where id = ?",
            [m.path, m.duration, m.id],
        )

    def _clip_failed(self, m: ClipFailed) -> None:
        self.db.execute(
            "update events set clip_path = null, clip_state = 'failed', clip_duration = null where id = ?", [m.id]
        )

    def _thumbnail(self, m: Thumbnail) -> None:
        self.db.execute("update events set thumb_path = ? where id = ?", [m.path, m.id])

    def _occupancy(self, m: OccupancySample) -> None:
        if not m.zones:
            return
        cam, t = m.camera, m.t
        rows = [(cam, zone, t, int(z.occupied), z.count) for zone, z in m.zones.items()]
        # A second already stored (a resent message) is kept as it was; RETURNING lists only the
        # rows really inserted, so only those go into the minute roll-up: nothing counted twice.
        inserted = self.db.execute(
            "insert or ignore into occupancy (camera, zone, t, occupied, count) values "
            + ", ".join(["(?, ?, ?, ?, ?)"] * len(rows))
            + " returning zone, occupied, count",
            [v for row in rows for v in row],
        ).fetchall()
        if not inserted:
            return
        minute = t - t % 60
        self.db.conn.executemany(
            "insert into occupancy_minute (camera, zone, minute, samples, occupied_s, count_sum, count_max)"
            " values (?, ?, ?, 1, ?, ?, ?)"
            " on conflict (camera, zone, minute) do update set"
            " samples = samples + 1, occupied_s = occupied_s + excluded.occupied_s,"
            " count_sum = count_sum + excluded.count_sum, count_max = max(count_max, excluded.count_max)",
            [(cam, zone, minute, occ, count, count) for zone, occ, count in inserted],
        )

    def _occupancy_correction(self, m: OccupancyCorrection) -> None:
        """A second stored already, as the worker now has it: each zone's row is replaced and its minute's roll-up
        moved by the difference (applied twice, the second time changes nothing). A second never stored is
        stored as a sample."""
        cam, t = m.camera, m.t
        minute = t - t % 60
        missing: dict[str, ZoneReading] = {}
        for zone, z in m.zones.items():
            row = self.db.execute("select occupied, count from occupancy where camera = ? and zone = ? and t = ?",
                                  [cam, zone, t]).fetchone()
            if row is None:
                missing[zone] = z
                continue
            occupied, count = row
            if bool(occupied) == z.occupied and count == z.count:
                continue
            self.db.execute("update occupancy set occupied = ?, count = ? where camera = ? and zone = ? and t = ?",
                            [int(z.occupied), z.count, cam, zone, t])
            self.db.execute(
                "update occupancy_minute set occupied_s = occupied_s + ?, count_sum = count_sum + ?,"
                " count_max = max(count_max, ?) where camera = ? and zone = ? and minute = ?",
                [int(z.occupied) - int(occupied), z.count - count, z.count, cam, zone, minute])
        if missing:
            self._occupancy(OccupancySample(camera=cam, t=t, zones=missing))


# The writer's dispatch: one handler per message class (monitor/messages.py).
_HANDLERS: dict[type[Message], Callable[[Writer, Any], None]] = {
    Status: Writer._status,
    Heartbeat: Writer._heartbeat,
    EventStarted: Writer._event_start,
    EventEnded: Writer._event_end,
    ClipReady: Writer._clip_ready,
    ClipFailed: Writer._clip_failed,
    Thumbnail: Writer._thumbnail,
    OccupancySample: Writer._occupancy,
    OccupancyCorrection: Writer._occupancy_correction,
    SegmentReady: lambda writer, m: insert_segment(writer.db, m),
}


# -- read queries (the events list lives in monitor/db/eventlist.py) ----------------------------


def review_event(db: sqlite_utils.Database, event_id: str, *, user: str | None, at: float | None,
                 note: str | None) -> bool:
    """Record a review (user and time; None clears it) and the note of one event; False if no such event."""
    with db.atomic():
        cur = db.execute(
            "update events set reviewed_by = ?, reviewed_at = ?, note = ? where id = ?",
            [user, at, note or None, event_id],
        )
    return cur.rowcount == 1


def event_zones(event: dict[str, Any]) -> list[str]:
    """The zone ids an event's motion touched (stored comma-separated)."""
    return [z for z in (event.get("zones") or "").split(",") if z]


def get_event(db: sqlite_utils.Database, event_id: str) -> dict[str, Any] | None:
    """One event by id, or None."""
    cur = db.execute("select * from events where id = ?", [event_id])
    row = cur.fetchone()
    if row is None:
        return None
    return dict(zip([c[0] for c in cur.description], row))


def camera_states(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """All cameras with their last reported state."""
    cur = db.execute("select * from cameras order by id")
    cols = [c[0] for c in cur.description]
    rows = [dict(zip(cols, row)) for row in cur.fetchall()]
    for r in rows:
        r["info"] = json.loads(r["info"]) if r.get("info") else {}
        r["stats"] = json.loads(r["stats"]) if r.get("stats") else {}
    return rows


def event_counts(db: sqlite_utils.Database) -> dict[str, int]:
    """Events stored per camera (all time)."""
    return dict(db.execute("select camera, count(*) from events group by camera").fetchall())


def zone_samples(db: sqlite_utils.Database, camera: str, zone: str, t0: float, t1: float) -> ZoneSamples:
    """The per-second samples of one zone with t0 <= t < t1, in time order."""
    rows = db.execute(
        "select t, occupied, count from occupancy where camera = ? and zone = ? and t >= ? and t < ? order by t",
        [camera, zone, t0, t1],
    ).fetchall()
    if not rows:
        return ZoneSamples.empty()
    t, occupied, count = zip(*rows, strict=True)
    return ZoneSamples(
        np.fromiter(t, np.int64, len(rows)), np.fromiter(occupied, bool, len(rows)),
        np.fromiter(count, np.float32, len(rows)),
    )


def minute_rollups(db: sqlite_utils.Database, camera: str, zone: str, t0: float, t1: float) -> list[dict[str, Any]]:
    """Per-minute roll-ups of one zone whose minute starts in [t0, t1), oldest first.

    Each row: minute (unix second of the minute start), samples, occupied_s, count_sum, count_max,
    and count_mean (count_sum / samples).
    """
    cur = db.execute(
        "select minute, samples, occupied_s, count_sum, count_max from occupancy_minute"
        " where camera = ? and zone = ? and minute >= ? and minute < ? order by minute",
        [camera, zone, t0, t1],
    )
    cols = [c[0] for c in cur.description]
    rows = [dict(zip(cols, row)) for row in cur.fetchall()]
    for r in rows:
        r["count_mean"] = r["count_sum"] / r["samples"] if r["samples"] else 0.0
    return rows


def occupancy_now(db: sqlite_utils.Database, camera: str) -> dict[str, dict[str, Any]]:
    """The latest sample of each zone of a camera: {zone: {"t", "occupied", "count"}}."""
    # A recursive skip-scan over the primary key finds the zones in O(zones * log n), then one
    # max(t) lookup per zone; a plain GROUP BY would read the camera's whole history.
    cur = db.execute(
        """
        with recursive z(zone) as (
            select min(zone) from occupancy where camera = :cam
            union all
            select (select min(zone) from occupancy where camera = :cam and zone > z.zone) from z
            where z.zone is not null
        )
        select o.zone, o.t, o.occupied, o.count from z join occupancy o
          on o.camera = :cam and o.zone = z.zone
         and o.t = (select max(t) from occupancy where camera = :cam and zone = z.zone)
        order by o.zone
        """,
        {"cam": camera},
    )
    return {zone: {"t": t, "occupied": bool(occ), "count": count} for zone, t, occ, count in cur.fetchall()}


def prune_occupancy(db: sqlite_utils.Database, before: float) -> int:
    """Delete per-second samples older than `before` (minute roll-ups are kept); returns rows deleted."""
    with db.atomic():
        return db.execute("delete from occupancy where t < ?", [before]).rowcount


# -- report cache (migration 006) -------------------------------------------------------
@dataclass(frozen=True)
class CachedDay:
    """One counter's report rows for one local day, as stored in report_cache."""

    camera: str
    counter: str
    day: str  # YYYY-MM-DD, site-local
    payload: str  # JSON, written and read by monitor/counters/reports.py
    version: int


def report_cache_rows(
    db: sqlite_utils.Database, day_from: str, day_to: str, version: int, camera: str | None = None
) -> dict[tuple[str, str, str], str]:
    """Cached payloads of the given version for days in [day_from, day_to]: {(camera, counter, day): payload}.

    Empty when the database predates migration 006 (a read-only connection cannot migrate it).
    """
    sql = "select camera, counter, day, payload from report_cache where day >= ? and day <= ? and version = ?"
    params: list[Any] = [day_from, day_to, version]
    if camera is not None:
        sql += " and camera = ?"
        params.append(camera)
    try:
        rows = db.execute(sql, params).fetchall()
    except sqlite3.OperationalError as err:
        if "no such table" not in str(err):
            raise
        return {}
    return {(cam, counter, day): payload for cam, counter, day, payload in rows}


def store_report_cache(path: Path | str, entries: Iterable[CachedDay], *, now: float | None = None) -> int:
    """Store cache rows through a short write connection; returns rows written.

    A cache write must never fail a report: database errors (locked past the busy timeout, a
    read-only file, a database not yet migrated to 006) are logged and give 0.
    """
    entries = list(entries)
    if not entries:
        return 0
    computed = time.time() if now is None else now
    try:
        db = connect(path)
    except sqlite3.Error as err:
        log.warning("report cache: cannot open %s for writing: %s", path, err)
        return 0
    try:
        with db.atomic():
            db.conn.executemany(
                "insert or replace into report_cache (camera, counter, day, payload, version, computed)"
                " values (?, ?, ?, ?, ?, ?)",
                [(e.camera, e.counter, e.day, e.payload, e.version, computed) for e in entries],
            )
        return len(entries)
    except sqlite3.Error as err:
        log.warning("report cache: %d rows not stored in %s: %s", len(entries), path, err)
        return 0
    finally:
        db.conn.close()


def samples_per_zone(db: sqlite_utils.Database, camera: str, zones: Iterable[str], t0: float, t1: float) -> dict[str, int]:
    """Per-second samples stored per zone with t0 <= t < t1, counted from the minute roll-ups (cheap).

    Minutes are whole: with t0 and t1 on minute boundaries the count is exact, otherwise it
    covers the minutes overlapping [t0, t1).
    """
    zones = list(zones)
    m0 = int(t0) - int(t0) % 60
    cur = db.execute(
        f"select zone, sum(samples) from occupancy_minute where camera = ? and zone in ({', '.join('?' * len(zones))})"
        " and minute >= ? and minute < ? group by zone",
        [camera, *zones, m0, t1],
    )
    found = dict(cur.fetchall())
    return {z: int(found.get(z) or 0) for z in zones}
