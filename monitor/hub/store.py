"""The hub's own SQLite database: one row per received message id, and the tables the dashboard reads.

`ingest` is idempotent: a message whose (site, id) is already stored changes nothing, so the QoS 1
repeats of a flaky link and the re-sends after a site restart are dropped here, counted as duplicates.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import sqlite_utils

from monitor.db.store import MIGRATIONS as SITE_MIGRATIONS
from monitor.db.store import connect

log = logging.getLogger(__name__)

# payload versions this hub understands (monitor/ops/hubmessages.py SCHEMA_VERSION): 1 keyed counters by
# camera and zone; 2 by the site model's counter id (stored with camera ''), with name and field
SCHEMA_VERSIONS = {1, 2}
Outcome = Literal["stored", "duplicate", "dropped"]


def _m001_hub(db: sqlite_utils.Database) -> None:
    db.executescript("""
    create table messages (site text not null, id text not null, kind text not null, at real not null,
        received real not null, primary key (site, id));
    create table sites (site text primary key, name text, site_url text, timezone text, info text,
        first_seen real, last_received real, last_at real);
    create table rollups (site text not null, camera text not null, counter text not null, minute integer not null,
        spot_occupied_s real, seat_occupied_s real, queue_mean real, queue_max real,
        primary key (site, camera, counter, minute));
    create table report_rows (site text not null, day text not null, camera text not null, counter text not null,
        computed_at real not null, final integer not null, served integer, mean_service_s real, p90_service_s real,
        mean_wait_s real, p90_wait_s real, absence_min real, utilisation real, waits text,
        primary key (site, day, camera, counter));
    create table alerts (site text not null, alert_id text not null, rule text, camera text, name text,
        state text not null, since real, opened_at real, acknowledged_at real, closed_at real,
        primary key (site, alert_id));
    create table health (site text primary key, at real not null, down integer not null, cameras text not null);
    """)


def _m002_users(db: sqlite_utils.Database) -> None:
    """The dashboard's users: the same table (and code, monitor/db/users.py) as a site's."""
    dict(SITE_MIGRATIONS)["004_users"](db)


def _m003_named_counters(db: sqlite_utils.Database) -> None:
    """Counter names and fields (schema 2), who acknowledged an alert and with what comment, and the indexes
    retention deletes by."""
    db.executescript("""
    alter table rollups add column name text;
    alter table rollups add column field text;
    alter table report_rows add column name text;
    alter table report_rows add column field text;
    alter table report_rows add column source text;
    alter table alerts add column subject text;
    alter table alerts add column ack_by text;
    alter table alerts add column ack_comment text;
    create index rollups_minute on rollups(minute);
    create index report_rows_day on report_rows(day);
    create index messages_received on messages(received);
    """)


def _m004_field_names(db: sqlite_utils.Database) -> None:
    """The fields' display names each site's newest info message gave, and that message's time."""
    db.executescript("""
    create table site_fields (site text not null, field text not null, name text not null, name_en text,
        at real not null, primary key (site, field));
    alter table sites add column info_at real;
    """)


HUB_MIGRATIONS: list[tuple[str, Callable[[sqlite_utils.Database], None]]] = [
    ("001_hub", _m001_hub), ("002_users", _m002_users), ("003_named_counters", _m003_named_counters),
    ("004_field_names", _m004_field_names)]


def open_hub_db(path: Path | str) -> sqlite_utils.Database:
    """Open (creating if needed) the hub database with its migrations applied."""
    db = connect(path)
    if "_migrations" not in db.table_names():
        db["_migrations"].create({"name": str, "applied": float}, pk="name")
    done = {row["name"] for row in db["_migrations"].rows}
    for name, fn in HUB_MIGRATIONS:
        if name not in done:
            with db.conn:
                fn(db)
                db.conn.execute("insert into _migrations (name, applied) values (?, ?)", [name, time.time()])
    return db


class BadMessage(ValueError):
    """A payload the hub cannot use; the message names what is wrong (never the whole payload)."""


@dataclass
class IngestCounts:
    """What ingest did since the hub started."""

    stored: int = 0
    duplicate: int = 0
    dropped: int = 0


DEFAULT_ROOT = "onestop"


def topic_root(root: str) -> tuple[str, ...]:
    """The levels of a topic root such as "onestop" or "d/+/onestop" (a province over districts);
    ValueError naming what is wrong."""
    levels = tuple(root.split("/"))
    bad = [lv for lv in levels if lv == "" or "#" in lv or ("+" in lv and lv != "+")]
    if bad or levels[-1] == "+":
        raise ValueError(f"topic root {root!r}: levels separated by /, '+' for any one level, not last, no '#'")
    return levels


