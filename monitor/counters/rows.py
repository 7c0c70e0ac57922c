"""The report's records: a row (one counter over one day or one hour) and the report holding them.

They live apart from reports.py so that charts.py and render.py can take them without importing the
reports module that imports both (the reports <-> charts cycle).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from monitor.db.store import CachedDay


@dataclass
class ReportRow:
    """One counter over one day (hour None) or one local clock hour."""

    day: date
    hour: int | None
    camera: str
    counter: str  # the service_spot zone id
    served: int
    mean_service_s: float | None
    median_service_s: float | None
    p90_service_s: float | None
    mean_wait_s: float | None
    max_wait_s: float | None
    mean_queue: float
    max_queue: float
    absence_min: float
    utilisation: float  # 0..1 of the opening time in the window
    waits: list[float] = field(default_factory=list, repr=False)  # per citizen, for the HTML histogram


@dataclass
class Report:
    """Rows of one site over a range of local days."""

    site: str
    date_from: date
    date_to: date
    camera: str | None
    rows: list[ReportRow]
    generated_at: datetime
    # Complete counter-days computed by this build (not read from the cache): store them with
    # monitor.db.store.store_report_cache so the next report over these days is fast.
    cache_entries: list[CachedDay] = field(default_factory=list, repr=False)
