"""The audit log: who logged in, watched or downloaded a clip, exported data or changed settings, when and from where.

Rows are only ever appended (table `audit`, migration 007). The web app writes them through
webui.audit.record(); the command line through record_cli().
"""

from __future__ import annotations

import csv
import io
import logging
import time
import unicodedata
from dataclasses import astuple, dataclass, fields
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlite_utils


log = logging.getLogger(__name__)

ACTIONS = (
    "login", "login_failed", "login_locked", "logout",
    "clip_view", "clip_download", "export", "event_review",
    "user_change", "camera_change", "config_change", "alert_ack",
    "recordings_view", "segment_view", "segment_download",
    "case_open", "case_view", "case_note", "case_close", "case_release", "case_export",
)
CLI_USER = "cli"  # who changed things from the command line (the OS account is not ours to know)
CLI_IP = "local"
MAX_FIELD_CHARS = 300  # the log records facts, not payloads: a hostile 1 MB username is cut
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # Excel runs a cell starting with these as a formula


class UnknownAction(ValueError):
    """record() with an action not in ACTIONS (add it there, so the page can filter on it)."""


@dataclass(frozen=True)
class Entry:
    """One audit row."""

    t: float
    user: str
    ip: str
    action: str
    target: str = ""
    detail: str = ""


@dataclass(frozen=True)
class AuditFilter:
    """Which rows to list: every given field must match; since/until are unix times (until exclusive)."""

    user: str | None = None
    action: str | None = None
    since: float | None = None
    until: float | None = None


def clean(text: str) -> str:
    """One printable line of at most MAX_FIELD_CHARS: control characters (newlines, NUL, ESC) become spaces."""
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Cs") else ch for ch in str(text))
    return text[:MAX_FIELD_CHARS]


def write(db: sqlite_utils.Database, entry: Entry) -> None:
    """Append one row in its own short transaction; UnknownAction for an action not in ACTIONS."""
    if entry.action not in ACTIONS:
        raise UnknownAction(f"audit action {entry.action!r} is not one of {', '.join(ACTIONS)}")
    row = [entry.t, clean(entry.user), clean(entry.ip), entry.action, clean(entry.target), clean(entry.detail)]
    with db.atomic():
        db.execute("insert into audit (t, user, ip, action, target, detail) values (?, ?, ?, ?, ?, ?)", row)


def record_cli(db: sqlite_utils.Database, action: str, target: str = "", detail: str = "",
               now: float | None = None) -> None:
    """Record an action taken with the `onestop` command line (user 'cli', ip 'local')."""
    write(db, Entry(time.time() if now is None else now, CLI_USER, CLI_IP, action, target, detail))


def _where(f: AuditFilter) -> tuple[str, list[object]]:
    clauses, params = [], []
    for sql, value in (("user = ?", f.user), ("action = ?", f.action), ("t >= ?", f.since), ("t < ?", f.until)):
        if value is not None:
            clauses.append(sql)
            params.append(value)
    return (" where " + " and ".join(clauses)) if clauses else "", params


def query(db: sqlite_utils.Database, f: AuditFilter, limit: int, offset: int = 0) -> list[Entry]:
    """The matching rows, newest first."""
    where, params = _where(f)
    cur = db.execute(
        f"select t, user, ip, action, target, detail from audit{where} order by t desc, id desc limit ? offset ?",
        [*params, limit, offset],
    )
    return [Entry(*row) for row in cur.fetchall()]


def users_seen(db: sqlite_utils.Database) -> list[str]:
    """Every user name that appears in the log, for the filter form."""
    return [row[0] for row in db.execute("select distinct user from audit order by user").fetchall()]


def _cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value  # shown as text, never evaluated (CSV injection)
    return value


def to_csv(entries: list[Entry], tz: ZoneInfo) -> bytes:
    """The rows as CSV for Excel (UTF-8 with BOM): local time, then the fields; formulas neutralised."""
    buf = io.StringIO()
    out = csv.writer(buf)
    out.writerow(["time", *[f.name for f in fields(Entry)][1:]])
    for e in entries:
        local = datetime.fromtimestamp(e.t, tz).strftime("%Y-%m-%d %H:%M:%S")
        out.writerow([local, *(_cell(v) for v in astuple(e)[1:])])
    return buf.getvalue().encode("utf-8-sig")  # the BOM first, as in the reports' CSV, so Excel reads UTF-8