def site_key(topic: str, root: tuple[str, ...]) -> tuple[str, str]:
    """(site key, site id) of a topic under the root; the key prefixes the id with the levels '+' stands
    for (a province keys xa-a of district bac-me as bac-me/xa-a). BadMessage when it does not match."""
    parts = topic.split("/")
    if len(parts) < len(root) + 2:
        raise BadMessage(f"topic {topic!r} is not {'/'.join(root)}/<site>/...")
    wild = []
    for want, got in zip(root, parts):
        if want == "+":
            wild.append(got)
        elif want != got:
            raise BadMessage(f"topic {topic!r} is not {'/'.join(root)}/<site>/...")
    site = parts[len(root)]
    return "/".join([*wild, site]), site


def parse(topic: str, payload: bytes, root: tuple[str, ...] = (DEFAULT_ROOT,)) -> dict[str, Any]:
    """The checked envelope of a message, with "key" the site's key at this hub; BadMessage says what is wrong."""
    key, site = site_key(topic, root)
    try:
        msg = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise BadMessage(f"payload is not JSON: {err}") from None
    if not isinstance(msg, dict):
        raise BadMessage("payload is not a JSON object")
    if msg.get("v") not in SCHEMA_VERSIONS:
        raise BadMessage(f"schema version {msg.get('v')!r} is not one of {sorted(SCHEMA_VERSIONS)}")
    if msg.get("site") != site:
        raise BadMessage(f"payload site {msg.get('site')!r} differs from the topic's {site!r}")
    if not isinstance(msg.get("id"), str) or not msg["id"]:
        raise BadMessage("id missing")
    if msg.get("kind") not in _APPLY:
        raise BadMessage(f"kind {msg.get('kind')!r} is not one of {', '.join(_APPLY)}")
    if not isinstance(msg.get("at"), (int, float)) or not isinstance(msg.get("data"), dict):
        raise BadMessage("at (a number) or data (an object) missing")
    return {**msg, "key": key}


def ingest(db: sqlite_utils.Database, topic: str, payload: bytes, received: float,
           root: tuple[str, ...] = (DEFAULT_ROOT,)) -> Outcome:
    """Store one message (inside the caller's transaction); duplicates and bad payloads change nothing."""
    try:
        msg = parse(topic, payload, root)
    except BadMessage as err:
        log.warning("hub: dropped a message on %s: %s", topic, err)
        return "dropped"
    site = msg["key"]
    cur = db.conn.execute("insert or ignore into messages (site, id, kind, at, received) values (?, ?, ?, ?, ?)",
                          [site, msg["id"], msg["kind"], msg["at"], received])
    if cur.rowcount == 0:
        return "duplicate"
    db.conn.execute("savepoint apply")
    try:
        _APPLY[msg["kind"]](db, site, msg["data"], msg["at"])
    except (KeyError, TypeError, ValueError) as err:
        db.conn.execute("rollback to apply")  # the message row stays: a repeat of a bad message is no news
        db.conn.execute("release apply")
        log.warning("hub: dropped %s %s from %s: bad data (%s)", msg["kind"], msg["id"], site, err)
        return "dropped"
    db.conn.execute("release apply")
    db.conn.execute(
        "insert into sites (site, first_seen, last_received, last_at) values (?, ?, ?, ?) on conflict(site) do update"
        " set last_received = excluded.last_received, last_at = max(coalesce(last_at, 0), excluded.last_at)",
        [site, received, received, msg["at"]])
    return "stored"


def _web_url(value: Any) -> str | None:
    """An http(s) URL for the drill-down link; anything else (javascript:, data:) is not made a link."""
    return value if isinstance(value, str) and urlsplit(value).scheme in ("http", "https") else None


def _field_rows(d: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    """(id, name, name_en) of an info message's fields; none from a site older than the key (schema 2 before it)."""
    rows = []
    for f in d.get("fields") or []:
        if not isinstance(f, dict) or not isinstance(f.get("id"), str) or not isinstance(f.get("name"), str):
            raise ValueError("fields: each one is an object with id and name strings")
        if not f["id"] or not f["name"].strip():
            raise ValueError("fields: id and name must not be empty")
        rows.append((f["id"], f["name"], _text(f.get("name_en")) or None))
    return rows


def _info(db: sqlite_utils.Database, site: str, d: dict[str, Any], at: float) -> None:
    """The newest info (site time) wins: an older one arriving late after a link cut changes nothing."""
    fields = _field_rows(d)
    cur = db.conn.execute(
        "insert into sites (site, name, site_url, timezone, info, info_at) values (?, ?, ?, ?, ?, ?)"
        " on conflict(site) do update set name = excluded.name, site_url = excluded.site_url,"
        " timezone = excluded.timezone, info = excluded.info, info_at = excluded.info_at"
        " where sites.info_at is null or sites.info_at <= excluded.info_at",
        [site, str(d["name"]), _web_url(d.get("site_url")), str(d["timezone"]), json.dumps(d, ensure_ascii=False), at])
    if cur.rowcount == 0:
        log.info("hub: kept the newer info of %s over one of %.0f", site, at)
        return
    db.conn.execute("delete from site_fields where site = ?", [site])
    db.conn.executemany("insert or replace into site_fields (site, field, name, name_en, at) values (?, ?, ?, ?, ?)",
                        [(site, fid, name, name_en, at) for fid, name, name_en in fields])


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _rollup(db: sqlite_utils.Database, site: str, d: dict[str, Any], at: float) -> None:
    spot, seat, queue = d.get("spot") or {}, d.get("seat") or {}, d.get("queue") or {}
    db.conn.execute(
        "insert or replace into rollups (site, camera, counter, minute, spot_occupied_s, seat_occupied_s, queue_mean,"
        " queue_max, name, field) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [site, str(d.get("camera", "")), str(d["counter"]), int(d["minute"]), spot.get("occupied_s"),
         seat.get("occupied_s"), queue.get("count_mean"), queue.get("count_max"), _text(d.get("name")),
         _text(d.get("field"))])


