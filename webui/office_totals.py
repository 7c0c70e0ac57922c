"""The reports page's office view: a period's figures per counter, field and queue from the office report's day rows.

Means over several days are weighted by the citizens each day's mean is over (served, camera served
or matched), as the camera view's totals are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from monitor.counters.office_report import OfficeReport, OfficeRow

__all__ = ["AgreementTotal", "OfficeTotal", "agreement_totals", "office_totals"]


@dataclass
class OfficeTotal:
    """One counter, field or queue over the period."""

    level: str
    id: str
    name: str
    days: int
    source: str  # tickets, camera, or mixed (tickets on some days only)
    served: int
    mean_wait_s: float | None
    max_wait_s: float | None
    mean_service_s: float | None
    max_queue: float | None
    absence_min: float | None
    camera_served: int | None  # beside the tickets: the cameras' own figures (days with tickets)
    camera_mean_wait_s: float | None
    camera_mean_service_s: float | None


@dataclass
class AgreementTotal:
    """One counter's camera-against-tickets agreement over the days with tickets."""

    id: str
    name: str
    days: int
    ticket_served: int
    camera_served: int
    served_diff: int
    wait_mae_s: float | None
    service_mae_s: float | None
    matched: int


def _weighted(pairs: Sequence[tuple[float | None, int | None]]) -> float | None:
    """Mean of per-day means weighted by their counts; None when no day has one."""
    kept = [(v, n) for v, n in pairs if v is not None and n]
    total = sum(n for _, n in kept)
    return sum(v * n for v, n in kept) / total if total else None


def _groups(rows: Sequence[OfficeRow], level: str) -> dict[str, list[OfficeRow]]:
    out: dict[str, list[OfficeRow]] = {}
    for r in rows:
        if r.level == level and r.hour is None:
            out.setdefault(r.id, []).append(r)
    return out


def office_totals(report: OfficeReport, level: str) -> list[OfficeTotal]:
    """The period's totals of every counter, field or queue (level), in report order."""
    out = []
    for key, rows in _groups(report.rows, level).items():
        sources = {r.source for r in rows}
        ticket_days = [r for r in rows if r.source == "tickets"]
        maxima = [r.max_wait_s for r in rows if r.max_wait_s is not None]
        queues = [r.max_queue for r in rows if r.max_queue is not None]
        absences = [r.absence_min for r in rows if r.absence_min is not None]
        out.append(OfficeTotal(
            level=level, id=key, name=rows[0].name, days=len(rows),
            source=sources.pop() if len(sources) == 1 else "mixed", served=sum(r.served for r in rows),
            mean_wait_s=_weighted([(r.mean_wait_s, r.served) for r in rows]),
            max_wait_s=max(maxima) if maxima else None,
            mean_service_s=_weighted([(r.mean_service_s, r.served) for r in rows]),
            max_queue=max(queues) if queues else None, absence_min=sum(absences) if absences else None,
            camera_served=sum(r.camera_served or 0 for r in ticket_days) if ticket_days else None,
            camera_mean_wait_s=_weighted([(r.camera_mean_wait_s, r.camera_served) for r in ticket_days]),
            camera_mean_service_s=_weighted([(r.camera_mean_service_s, r.camera_served) for r in ticket_days]),
        ))
    return out


def agreement_totals(report: OfficeReport) -> list[AgreementTotal]:
    """Per counter, the agreement rows of the period summed (MAEs weighted by the citizens matched)."""
    out = []
    for key, rows in _groups(report.rows, "agreement").items():
        out.append(AgreementTotal(
            id=key, name=rows[0].name, days=len(rows), ticket_served=sum(r.served for r in rows),
            camera_served=sum(r.camera_served or 0 for r in rows), served_diff=sum(r.served_diff or 0 for r in rows),
            wait_mae_s=_weighted([(r.wait_mae_s, r.matched) for r in rows]),
            service_mae_s=_weighted([(r.service_mae_s, r.matched) for r in rows]),
            matched=sum(r.matched or 0 for r in rows),
        ))
    return out
