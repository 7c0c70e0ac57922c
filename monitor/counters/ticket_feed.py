"""Taking tickets in: CSV files through a column mapping, and the check-then-store step shared with the API.

A mapping says which CSV column holds what. Two come built in:

- `kiosk`: a generic kiosk export, one line per ticket:
  `date,ticket,field,issued,called,counter,service_start,service_end,status` with the date as
  YYYY-MM-DD, times as HH:MM or HH:MM:SS (site time) and status `no_show` for a citizen who did
  not come when called. Ticket numbers restart daily, so the ticket id is date/ticket.
- `opencps`: the OpenCPS Booking export (columns named after the Booking record: bookingId,
  codeNumber, serviceCode, checkinDate, gateNumber, state, modifiedDate). checkinDate is the issue
  time and gateNumber the counter; the record keeps no service start or end, so the call is taken
  from modifiedDate for bookings that have a gateNumber. Waits then run from check-in to that last
  change; service times come from the cameras alone.

Any other mapping is a YAML file of the same shape (`onestop tickets mapping kiosk` prints one).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlite_utils
import yaml
from pydantic import Field, ValidationError

from monitor.counters.tickets import CheckContext, CheckResult, Row, check_rows
from monitor.db.tickets import EVENTS, insert_ticket_events, stored_events
from monitor.site.base import StrictModel
from monitor.site.config import Config
from monitor.site.office import office_of

__all__ = ["BUILTIN", "TicketMapping", "ingest", "load_mapping", "read_csv_rows"]

MAX_ROWS = 200_000  # a year of a busy district centre is ~100,000 tickets


class NoShow(StrictModel):
    """A column whose value marks a citizen who did not come when called."""

    column: str = Field(description="Column name.")
    values: list[str] = Field(description="Values that mean no-show (compared without case).")


class TicketMapping(StrictModel):
    """Which CSV column holds what."""

    ticket: list[str] = Field(min_length=1, description="Columns joined with '/' into the ticket id (unique per feed).")
    number: str | None = Field(None, description="Column of the number printed on the ticket.")
    field: str | None = Field(None, description="Column of the field (lĩnh vực).")
    counter: str | None = Field(None, description="Column of the counter.")
    date: str | None = Field(None, description="Column of the day, when the time columns hold only a time.")
    time_formats: list[str] = Field(
        default_factory=lambda: ["%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%H:%M:%S", "%H:%M"],
        description="strptime formats tried in turn after ISO 8601; times without an offset are site time.")
    times: dict[str, str] = Field(description="Event -> column of its time: issued (required), called, service_start, service_end, no_show.")
    no_show: NoShow | None = Field(None, description="A status column marking no-shows (their time: the call, else the issue).")
    values: dict[str, dict[str, str]] = Field(default_factory=dict, description="Per column, raw value -> our id (counters, fields).")
    call_needs_counter: bool = Field(False, description="Leave out called / service events of a line whose counter cell is empty.")
    delimiter: str = Field(",", min_length=1, max_length=1, description="CSV delimiter.")


BUILTIN: dict[str, dict[str, Any]] = {
    "kiosk": {
        "ticket": ["date", "ticket"], "number": "ticket", "field": "field", "counter": "counter", "date": "date",
        "times": {"issued": "issued", "called": "called", "service_start": "service_start", "service_end": "service_end"},
        "no_show": {"column": "status", "values": ["no_show"]},
    },
    "opencps": {
        "ticket": ["bookingId"], "number": "codeNumber", "field": "serviceCode", "counter": "gateNumber",
        "times": {"issued": "checkinDate", "called": "modifiedDate"}, "call_needs_counter": True,
    },
}


def load_mapping(name_or_path: str) -> TicketMapping:
    """A built-in mapping by name, or a YAML file; ValueError with one line per problem."""
    if name_or_path in BUILTIN:
        return TicketMapping.model_validate(BUILTIN[name_or_path])
    path = Path(name_or_path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ValueError(f"{path}: cannot read the mapping ({err.strerror}); built in: {', '.join(BUILTIN)}") from None
    except yaml.YAMLError as err:
        raise ValueError(f"{path}: not YAML: {str(err).splitlines()[0]}") from None
    try:
        mapping = TicketMapping.model_validate(data)
    except ValidationError as err:
        lines = [f"{path}: {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors(include_url=False)]
        raise ValueError("\n".join(lines)) from None
    bad = sorted(set(mapping.times) - set(EVENTS))
    if bad or "issued" not in mapping.times:
        raise ValueError(f"{path}: times: needs issued and only {', '.join(EVENTS)}, got {', '.join(mapping.times)}")
    return mapping


def mapping_yaml(name: str) -> str:
    """A built-in mapping as YAML, to copy and edit."""
    return yaml.safe_dump(BUILTIN[name], allow_unicode=True, sort_keys=False)


def read_csv_rows(text: str, mapping: TicketMapping, tz: ZoneInfo) -> Iterator[Row]:
    """Rows of events from CSV text, labelled "line N"; a line that cannot be mapped is a row with its error."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=mapping.delimiter)
    missing = [c for c in _columns(mapping) if c not in (reader.fieldnames or [])]
    if missing:
        raise ValueError(f"the file has no column {missing[0]!r} (columns: {', '.join(reader.fieldnames or [])})")
    for n, line in enumerate(reader, start=2):
        if n - 1 > MAX_ROWS:
            raise ValueError(f"more than {MAX_ROWS} lines; split the file")
        yield Row(f"line {n}", _line_events(line, mapping, tz))


