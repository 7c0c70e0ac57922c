"""SQLite store: schema with recorded migrations, the single writer, and read queries."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import sqlite_utils

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


MIGRATIONS: list[tuple[str, Migration]] = [
    ("001_initial", _m001_initial),
    ("002_camera_process", _m002_camera_process),
]

CLIP_STATES = ("recording", "complete", "failed", "none")


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
        """Upsert (id, name, enabled) for each configured camera."""
        now = self.clock()
        with self.db.atomic():
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

    def apply(self, messages: list[dict[str, Any]]) -> None:
        """Write a batch of messages in one transaction: all or nothing."""
        if not messages:
            return
        with self.db.atomic():
            for msg in messages:
                handler = _HANDLERS.get(msg.get("type", ""))
                if handler is not None:
                    handler(self, msg)

    # -- message handlers -------------------------------------------------------------
    def _status(self, m: dict[str, Any]) -> None:
        row = self.db.execute("select state from cameras where id = ?", [m["camera"]]).fetchone()
        values = [m["state"], m.get("error"), m.get("reconnects", 0), json.dumps(m.get("info") or {}), m["t"], m["t"]]
        if row is None:
            self.db.execute(
                "insert into cameras (state, error, reconnects, info, updated, last_seen, state_since, id, enabled)"
                " values (?, ?, ?, ?, ?, ?, ?, ?, 1)",
                [*values, m["t"], m["camera"]],
            )
            return
        since = ", state_since = ?" if row[0] != m["state"] else ""
        extra = [m["t"]] if since else []
        self.db.execute(
            "update cameras set state = ?, error = ?, reconnects = ?, info = ?, updated = ?, last_seen = ?"
            f"{since} where id = ?",
            [*values, *extra, m["camera"]],
        )

    def _heartbeat(self, m: dict[str, Any]) -> None:
        self.db.execute(
            "update cameras set last_seen = ?, pid = coalesce(?, pid), frames = coalesce(?, frames) where id = ?",
            [m["t"], m.get("pid"), m.get("frames"), m["camera"]],
        )

    def _event_start(self, m: dict[str, Any]) -> None:
        self.db.execute(
            "insert or replace into events (id, camera, start, peak, clip_state, created) values (?, ?, ?, ?, ?, ?)",
            [m["id"], m["camera"], m["start"], m.get("peak", 0.0), "recording" if m.get("clip") else "none",
             self.clock()],
        )

    def _event_end(self, m: dict[str, Any]) -> None:
        self.db.execute(
            "update events set end = ?, peak = max(coalesce(peak, 0), ?) where id = ?",
            [m["end"], m.get("peak", 0.0), m["id"]],
        )

    def _clip(self, m: dict[str, Any]) -> None:
        self.db.execute(
            "update events set clip_path = ?, clip_state = ?, clip_duration = ? where id = ?",
            [m.get("path"), m.get("state", "complete"), m.get("duration"), m["id"]],
        )

    def _thumbnail(self, m: dict[str, Any]) -> None:
        self.db.execute("update events set thumb_path = ? where id = ?", [m["path"], m["id"]])


_HANDLERS: dict[str, Callable[[Writer, dict[str, Any]], None]] = {
    "status": Writer._status,
    "heartbeat": Writer._heartbeat,
    "event_start": Writer._event_start,
    "event_end": Writer._event_end,
    "clip": Writer._clip,
    "thumbnail": Writer._thumbnail,
}


# -- read queries ---------------------------------------------------------------------
def list_events(
    db: sqlite_utils.Database,
    *,
    camera: str | None = None,
    since: float | None = None,
    until: float | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Events newest first, optionally filtered by camera and start time range."""
    where, params = ["1=1"], []
    if camera:
        where.append("camera = ?")
        params.append(camera)
    if since is not None:
        where.append("start >= ?")
        params.append(since)
    if until is not None:
        where.append("start < ?")
        params.append(until)
    sql = (
        f"select * from events where {' and '.join(where)} "
        "order by start desc limit ? offset ?"
    )
    cur = db.execute(sql, [*params, limit, offset])
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, row)) for row in cur.fetchall()]


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
    return rows
