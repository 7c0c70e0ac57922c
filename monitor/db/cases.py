"""Complaint cases (migration 014): a time range on some cameras, its notes, its status and its legal hold.

A supervisor opens a case from a time range and counters or cameras; the counters are resolved to
their cameras when the case is opened (the site model may change later, the evidence may not).
Notes are only ever appended. A case is `open` or `closed`; its hold lasts until an admin releases
it, whatever the status, and while it lasts retention never deletes footage that overlaps the case
(monitor/upkeep/holds.py). Closing and releasing are separate on purpose: a case may be closed and
its footage still kept for an appeal.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import sqlite_utils

from monitor.site.config import Config
from monitor.site.office import office_of

log = logging.getLogger(__name__)

STATUSES = ("open", "closed")
MAX_TITLE = 200
MAX_NOTE = 4000
MAX_SPAN_S = 7 * 86_400  # a complaint is about a visit, not a month: a longer case would hold footage for ever
MAX_CAMERAS = 32


class CaseError(ValueError):
    """A case request that cannot be carried out; the message is one line for the user."""


class Span(NamedTuple):
    """Footage of one camera between t0 and t1 (unix seconds) that a case holds.

    A plain (camera, t0, t1) tuple too: what retention's `held` spans are.
    """

    camera: str
    t0: float
    t1: float


@dataclass(frozen=True)
class Case:
    """One case row with its cameras (and the counters they came from)."""

    id: int
    title: str
    t0: float
    t1: float
    status: str
    created: float
    created_by: str
    closed_at: float | None
    closed_by: str | None
    released_at: float | None
    released_by: str | None
    cameras: tuple[str, ...]
    counters: tuple[str, ...]

    @property
    def held(self) -> bool:
        """Whether retention must keep this case's footage."""
        return self.released_at is None

    @property
    def target(self) -> str:
        """The audit log's target for this case."""
        return audit_target(self.id)


@dataclass(frozen=True)
class Note:
    """One appended note."""

    t: float
    user: str
    text: str


@dataclass(frozen=True)
class Recording:
    """A file the case gathers: an event clip or a continuous segment."""

    kind: str  # "event" | "segment"
    id: str
    camera: str
    start: float
    end: float
    path: str | None  # relative to recordings/; None when the clip is gone (pruned before the case)
    state: str


@dataclass(frozen=True)
class NewCase:
    """What a supervisor asks for: a title, a time range and the cameras (counters resolved by the caller)."""

    title: str
    t0: float
    t1: float
    cameras: tuple[str, ...]
    counters: tuple[str, ...] = ()


def audit_target(case_id: int) -> str:
    """The audit log's target text for a case: 'case:<id>'."""
    return f"case:{case_id}"


def m014_cases(db: sqlite_utils.Database) -> None:
    """Migration 014: cases, the cameras each covers and their append-only notes."""
    db.execute(
        "create table cases (id integer primary key, title text not null, t0 real not null, t1 real not null,"
        " status text not null, created real not null, created_by text not null,"
        " closed_at real, closed_by text, released_at real, released_by text)"
    )
    # The hold query reads unreleased cases on every retention run: a partial index keeps it short.
    db.execute("create index idx_cases_held on cases (id) where released_at is null")
    db.execute(
        "create table case_cameras (case_id integer not null references cases(id), camera text not null,"
        " counter text, primary key (case_id, camera, counter))"
    )
    db.execute(
        "create table case_notes (id integer primary key, case_id integer not null references cases(id),"
        " t real not null, user text not null, text text not null)"
    )
    db.execute("create index idx_case_notes_case on case_notes (case_id, t)")
    # Notes and the record of who closed or released are evidence: the database refuses to rewrite them.
    db.execute("create trigger case_notes_append_only before update on case_notes"
               " begin select raise(abort, 'case notes are append-only'); end")
    db.execute("create trigger case_notes_no_delete before delete on case_notes"
               " begin select raise(abort, 'case notes are append-only'); end")


def counter_cameras(config: Config, counter_id: str) -> list[str]:
    """The cameras that see a counter: its seat, its service spot and its queue's waiting areas (CaseError if unknown)."""
    office = office_of(config)
    counter = office.counter(counter_id)
    if counter is None:
        raise CaseError(f"counters: {counter_id[:40]!r} is not a counter of this site")
    queue = next((q for q in office.queues if q.id == counter.queue), None)
    areas = [cam for cam, _zone in queue.areas] if queue else []
    return list(dict.fromkeys([counter.seat[0], counter.spot[0], *areas]))


