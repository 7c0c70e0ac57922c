"""The alerts table (migration 011): alerts opened and closed by monitor/ops/alerts.py, acknowledged in the web UI."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import sqlite_utils

__all__ = ["AlertRecord", "acknowledge", "acknowledged_since", "close_alert", "get_alert", "list_alerts", "open_alert", "open_alerts",
           "unacknowledged_open", "update_alert"]

COMMENT_MAX_CHARS = 2000


def create_table(db: sqlite_utils.Database) -> None:
    """The alerts table; one open alert per (rule, subject) is enforced by a partial unique index."""
    db.execute(
        "CREATE TABLE alerts ("
        " id INTEGER PRIMARY KEY, rule TEXT NOT NULL, subject TEXT NOT NULL, camera TEXT NOT NULL,"
        ' start REAL NOT NULL, raised REAL NOT NULL, "end" REAL, value REAL NOT NULL, peak REAL NOT NULL,'
        " ack_by TEXT, ack_at REAL, ack_comment TEXT)"
    )
    db.execute('CREATE UNIQUE INDEX idx_alerts_open ON alerts (rule, subject) WHERE "end" IS NULL')
    db.execute("CREATE INDEX idx_alerts_raised ON alerts (raised)")


@dataclass(frozen=True)
class AlertRecord:
    """One alert as stored: start is when its condition began, raised when it crossed the threshold."""

    id: int
    rule: str
    subject: str  # counter id, or camera id for camera_offline
    camera: str
    start: float
    raised: float
    end: float | None
    value: float  # the latest value while open, the last one once closed
    peak: float
    ack_by: str | None = None
    ack_at: float | None = None
    ack_comment: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        """(rule, subject): at most one open alert per key."""
        return (self.rule, self.subject)


_COLUMNS = ", ".join(f'"{f.name}"' for f in fields(AlertRecord))


def _records(cur: Any) -> list[AlertRecord]:
    return [AlertRecord(*row) for row in cur.fetchall()]


def open_alerts(db: sqlite_utils.Database) -> list[AlertRecord]:
    """The alerts still open, oldest first."""
    return _records(db.execute(f'select {_COLUMNS} from alerts where "end" is null order by raised, id'))


def get_alert(db: sqlite_utils.Database, alert_id: int) -> AlertRecord | None:
    """One alert by id, or None."""
    found = _records(db.execute(f"select {_COLUMNS} from alerts where id = ?", [alert_id]))
    return found[0] if found else None


def list_alerts(db: sqlite_utils.Database, since: float, limit: int = 200) -> list[AlertRecord]:
    """Open alerts, then those raised since `since`, newest first, at most `limit`."""
    return _records(db.execute(
        f'select {_COLUMNS} from alerts where "end" is null or raised >= ?'
        ' order by ("end" is null) desc, raised desc, id desc limit ?', [since, limit]))


def unacknowledged_open(db: sqlite_utils.Database) -> int:
    """How many open alerts nobody has acknowledged (the banner's number)."""
    return int(db.execute('select count(*) from alerts where "end" is null and ack_at is null').fetchone()[0])


def open_alert(db: sqlite_utils.Database, rule: str, subject: str, camera: str, start: float, raised: float,
               value: float) -> int:
    """Insert an open alert; returns its id (IntegrityError if one is already open for rule and subject)."""
    cur = db.execute(
        'insert into alerts (rule, subject, camera, start, raised, value, peak) values (?, ?, ?, ?, ?, ?, ?)',
        [rule, subject, camera, start, raised, value, value])
    return int(cur.lastrowid)


def update_alert(db: sqlite_utils.Database, alert_id: int, value: float) -> None:
    """The latest value of an open alert, and its peak."""
    db.execute("update alerts set value = ?, peak = max(peak, ?) where id = ?", [value, value, alert_id])


def close_alert(db: sqlite_utils.Database, alert_id: int, end: float) -> None:
    """Close an open alert at `end`."""
    db.execute('update alerts set "end" = ? where id = ? and "end" is null', [end, alert_id])


def acknowledged_since(db: sqlite_utils.Database, since: float) -> list[AlertRecord]:
    """Alerts acknowledged after `since` (ack_at, unix s), oldest acknowledgement first."""
    return _records(db.execute(f"select {_COLUMNS} from alerts where ack_at > ? order by ack_at, id", [since]))


def acknowledge(db: sqlite_utils.Database, alert_id: int, user: str, at: float, comment: str) -> bool:
    """Record who acknowledged an alert, when and with what comment; False if there is no such alert."""
    with db.atomic():
        cur = db.execute("update alerts set ack_by = ?, ack_at = ?, ack_comment = ? where id = ?",
                         [user, at, comment[:COMMENT_MAX_CHARS], alert_id])
    return cur.rowcount == 1
