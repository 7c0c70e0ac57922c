"""Query-string parsing shared by the pages and the API: each bad value aborts with a 400 whose one
line names the parameter, what is valid and what came."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import abort, current_app
from werkzeug.datastructures import MultiDict

from monitor.db.store import Cursor, EventFilter, EventPage, page_events
from webui.db import get_db
from webui.site import site_config

MAX_PAGE = 100_000  # the page number itself; the row offset has its own cap below
# Pages are reached by cursor (before/after: the start and id of an event), which costs the same at
# any depth. `page=` is kept for old links and bookmarks; its OFFSET walks every skipped index entry
# (100,000 rows cost ~25 ms on a 1M-event database), so it stops there.
MAX_OFFSET = 100_000
MAX_MIN_LENGTH_S = 86_400
FILTER_FIELDS = ("camera", "zone", "date_from", "date_to", "time_from", "time_to", "min_length", "reviewed")
REVIEWED = {"": None, "yes": True, "no": False}

_NUMBER = re.compile(r"[0-9]{1,9}")
_SECONDS = re.compile(r"[0-9]{1,6}(\.[0-9]{1,3})?")
_ISO_DAY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_VI_DAY = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")
_CLOCK = re.compile(r"([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?")


def bad(name: str, expected: str, raw: str) -> Any:
    """Abort with a 400 whose one line names the parameter, what is valid and what came."""
    abort(400, description=f"{name}: expected {expected}, got {raw[:40]!r}")


@dataclass(frozen=True)
class Query:
    """A parsed events query: the store filter and the non-empty raw values (for forms and links)."""

    filters: EventFilter
    values: dict[str, str]


def parse_int(args: MultiDict[str, str], name: str, default: int, lo: int, hi: int) -> int:
    """A whole-number parameter in [lo, hi] (ASCII digits only: '²'.isdigit() is True, int('²') fails)."""
    raw = args.get(name, "")
    if raw == "":
        return default
    if not _NUMBER.fullmatch(raw) or not lo <= int(raw) <= hi:
        bad(name, f"a whole number from {lo} to {hi}", raw)
    return int(raw)


def parse_page(args: MultiDict[str, str], size: int) -> int:
    """The 1-based page number, refused past MAX_OFFSET rows."""
    page = parse_int(args, "page", 1, 1, MAX_PAGE)
    last = MAX_OFFSET // size + 1
    if page > last:
        bad("page", f"at most {last} with {size} events per page (the older link goes further back)",
            str(page))
    return page


def parse_cursor(args: MultiDict[str, str]) -> tuple[Cursor | None, Cursor | None]:
    """The (before, after) cursors of the older/newer links; at most one, and not with page."""
    found = {}
    for name in ("before", "after"):
        raw = args.get(name, "")
        if raw:
            try:
                found[name] = Cursor.parse(raw)
            except ValueError:
                bad(name, "a cursor from an older/newer link, like 1795000000.25_quay-1-20261124-080000-a1b2c3", raw)
    if len(found) == 2:
        bad("after", "no after together with before (one direction at a time)", args["after"])
    if found and args.get("page", ""):
        bad("page", "no page together with a before/after cursor", args["page"])
    return found.get("before"), found.get("after")


def query_page(args: MultiDict[str, str], filters: EventFilter, size: int) -> tuple[EventPage, int | None]:
    """The page a query asks for (a cursor, an old-style page number or the newest) and its page number."""
    before, after = parse_cursor(args)
    page = parse_page(args, size) if args.get("page", "") else None
    offset = (page - 1) * size if page else 0
    return page_events(get_db(), filters, size, before=before, after=after, offset=offset), page


def parse_day(name: str, raw: str) -> date | None:
    """A date in ISO (2026-11-24) or Vietnamese (24/11/2026) form; empty gives None."""
    if raw == "":
        return None
    iso, vi = _ISO_DAY.fullmatch(raw), _VI_DAY.fullmatch(raw)
    try:
        if iso:
            y, m, d = (int(v) for v in iso.groups())
        elif vi:
            d, m, y = (int(v) for v in vi.groups())
        else:
            raise ValueError(raw)
        if not 1970 <= y <= 9998:
            raise ValueError(raw)
        return date(y, m, d)
    except ValueError:
        bad(name, "a date like 2026-11-24 or 24/11/2026 (years 1970-9998)", raw)



def parse_clock(name: str, raw: str) -> int | None:
    """A time of day HH:MM[:SS] as seconds after midnight; empty gives None."""
    if raw == "":
        return None
    m = _CLOCK.fullmatch(raw)
    h, mi, s = (int(v or 0) for v in m.groups()) if m else (99, 0, 0)
    if h > 23 or mi > 59 or s > 59:
        bad(name, "a time of day like 07:30 (00:00 to 23:59)", raw)
    return h * 3600 + mi * 60 + s


def _camera_and_zone(args: MultiDict[str, str]) -> tuple[str | None, str | None]:
    cameras = {c.id: c for c in site_config().cameras}
    cam, zone = args.get("camera", ""), args.get("zone", "")
    if cam and cam not in cameras:
        bad("camera", f"one of {', '.join(sorted(cameras)) or '(none configured)'}", cam)
    if zone:
        zones = sorted({z.id for c in cameras.values() if not cam or c.id == cam for z in c.zones})
        if zone not in zones:
            where = f"a zone of camera {cam}" if cam else "a configured zone"
            bad("zone", f"{where}: one of {', '.join(zones) or '(none)'}", zone)
    return cam or None, zone or None


def parse_filters(args: MultiDict[str, str]) -> Query:
    """The events filters of a query string; a bad value aborts with a 400 naming the parameter."""
    config = site_config()
    tz = config.site.tz
    camera, zone = _camera_and_zone(args)
    first, last = parse_day("date_from", args.get("date_from", "")), parse_day("date_to", args.get("date_to", ""))
    if first and last and first > last:
        bad("date_to", f"a day on or after date_from {first.isoformat()}", args["date_to"])
    tod_from, tod_to = parse_clock("time_from", args.get("time_from", "")), parse_clock("time_to", args.get("time_to", ""))
    if tod_from is not None and tod_from == tod_to:
        bad("time_to", "a time different from time_from", args["time_to"])
    raw_len = args.get("min_length", "")
    if raw_len and (not _SECONDS.fullmatch(raw_len) or float(raw_len) > MAX_MIN_LENGTH_S):
        bad("min_length", f"seconds from 0 to {MAX_MIN_LENGTH_S}, like 30 or 2.5", raw_len)
    reviewed = args.get("reviewed", "")
    if reviewed not in REVIEWED:
        bad("reviewed", "yes, no or nothing (both)", reviewed)
    filters = EventFilter(
        camera=camera, zone=zone,
        since=datetime.combine(first, time(), tz).timestamp() if first else None,
        until=datetime.combine(last + timedelta(days=1), time(), tz).timestamp() if last else None,
        tod_from=tod_from, tod_to=tod_to, tz=tz,
        min_length=float(raw_len) if raw_len else None, reviewed=REVIEWED[reviewed],
    )
    values = {k: args[k] for k in FILTER_FIELDS if args.get(k)}
    return Query(filters, values)
