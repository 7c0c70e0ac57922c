"""Chart series from report rows, and the report's charts drawn as inline SVG (no script, no style)."""

from __future__ import annotations

import html
from collections import defaultdict
from datetime import date
from typing import Any

import numpy as np

from monitor.counters.rows import ReportRow


# ---------------------------------------------------------------- chart data


def served_per_hour(hours: list[ReportRow]) -> list[tuple[str, float]]:
    """Citizens served in each local hour (summed over days and counters), every hour in the span."""
    served: dict[int, int] = defaultdict(int)
    for r in hours:
        served[r.hour] += r.served  # type: ignore[index]
    return [(f"{h:02d}", float(served[h])) for h in hour_range(served)]


def queue_per_hour(hours: list[ReportRow]) -> dict[str, list[tuple[str, float]]]:
    """Per camera, the mean queue of each hour averaged over the days (the queue is shared by its counters)."""
    per: dict[str, dict[int, dict[date, float]]] = defaultdict(lambda: defaultdict(dict))
    for r in hours:
        per[r.camera][r.hour].setdefault(r.day, r.mean_queue)  # type: ignore[index]
    all_hours = hour_range({h for cam in per.values() for h in cam})
    return {
        cam: [(f"{h:02d}", float(np.mean(list(by_hour[h].values()))) if h in by_hour else 0.0) for h in all_hours]
        for cam, by_hour in per.items()
    }


def hour_range(hours: Any) -> list[int]:
    """Every hour from the first to the last one given."""
    return list(range(min(hours), max(hours) + 1)) if hours else []


def wait_histogram(waits: list[float]) -> list[tuple[str, float]]:
    """Citizens per waiting-time bin: whole minutes, widened so there are at most 20 bins."""
    if not waits:
        return []
    top_min = max(waits) / 60
    width = next(w for w in (1, 2, 5, 10, 15, 30, 60, 120, 240) if top_min / w < 20 or w == 240)
    nbins = int(top_min // width) + 1
    counts = np.bincount((np.asarray(waits) / 60 // width).astype(int), minlength=nbins)
    return [(f"{k * width}–{(k + 1) * width}", float(n)) for k, n in enumerate(counts)]


def absence_per_counter(days: list[ReportRow], sep: str = " / ") -> list[tuple[str, float]]:
    """Staff-absence minutes per counter, labelled 'camera<sep>counter'."""
    total: dict[str, float] = defaultdict(float)
    for r in days:
        total[f"{r.camera}{sep}{r.counter}"] += r.absence_min
    return sorted(total.items())


# ---------------------------------------------------------------- inline SVG

_W, _H, _PAD = 420, 200, 30  # chart size in px and the margin for axis labels
_COLOURS = ("#2f6db5", "#d9822b", "#3a9d5d", "#b5452f", "#7a4fb5", "#4f9fb5")


def _svg(body: str, height: int = _H) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{height}" '
            f'viewBox="0 0 {_W} {height}" role="img">{body}</svg>')


def _axis(top: float) -> str:
    y0, x0 = _H - _PAD, _PAD
    return (f'<line x1="{x0}" y1="{y0}" x2="{_W - 5}" y2="{y0}" stroke="#999"/>'
            f'<line x1="{x0}" y1="10" x2="{x0}" y2="{y0}" stroke="#999"/>'
            f'<text x="{x0 - 4}" y="14" text-anchor="end">{_num(top)}</text>'
            f'<text x="{x0 - 4}" y="{y0}" text-anchor="end">0</text>')


def _num(v: float) -> str:
    return f"{v:.0f}" if v >= 10 or v == int(v) else f"{v:.1f}"


def bars(data: list[tuple[str, float]]) -> str:
    """Vertical bars with the value above each bar and the label under it."""
    if not data:
        return _svg("")
    top = max(v for _, v in data) or 1.0
    step = (_W - _PAD - 10) / len(data)
    out = [_axis(top)]
    for k, (label, v) in enumerate(data):
        h = v / top * (_H - _PAD - 20)
        x = _PAD + 5 + k * step
        out.append(f'<rect x="{x:.1f}" y="{_H - _PAD - h:.1f}" width="{step * 0.8:.1f}" height="{h:.1f}" '
                   f'fill="{_COLOURS[0]}"><title>{html.escape(label)}: {_num(v)}</title></rect>')
        out.append(f'<text x="{x + step * 0.4:.1f}" y="{_H - _PAD + 12}" text-anchor="middle">{html.escape(label)}</text>')
        if v:
            out.append(f'<text x="{x + step * 0.4:.1f}" y="{_H - _PAD - h - 3:.1f}" text-anchor="middle">{_num(v)}</text>')
    return _svg("".join(out))


def lines(series: dict[str, list[tuple[str, float]]]) -> str:
    """One polyline per series over shared x labels, with a legend."""
    if not series:
        return _svg("")
    labels = [label for label, _ in next(iter(series.values()))]
    top = max((v for pts in series.values() for _, v in pts), default=0.0) or 1.0
    step = (_W - _PAD - 20) / max(len(labels) - 1, 1)
    out = [_axis(top)]
    for k, label in enumerate(labels):
        out.append(f'<text x="{_PAD + 10 + k * step:.1f}" y="{_H - _PAD + 12}" text-anchor="middle">{html.escape(label)}</text>')
    for n, (name, pts) in enumerate(series.items()):
        colour = _COLOURS[n % len(_COLOURS)]
        xy = " ".join(f"{_PAD + 10 + k * step:.1f},{_H - _PAD - v / top * (_H - _PAD - 20):.1f}"
                      for k, (_, v) in enumerate(pts))
        out.append(f'<polyline points="{xy}" fill="none" stroke="{colour}" stroke-width="2"/>')
        out.append(f'<text x="{_W - 10}" y="{14 + 12 * n}" text-anchor="end" fill="{colour}">{html.escape(name)}</text>')
    return _svg("".join(out))


def hbars(data: list[tuple[str, float]]) -> str:
    """Horizontal bars, one per label, value at the end of the bar."""
    if not data:
        return _svg("")
    top = max(v for _, v in data) or 1.0
    row_h, label_w = 18, 150
    height = 10 + row_h * len(data)
    out = []
    for k, (label, v) in enumerate(data):
        y = 5 + k * row_h
        w = v / top * (_W - label_w - 50)
        out.append(f'<text x="{label_w - 5}" y="{y + 12}" text-anchor="end">{html.escape(label)}</text>')
        out.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{row_h - 4}" fill="{_COLOURS[3]}"/>')
        out.append(f'<text x="{label_w + w + 4:.1f}" y="{y + 12}">{_num(v)}</text>')
    return _svg("".join(out), height)
