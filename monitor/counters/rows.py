"""The report's row: one counter over one day or one hour, shared by the reports and their charts.

It lives apart from reports.py so that charts.py can take rows without importing the reports
module that imports it (the reports <-> charts cycle).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


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
