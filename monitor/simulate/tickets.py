"""A queue-ticket export for a simulated office, derived from its truth.json (kiosk CSV columns).

Each citizen of the truth takes a ticket when they walk in (arrival_s), is called at the call
that preceded their service (calls_s), and is served from service_start_s to service_end_s. A
citizen still waiting when the video ends has only the issued time. Ticket numbers run across
the whole office in arrival order, as one kiosk would print them.
"""

from __future__ import annotations

import bisect
import csv
import io
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

__all__ = ["KIOSK_COLUMNS", "truth_ticket_rows", "truth_tickets_csv"]

KIOSK_COLUMNS = ["date", "ticket", "field", "issued", "called", "counter", "service_start", "service_end", "status"]


def truth_ticket_rows(truth: Mapping[str, Any], start: datetime,
                      counters: Mapping[str, str] | None = None) -> list[dict[str, str]]:
    """Kiosk CSV rows for the truth's citizens; video second 0 is `start` (site-local wall clock).

    counters maps a truth camera to the counter id of cameras.yaml (default: the camera id, as a
    camera with one counter is named when counters are derived).
    """
    people = []
    for cam, data in truth.get("cameras", {}).items():
        calls = sorted(data.get("calls_s", []))
        for c in data.get("citizens", []):
            people.append((float(c["arrival_s"]), cam, c, calls))
    people.sort(key=lambda p: (p[0], p[1]))
    rows = []
    for n, (arrival, cam, c, calls) in enumerate(people, start=1):
        begin, end = c.get("service_start_s"), c.get("service_end_s")
        called = None
        if begin is not None:
            k = bisect.bisect_right(calls, float(begin))
            called = calls[k - 1] if k and calls[k - 1] >= arrival else None
        day = start + timedelta(seconds=arrival)
        rows.append({
            "date": day.date().isoformat(), "ticket": f"{n:03d}", "field": "",
            "issued": _clock(start, arrival), "called": _clock(start, called),
            "counter": (counters or {}).get(cam, cam) if begin is not None else "",
            "service_start": _clock(start, begin), "service_end": _clock(start, end),
            "status": "served" if end is not None else "waiting",
        })
    return rows


def _clock(start: datetime, seconds: float | None) -> str:
    return "" if seconds is None else (start + timedelta(seconds=float(seconds))).strftime("%H:%M:%S")


def truth_tickets_csv(truth: Mapping[str, Any], start: datetime, counters: Mapping[str, str] | None = None) -> str:
    """The rows as CSV text with the kiosk mapping's header."""
    buf = io.StringIO(newline="")
    out = csv.DictWriter(buf, KIOSK_COLUMNS, lineterminator="\n")
    out.writeheader()
    out.writerows(truth_ticket_rows(truth, start, counters))
    return buf.getvalue()
