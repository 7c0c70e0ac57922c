"""Offline analysis of a whole office: one synchronised video file per camera (`onestop analyze --video CAM=FILE ...`).

Each file is detected as `onestop analyze` detects one (detect_checked: again with the person_height markers
corrected when the officers' head tops say they are off), the per-second zone samples of all cameras are keyed
by (camera, zone), and the office analytics of monitor/counters/site.py run over them: sessions per named
counter wherever its seat and spot are seen, queue length summed over its waiting areas, waits matched
first-in first-out per queue.
Times are seconds from the start of the videos; the files are taken to start at the same moment.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from monitor.counters.analytics import AnalyticsParams, CounterStats
from monitor.counters.analyze import (
    OFFLINE_MERGE_GAP_S,
    began_in_video,
    detect_checked,
    moved_of,
    samples_of,
)
from monitor.counters.site import OfficeAnalysis, analyse_office, counter_window, field_window, queue_window
from monitor.detect.walkers import WALKING_ZONE
from monitor.records import Interval, ZoneSamples
from monitor.site.config import Config
from monitor.site.office import Office, office_of

__all__ = ["CSV_COLUMNS", "analyze_office_files", "needed_cameras", "office_csv"]

log = logging.getLogger(__name__)

CSV_COLUMNS = ["kind", "id", "name", "field", "served", "mean_service_s", "mean_wait_s", "mean_queue", "max_queue",
               "left_unserved", "absence_s", "utilisation"]


def needed_cameras(office: Office) -> dict[str, list[str]]:
    """Camera id -> the counters and queues that need its video (for the missing-video message)."""
    out: dict[str, list[str]] = {}
    for c in office.counters:
        for cam in dict.fromkeys((c.seat[0], c.spot[0])):
            out.setdefault(cam, []).append(f"counter {c.id}")
    for q in office.queues:
        for cam in dict.fromkeys(a[0] for a in q.areas):
            out.setdefault(cam, []).append(f"queue {q.id}")
    return out


def analyze_office_files(
    videos: Mapping[str, Path],
    config: Config,
    progress: Callable[[str, float], None] | None = None,
) -> dict[str, Any]:
    """Detect every camera's file, then the office figures; the JSON of `onestop analyze --video ...`.

    Keys: duration_s (the shortest file), cameras {id: {file, duration_s, per_second}}, counters,
    fields, queues. A session within IN_PROGRESS_GRACE_S of the start was under way before the
    videos began, unless its citizen was seen arriving (analytics.seen_arriving): it is listed but not
    counted as served, and its wait is left out. A citizen found waiting in the first
    IN_PROGRESS_GRACE_S and not seen walking in was waiting before the videos began: their session's
    wait is only a lower bound (`wait_lower_bound`), left out of the mean waits unless every wait is
    one, as `onestop analyze` does for one video.
    """
    office = office_of(config)
    samples: dict[tuple[str, str], ZoneSamples] = {}
    moved: dict[tuple[str, str], list[tuple[float, float]]] = {}
    cameras: dict[str, Any] = {}
    for cam_id, path in videos.items():
        camera = config.camera(cam_id)
        report = (lambda f, c=cam_id: progress(c, f)) if progress is not None else None
        try:
            per_second, duration, check, camera = detect_checked(Path(path), camera, config, report)
        except (ValueError, OSError) as err:
            reason = getattr(err, "strerror", None) or str(err)  # PyAV errors repeat the path after it
            raise ValueError(f"{path} (camera {cam_id}): {reason}") from None
        cameras[cam_id] = {"file": str(path), "duration_s": round(duration, 3), "per_second": per_second,
                           "height_check": check}
        for zone_id in [z.id for z in camera.zones] + [WALKING_ZONE]:
            samples[(cam_id, zone_id)] = samples_of(per_second, zone_id)
            moved[(cam_id, zone_id)] = moved_of(per_second, zone_id)
        log.info("analyze office: camera %s: %.0f s of %s", cam_id, duration, path)
    duration = min(c["duration_s"] for c in cameras.values())
    window = Interval(0.0, duration)
    params = AnalyticsParams(merge_gap_s=OFFLINE_MERGE_GAP_S)
    a = analyse_office(office, samples, [window], params)
    began = {c.id: [began_in_video(s.start, 0.0, moved.get(c.spot, []), params) for s in a.sessions[c.id]]
             for c in office.counters}
    served = _served_only(a, began)
    lang = config.site.language
    return {
        "duration_s": duration,
        "cameras": cameras,
        "counters": [_counter(a, served, c.id, window, lang, began[c.id]) for c in office.counters],
        "fields": [{"id": f, "name": office.field_label(f, lang),
                    **_figures(field_window(served, f, window), field_window(a, f, window))} for f in office.fields],
        "queues": [_queue(a, served, q.id, q.name, window) for q in office.queues],
    }


def _served_only(a: OfficeAnalysis, began: Mapping[str, list[bool]]) -> OfficeAnalysis:
    """The analysis without the sessions already under way when the videos began (began[counter][k]: its
    k-th session began in the videos; see analyze_office_files)."""
    sessions: dict[str, list[Interval]] = {}
    waits: dict[str, list[float] | None] = {}
    lower: dict[str, list[bool]] = {}
    for cid, found in a.sessions.items():
        keep = [k for k in range(len(found)) if began[cid][k]]
        sessions[cid] = [found[k] for k in keep]
        matched = a.waits[cid]
        waits[cid] = None if matched is None else [matched[k] for k in keep]
        if cid in a.lower:
            lower[cid] = [a.lower[cid][k] for k in keep]
    return replace(a, sessions=sessions, waits=waits, lower=lower)


def _figures(s: CounterStats, everything: CounterStats) -> dict[str, Any]:
    """served, service and wait from the served sessions; utilisation from every session (`everything`)."""
    r = lambda v: None if v is None else round(v, 1)  # noqa: E731
    return {"served": s.served, "mean_service_s": r(s.mean_service_s), "mean_wait_s": r(s.mean_wait_s),
            "mean_queue": round(s.mean_queue, 3), "max_queue": round(s.max_queue, 3),
            "absence_s": round(s.absence_s, 1), "utilisation": round(everything.utilisation, 3)}


def _counter(a: OfficeAnalysis, served: OfficeAnalysis, counter_id: str, window: Interval, lang: str,
             began: list[bool]) -> dict[str, Any]:
    c = a.office.counter(counter_id)
    assert c is not None
    waits = a.waits[counter_id]
    sessions = [{"start_s": round(s.start, 2), "end_s": round(min(s.end, window.end), 2),
                 "wait_s": round(waits[k], 1) if waits is not None and began[k] else None,
                 "wait_lower_bound": waits is not None and began[k] and a.lower_bound(counter_id, k),
                 "in_progress": not began[k]}
                for k, s in enumerate(a.sessions[counter_id])]
    absences = [{"start_s": round(g.start, 2), "end_s": round(min(g.end, window.end), 2)} for g in a.absences[counter_id]]
    return {"id": c.id, "name": c.name, "field": c.field, "field_name": a.office.field_label(c.field, lang),
            "queue": c.queue, "seat": "/".join(c.seat), "spot": "/".join(c.spot), "staff_hidden": c.id in a.hidden,
            **_figures(counter_window(served, counter_id, window), counter_window(a, counter_id, window)), "sessions": sessions, "absences": absences}


def _queue(a: OfficeAnalysis, served: OfficeAnalysis, queue_id: str, name: str, window: Interval) -> dict[str, Any]:
    q = a.queues[queue_id]
    per_second = [{"t": int(t), "count": round(float(n), 2)} for t, n in zip(q.t, q.count)]
    return {"id": queue_id, "name": name, "counters": list(next(x.counters for x in a.office.queues if x.id == queue_id)),
            **_figures(queue_window(served, queue_id, window), queue_window(a, queue_id, window)),
            "left_unserved": a.left_unserved([queue_id], window), "per_second": per_second}


def office_csv(result: dict[str, Any]) -> str:
    """One line per counter, field and queue of an office analysis (CSV_COLUMNS)."""
    buf = io.StringIO(newline="")
    out = csv.DictWriter(buf, CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    out.writeheader()
    for kind, key in (("counter", "counters"), ("field", "fields"), ("queue", "queues")):
        for row in result[key]:
            out.writerow({**row, "kind": kind, "field": row.get("field_name", "")})
    return buf.getvalue()