def _report(db: sqlite_utils.Database, site: str, d: dict[str, Any], at: float) -> None:
    """The newest computation of a counter-day wins; a final row is never replaced by a running one."""
    db.conn.execute(
        "insert into report_rows (site, day, camera, counter, computed_at, final, served, mean_service_s,"
        " p90_service_s, mean_wait_s, p90_wait_s, absence_min, utilisation, waits, name, field, source)"
        " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " on conflict (site, day, camera, counter) do update set computed_at = excluded.computed_at,"
        " final = excluded.final, served = excluded.served, mean_service_s = excluded.mean_service_s,"
        " p90_service_s = excluded.p90_service_s, mean_wait_s = excluded.mean_wait_s, p90_wait_s = excluded.p90_wait_s,"
        " absence_min = excluded.absence_min, utilisation = excluded.utilisation, waits = excluded.waits,"
        " name = excluded.name, field = excluded.field, source = excluded.source"
        " where excluded.final > report_rows.final"
        " or (excluded.final = report_rows.final and excluded.computed_at > report_rows.computed_at)",
        [site, str(d["day"]), str(d.get("camera", "")), str(d["counter"]), float(d["computed_at"]),
         int(bool(d["final"])), int(d["served"]), d.get("mean_service_s"), d.get("p90_service_s"), d.get("mean_wait_s"),
         d.get("p90_wait_s"), d.get("absence_min"), d.get("utilisation"),
         json.dumps([float(w) for w in d.get("waits") or []]), _text(d.get("name")), _text(d.get("field")),
         _text(d.get("source"))])


_ALERT_COLUMN = {"opened": "opened_at", "acknowledged": "acknowledged_at", "closed": "closed_at"}
_ALERT_RANK = "case state when 'opened' then 0 when 'acknowledged' then 1 else 2 end"


def _alert(db: sqlite_utils.Database, site: str, d: dict[str, Any], at: float) -> None:
    """Opened, acknowledged and closed may arrive in any order after a link cut: the furthest state wins;
    who acknowledged, when and why is the newest acknowledgement's, whichever message carried it."""
    state = str(d["state"])
    column = _ALERT_COLUMN[state]
    db.conn.execute(
        "insert into alerts (site, alert_id, rule, camera, subject, name, state, since) values (?, ?, ?, ?, ?, ?, ?, ?)"
        " on conflict (site, alert_id) do nothing",
        [site, str(d["alert_id"]), d.get("rule"), d.get("camera"), d.get("subject"), d.get("name"), state,
         d.get("since")])
    at_state = float(d["at"])
    db.conn.execute(
        f"update alerts set {column} = max(coalesce({column}, 0), ?),"
        f" state = case when {_ALERT_RANK.replace('state', '?')} >= {_ALERT_RANK} then ? else state end"
        " where site = ? and alert_id = ?",
        [at_state, state, state, site, str(d["alert_id"])])
    ack_at = d.get("ack_at")
    if ack_at is not None:
        db.conn.execute(
            "update alerts set acknowledged_at = ?, ack_by = ?, ack_comment = ?"
            " where site = ? and alert_id = ? and (acknowledged_at is null or acknowledged_at <= ?)",
            [float(ack_at), _text(d.get("ack_by")), _text(d.get("ack_comment")), site, str(d["alert_id"]),
             float(ack_at)])


def _health(db: sqlite_utils.Database, site: str, d: dict[str, Any], at: float) -> None:
    """Only the newest snapshot is kept: a backlog arriving late must not overwrite a newer one."""
    db.conn.execute(
        "insert into health values (?, ?, ?, ?) on conflict (site) do update set at = excluded.at,"
        " down = excluded.down, cameras = excluded.cameras where excluded.at > health.at",
        [site, at, int(d["down"]), json.dumps(d["cameras"], ensure_ascii=False)])


_APPLY: dict[str, Callable[[sqlite_utils.Database, str, dict[str, Any], float], None]] = {
    "info": _info, "rollup": _rollup, "report": _report, "alert": _alert, "health": _health,
}