def sources_of(config: Config, counters: Iterable[str], cameras: Iterable[str]) -> list[tuple[str, str | None]]:
    """(camera, counter or None) pairs for the counters and cameras asked for; CaseError names an unknown one."""
    known = {c.id for c in config.cameras}
    pairs = [(cam, cid) for cid in counters for cam in counter_cameras(config, cid)]
    for cam in cameras:
        if cam not in known:
            raise CaseError(f"cameras: {cam[:40]!r} is not a camera of this site")
        pairs.append((cam, None))
    return pairs


def _check_new(new: NewCase) -> NewCase:
    title = " ".join(new.title.split())
    if not title:
        raise CaseError("title: empty; say in a few words what the complaint is about")
    if len(title) > MAX_TITLE:
        raise CaseError(f"title: {len(title)} characters; at most {MAX_TITLE}")
    if not new.t1 > new.t0:
        raise CaseError("time range: the end must be after the start")
    if new.t1 - new.t0 > MAX_SPAN_S:
        raise CaseError(f"time range: {(new.t1 - new.t0) / 3600:.0f} h; at most {MAX_SPAN_S // 3600} h per case")
    if not new.cameras:
        raise CaseError("counters/cameras: choose at least one")
    if len(new.cameras) > MAX_CAMERAS:
        raise CaseError(f"counters/cameras: {len(new.cameras)} cameras; at most {MAX_CAMERAS}")
    return NewCase(title, new.t0, new.t1, new.cameras, new.counters)


def create_case(db: sqlite_utils.Database, new: NewCase, user: str, now: float,
                sources: Iterable[tuple[str, str | None]] | None = None) -> int:
    """Store a new open, held case; returns its id. sources: (camera, counter or None) pairs, default the cameras."""
    new = _check_new(new)
    pairs = sorted(set(sources if sources is not None else ((c, None) for c in new.cameras)),
                   key=lambda p: (p[0], p[1] or ""))
    with db.atomic():
        cur = db.execute("insert into cases (title, t0, t1, status, created, created_by) values (?, ?, ?, 'open', ?, ?)",
                         [new.title, new.t0, new.t1, now, user])
        case_id = int(cur.lastrowid)
        db.conn.executemany("insert or ignore into case_cameras (case_id, camera, counter) values (?, ?, ?)",
                            [(case_id, cam, counter) for cam, counter in pairs])
    log.info("case %d opened by %s: %s", case_id, user, new.title)
    return case_id


_CASE_COLS = "id, title, t0, t1, status, created, created_by, closed_at, closed_by, released_at, released_by"


def _case(db: sqlite_utils.Database, row: Sequence[object]) -> Case:
    pairs = db.execute("select camera, counter from case_cameras where case_id = ? order by camera, counter",
                       [row[0]]).fetchall()
    cameras = tuple(dict.fromkeys(cam for cam, _ in pairs))
    counters = tuple(dict.fromkeys(counter for _, counter in pairs if counter))
    return Case(*row, cameras=cameras, counters=counters)  # type: ignore[arg-type]


def get_case(db: sqlite_utils.Database, case_id: int) -> Case | None:
    """The case with this id, or None."""
    row = db.execute(f"select {_CASE_COLS} from cases where id = ?", [case_id]).fetchone()
    return _case(db, row) if row else None


def list_cases(db: sqlite_utils.Database, status: str | None = None, limit: int = 200) -> list[Case]:
    """Cases newest first, optionally of one status."""
    where, params = ("where status = ?", [status]) if status else ("", [])
    rows = db.execute(f"select {_CASE_COLS} from cases {where} order by id desc limit ?", [*params, limit]).fetchall()
    return [_case(db, row) for row in rows]


def add_note(db: sqlite_utils.Database, case_id: int, user: str, text: str, now: float) -> None:
    """Append a note (never edited or deleted afterwards)."""
    text = text.strip()
    if not text:
        raise CaseError("note: empty")
    if len(text) > MAX_NOTE:
        raise CaseError(f"note: {len(text)} characters; at most {MAX_NOTE}")
    if get_case(db, case_id) is None:
        raise CaseError(f"case {case_id}: no such case")
    with db.atomic():
        db.execute("insert into case_notes (case_id, t, user, text) values (?, ?, ?, ?)", [case_id, now, user, text])


def notes(db: sqlite_utils.Database, case_id: int) -> list[Note]:
    """The case's notes, oldest first."""
    rows = db.execute("select t, user, text from case_notes where case_id = ? order by t, id", [case_id]).fetchall()
    return [Note(*row) for row in rows]