def _columns(m: TicketMapping) -> list[str]:
    cols = list(m.ticket) + list(m.times.values())
    cols += [c for c in (m.number, m.field, m.counter, m.date) if c]
    return cols + ([m.no_show.column] if m.no_show else [])


def _cell(line: dict[str, Any], column: str | None, m: TicketMapping) -> str | None:
    if column is None:
        return None
    raw = (line.get(column) or "").strip()
    return m.values.get(column, {}).get(raw, raw) or None


def _line_events(line: dict[str, Any], m: TicketMapping, tz: ZoneInfo) -> list[dict[str, Any]]:
    """The events of one CSV line as API-shaped dicts; a time that cannot be read is passed on as text to be refused."""
    ticket = "/".join((line.get(c) or "").strip() for c in m.ticket).strip("/")
    counter = _cell(line, m.counter, m)
    base = {"ticket": ticket}
    events = []
    for kind in EVENTS:
        column = m.times.get(kind)
        cell = (line.get(column) or "").strip() if column else ""
        if not cell or (kind != "issued" and counter is None and m.call_needs_counter):
            continue
        event = {**base, "event": kind, "time": _time(cell, line, m, tz)}
        if kind == "issued":
            event.update(number=_cell(line, m.number, m), field=_cell(line, m.field, m))
        elif kind != "no_show":
            event["counter"] = counter
        events.append(event)
    if m.no_show and (line.get(m.no_show.column) or "").strip().lower() in {v.lower() for v in m.no_show.values}:
        when = next((e["time"] for e in reversed(events) if e["event"] in ("called", "issued")), None)
        events = [e for e in events if e["event"] in ("issued", "called")] + [{**base, "event": "no_show", "time": when}]
    return events


def _time(cell: str, line: dict[str, Any], m: TicketMapping, tz: ZoneInfo) -> str:
    """An ISO 8601 text for the cell (the date column added to a bare time), or the cell itself if unreadable."""
    try:
        return datetime.fromisoformat(cell).isoformat()
    except ValueError:
        pass
    day = (line.get(m.date) or "").strip() if m.date else ""
    for fmt in m.time_formats:
        try:
            dt = datetime.strptime(cell, fmt)
        except ValueError:
            continue
        if "%Y" not in fmt:
            try:
                dt = datetime.combine(datetime.strptime(day, "%Y-%m-%d").date(), dt.time())
            except ValueError:
                return f"{cell} (no date: the {m.date or 'date'} column must hold YYYY-MM-DD)"
        return dt.isoformat()
    return cell


def ingest(db: sqlite_utils.Database, config: Config, feed: str, rows: list[Row], now: float) -> CheckResult:
    """Check rows against the office and the stored events, then store the good ones in one transaction."""
    office = office_of(config)
    settings = config.tickets.feed(feed)
    tickets = {str(e.get("ticket")) for r in rows for e in r.events if isinstance(e, dict)}
    ctx = CheckContext(feed=feed, counters=[c.id for c in office.counters], fields=office.fields,
                       tz=config.site.tz, now=now, skew_s=settings.clock_skew_s if settings else 120.0,
                       stored=stored_events(db, feed, tickets))
    result = check_rows(rows, ctx)
    insert_ticket_events(db, result.good, now)
    return result