def close_case(db: sqlite_utils.Database, case_id: int, user: str, now: float) -> None:
    """Mark an open case closed (its hold stays until released)."""
    _set_once(db, case_id, "closed", user, now)


def release_hold(db: sqlite_utils.Database, case_id: int, user: str, now: float) -> None:
    """End the case's legal hold: its footage is again subject to retention."""
    _set_once(db, case_id, "released", user, now)


def _set_once(db: sqlite_utils.Database, case_id: int, what: str, user: str, now: float) -> None:
    case = get_case(db, case_id)
    if case is None:
        raise CaseError(f"case {case_id}: no such case")
    done = case.closed_at if what == "closed" else case.released_at
    if done is not None:
        raise CaseError(f"case {case_id}: already {what}")
    status = ", status = 'closed'" if what == "closed" else ""
    with db.atomic():
        db.execute(f"update cases set {what}_at = ?, {what}_by = ?{status} where id = ?", [now, user, case_id])
    log.info("case %d %s by %s", case_id, what, user)


def held_spans(db: sqlite_utils.Database) -> list[Span]:
    """(camera, t0, t1) of every case whose hold is not released; empty on a database without cases."""
    if not _has_table(db, "cases"):
        return []
    rows = db.execute("select cc.camera, c.t0, c.t1 from cases c join case_cameras cc on cc.case_id = c.id"
                      " where c.released_at is null").fetchall()
    return sorted({Span(cam, t0, t1) for cam, t0, t1 in rows}, key=lambda s: (s.camera, s.t0, s.t1))


def _has_table(db: sqlite_utils.Database, name: str) -> bool:
    return db.execute("select 1 from sqlite_master where type = 'table' and name = ?", [name]).fetchone() is not None


def recordings(db: sqlite_utils.Database, spans: Iterable[Span]) -> list[Recording]:
    """Event clips (and continuous segments, where that table exists) overlapping the spans, in time order."""
    found: dict[tuple[str, str], Recording] = {}
    segments = segment_columns(db)
    for span in spans:
        for row in db.execute(
            "select id, camera, start, coalesce(\"end\", start), clip_path, clip_state from events"
            " where camera = ? and start < ? and coalesce(\"end\", start) >= ?", [span.camera, span.t1, span.t0],
        ).fetchall():
            found[("event", row[0])] = Recording("event", *row)
        if segments is not None:
            for rec in _segments(db, segments, span):
                found[("segment", rec.id)] = rec
    return sorted(found.values(), key=lambda r: (r.start, r.camera, r.kind, r.id))


# The continuous-recording table belongs to another migration (013); its columns are looked up by
# name so this module works before, with and after it, whichever of these names it uses.
_SEGMENT_NAMES = {"id": ("id", "rowid"), "start": ("start", "t0", "started"), "end": ("end", "t1", "ended"),
                  "path": ("path", "file", "clip_path")}


def segment_columns(db: sqlite_utils.Database) -> dict[str, str] | None:
    """The segments table's id/start/end/path column names, or None when there is no usable segments table."""
    if not _has_table(db, "segments"):
        return None
    have = {row[1] for row in db.execute("pragma table_info(segments)").fetchall()} | {"rowid"}
    picked = {role: next((n for n in names if n in have), None) for role, names in _SEGMENT_NAMES.items()}
    if None in picked.values() or "camera" not in have:
        log.warning("segments table without the expected columns (%s); held segments not listed", sorted(have))
        return None
    return picked  # type: ignore[return-value]


def _segments(db: sqlite_utils.Database, cols: dict[str, str], span: Span) -> list[Recording]:
    q = {role: f'"{name}"' if name != "rowid" else name for role, name in cols.items()}
    rows = db.execute(f"select {q['id']}, camera, {q['start']}, {q['end']}, {q['path']} from segments"
                      f" where camera = ? and {q['start']} < ? and {q['end']} > ?", [span.camera, span.t1, span.t0])
    return [Recording("segment", str(i), cam, s, e, p, "complete") for i, cam, s, e, p in rows.fetchall()]


def case_audit(db: sqlite_utils.Database, case_id: int) -> list[tuple[float, str, str, str, str]]:
    """The audit rows about this case, oldest first: (t, user, ip, action, detail)."""
    return [tuple(r) for r in db.execute("select t, user, ip, action, detail from audit where target = ?"
                                         " order by t, id", [audit_target(case_id)]).fetchall()]
