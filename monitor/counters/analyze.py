"""Offline analysis of one video file: detection as fast as it decodes, then counter analytics (`onestop analyze`)."""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import numpy as np

from monitor.counters.analytics import (
    IN_PROGRESS_GRACE_S,
    AnalyticsParams,
    absences,
    fifo_waits,
    left_unseen,
    median_age,
    seen_arriving,
    seen_or_all,
    service_sessions,
    staff_hidden,
    wait_bounds,
    walked_in_flow,
)
from monitor.records import Interval, ZoneSamples
from monitor.site.config import Camera, Config
from monitor.site.office import seats_in_waiting_areas
from monitor.detect.motion import MotionDetector, MotionParams, polygon_mask
from monitor.detect.occupancy import SecondAggregator, ZoneSpec
from monitor.detect.presence import PersonOccupancy
from monitor.detect.presence_params import PresenceParams
from monitor.detect.tiles import body_drawn_zones, head_height_zones, height_off, scaled_heights
from monitor.detect.walkers import WALKING_ZONE
from monitor.camera.sources import grey_small, tune_decoder

__all__ = ["analyze_file", "detect_seconds", "samples_of", "staffed_while_serving", "summarise"]

log = logging.getLogger(__name__)

# Seat hysteresis already bridges short interruptions (PresenceParams in monitor/detect/presence.py) and its transitions
# are backdated here: a longer merge would join consecutive citizens (called 5-15 s apart).
OFFLINE_MERGE_GAP_S = 3.0
# The file's last seconds of analysed pictures kept for the looks at its end (PersonOccupancy.finish):
# more than the span of sightings that turns a seat on.
END_LOOK_S = PresenceParams().on_s + 1.0
PROGRESS_EVERY_S = 5.0  # video seconds between progress callbacks: smooth bar, negligible cost


def hidden_warning(where: str) -> str:
    """The warning for a staff seat never seen occupied while citizens sat at its counter (analytics.staff_hidden)."""
    return (f"warning: {where}: the staff seat was never seen occupied while citizens sat at the counter: the camera "
            "does not see the officer (a monitor in front?). Its sessions come from the service spot alone and no "
            "absences are given; move the camera or redraw the zone.")


def head_height_warning(where: str) -> str:
    """The warning for a waiting area whose person_height says the camera is at about head height."""
    return (f"warning: {where}: person_height says the camera is at about head height (people near and far have "
            "their heads on one row): people behind others are hidden and the count is less sure (0.8-1.5 people "
            "off per second on three of four public clips filmed so). Mount the camera higher, 3 m or more, "
            "looking down.")


def body_drawn_warning(where: str) -> str:
    """The warning for a staff seat or service spot drawn around a person's body instead of the floor (tiles.body_drawn_zones)."""
    return (f"warning: {where}: the zone is drawn as tall as a person there (person_height), not as a floor footprint: "
            "people are placed by their feet or their seat, which lie below a body drawn so, and the seat would read "
            "empty. Draw the floor under the chair (or where the citizen stands): a thin band, about a fifth of a "
            "standing person's height.")


def height_warnings(where: str, factor: float | None, analysed_with: dict[str, list[float]] | None = None,
                    source: str | None = "staff_seats") -> list[str]:
    """The warning, if any, for person_height markers that the officers' heads (or, source "walkers", the people
    walking in the waiting area) say are off (tiles.height_factor, tiles.walker_factor, tiles.height_off);
    analysed_with: the corrected person_height the video was analysed again with (detect_checked)."""
    if not height_off(factor):
        return []
    again = ("analysed again with person_height " + ", ".join(f"{z} [{h[0]:.3f}, {h[1]:.3f}]" for z, h in analysed_with.items())
             + "; " if analysed_with else "")
    who = "the people walking in the waiting area" if source == "walkers" else "the officers found at the staff seats"
    return [f"warning: {where}: {who} are {factor:.2f} times as tall as person_height "
            f"(or, without it, the default camera) says: {again}set the waiting area's markers again, each at the head "
            "of a standing person at the zone's near and far edge; 30 % off, seats and service times go wrong."]


def covered_seat_warning(camera_id: str, area: str, seats: list[str]) -> str:
    """The warning for a waiting area that covers staff seats or service spots (office.seats_in_waiting_areas)."""
    return (f"warning: {camera_id}/{area}: the waiting area covers {', '.join(seats)}: it is drawn around the people "
            "in the picture, not the floor of the chairs, and takes in people walking to the counters and standing "
            "by them. Draw it around the floor where people wait; the counters' zones and the aisle in front of "
            "them lie outside it.")


def uncalibrated_warning(camera_id: str) -> str:
    """The warning for a camera whose person detector has no person_height to size people by."""
    return (f"warning: {camera_id}: no zone has person_height: people are sized as by a default camera (a standing "
            "person 0.45 of the frame's height at its bottom row, 0.25 at its top). With staff seats in view the "
            "officers' head tops correct the size within a minute or two; without staff seats, people walking in the "
            "waiting area do. Set the waiting area's markers in the zone editor.")


def zone_warnings(camera: Camera) -> list[str]:
    """The warnings a camera's zones give before any video: no calibration, a camera at head height, seats drawn as
    bodies, a waiting area drawn over the counters."""
    people = [z for z in camera.zones if z.kind != "motion"]
    bare = [uncalibrated_warning(camera.id)] if people and all(z.person_height is None for z in people) else []
    return (bare + [head_height_warning(f"{camera.id}/{z}") for z in head_height_zones(camera.zones)]
            + [body_drawn_warning(f"{camera.id}/{z}") for z in body_drawn_zones(camera.zones)]
            + [covered_seat_warning(camera.id, area, seats) for area, seats in _by_area(seats_in_waiting_areas(camera.zones))])


def _by_area(pairs: list[tuple[str, str]]) -> list[tuple[str, list[str]]]:
    """(area, [seats]) from (area, seat) pairs, in their order."""
    out: dict[str, list[str]] = {}
    for area, seat in pairs:
        out.setdefault(area, []).append(seat)
    return list(out.items())


def analyze_file(
    video: Path,
    config: Config,
    camera_id: str,
    progress: Callable[[float], None] | None = None,
) -> dict[str, Any]:
    """Detect zone occupancy in a video file (the camera's zones and settings) and summarise the counters.

    Returns the JSON of `onestop analyze`: camera, fps, duration_s, per_second, sessions,
    absences, waiting, staff_hidden, at_head_height (the zones whose person_height says the camera is at
    about head height: tiles.head_height_zones), drawn_as_body (the seats and spots drawn around a person
    rather than the floor: tiles.body_drawn_zones), seats_in_waiting_area ([waiting area, seat] for each seat or
    spot a waiting area covers: office.seats_in_waiting_areas), height_check (detect_checked: sightings, factor,
    analysed_with). Times are seconds from the start of the video.
    """
    try:
        camera = config.camera(camera_id)
    except KeyError:
        raise ValueError(f"unknown camera {camera_id!r}") from None
    fps = float(camera.settings(config.defaults).detect_fps)
    per_second, duration, check, used = detect_checked(video, camera, config, progress)
    result = summarise(used, per_second, duration)
    per_second = staffed_while_serving(used, per_second, result)
    # the drawing's checks on the zones as configured, as check-config gives them
    return {"camera": camera.id, "fps": fps, "duration_s": round(duration, 3), "per_second": per_second, **result,
            "height_check": check,
            "at_head_height": head_height_zones(camera.zones), "drawn_as_body": body_drawn_zones(camera.zones),
            "seats_in_waiting_area": [list(pair) for pair in seats_in_waiting_areas(camera.zones)]}


def detect_checked(
    video: Path,
    camera: Camera,
    config: Config,
    progress: Callable[[float], None] | None = None,
) -> tuple[list[dict[str, Any]], float, dict[str, Any], Camera]:
    """detect_seconds, and again with every person_height times the height factor when the officers' head tops say
    the markers are off (tiles.height_factor tiles.height_off): the figures then come from the corrected
    calibration (the camera returned). The check: sightings and factor of the first pass, and analysed_with, the
    corrected person_height of each zone that has one (None when the markers were kept). progress is told the share
    of the first pass done (0..1), and of a second one as 1 + its share (1..2)."""
    per_second, duration, (sightings, factor, source) = detect_seconds(video, camera, config, progress)
    check: dict[str, Any] = {"sightings": sightings, "factor": factor, "from": source, "analysed_with": None}
    if height_off(factor):
        heights = scaled_heights(camera.zones, factor)
        camera = camera.with_heights(heights)
        again = (lambda share: progress(1.0 + share)) if progress is not None else None
        per_second, duration, _ = detect_seconds(video, camera, config, again)
        check["analysed_with"] = {zid: list(h) for zid, h in heights.items()}
    return per_second, duration, check, camera


def detect_seconds(
    video: Path,
    camera: Camera,
    config: Config,
    progress: Callable[[float], None] | None = None,
) -> tuple[list[dict[str, Any]], float, tuple[int, float | None, str | None]]:
    """Per-second zone samples of a video file ([{"t", "zones"}], t from 0), its duration in seconds, and the
    person detector's height check (PersonOccupancy.height_check and height_source: sightings, height factor, what
    was measured: head tops over staff seats, or walkers on a camera without them)."""
    st = camera.settings(config.defaults)
    step = 1.0 / st.detect_fps
    zones = [ZoneSpec.from_zone(z) for z in camera.zones]
    motion_params = MotionParams(
        pixel_threshold=st.motion.pixel_threshold,
        min_area=st.motion.min_area,
        lighting_guard=st.motion.lighting_guard,
        background_alpha=st.motion.background_alpha,
    )
    seconds = SecondAggregator(hold_s=math.inf)  # offline: every correction may reach back to the start
    detector: MotionDetector | None = None
    occupancy: PersonOccupancy | None = None
    rows: list[tuple[int, dict[str, dict]]] = []
    with av.open(str(video)) as container:
        if not container.streams.video:
            raise ValueError(f"{video} has no video stream")
        stream = container.streams.video[0]
        tune_decoder(stream)  # decode exactly as the live worker does
        duration = _duration(container, stream)
        first: float | None = None
        due = 0.0
        last = 0.0
        recent: deque[tuple[float, av.VideoFrame]] = deque()
        reported = -PROGRESS_EVERY_S
        for frame in container.decode(stream):
            if frame.pts is None or frame.time_base is None:
                continue
            t_abs = float(frame.pts * frame.time_base)
            first = t_abs if first is None else first
            t = t_abs - first
            last, last_frame = t, frame
            if t + 1e-6 < due:
                continue
            recent.append((t, frame))  # the last seconds' analysed pictures, for the looks at the end (finish)
            while recent[0][0] < t - END_LOOK_S:
                recent.popleft()
            due = max(due + step, t + step / 2)  # next frame on the detect-rate grid, without bursts after a gap
            grey = grey_small(frame, st.detect_width)
            if occupancy is None:
                mask = polygon_mask(grey.shape, camera.masks) if camera.masks else None
                detector = MotionDetector(grey.shape, motion_params, mask)
                occupancy = PersonOccupancy(zones, frame.width / frame.height, masks=camera.masks)
            detector.update(grey)
            rows += seconds.add(t, occupancy.update(t, detector.changed, lambda f=frame: f.to_ndarray(format="rgb24"), grey))
            if progress is not None and duration and t - reported >= PROGRESS_EVERY_S:
                reported = t
                progress(min(t / duration, 1.0))
    if first is None:
        raise ValueError(f"{video}: no decodable video frames")
    if occupancy is not None and detector is not None:  # the end of the file, not of anyone's visit
        back = occupancy.params.on_s  # two looks this far apart: someone still seated, not walking past
        early = [(t, f) for t, f in recent if t <= last - back]
        ends = [early[-1], (last, last_frame)] if early else []
        rows += seconds.add(last, occupancy.finish(
            last, detector.changed, [(t, lambda f=f: f.to_ndarray(format="rgb24")) for t, f in ends]))
    rows += seconds.flush()
    if not duration:
        duration = last + step
    if progress is not None:
        progress(1.0)
    check = (*occupancy.height_check(), occupancy.height_source()) if occupancy is not None else (0, None, None)
    return [{"t": s, "zones": z} for s, z in rows], duration, check


def _duration(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def samples_of(per_second: list[dict[str, Any]], zone_id: str) -> ZoneSamples:
    """One zone's samples out of the per-second rows of detect_seconds."""
    rows = [(r["t"], r["zones"][zone_id]["occupied"], r["zones"][zone_id]["count"]) for r in per_second if zone_id in r["zones"]]
    return ZoneSamples.from_records(rows)


def moved_of(per_second: list[dict[str, Any]], zone_id: str) -> list[tuple[float, float]]:
    """One seat zone's (second, moved) samples out of the per-second rows (none where it was not measured)."""
    return [(r["t"], r["zones"][zone_id]["moved"]) for r in per_second if "moved" in r["zones"].get(zone_id, {})]


def began_in_video(start: float, t0: float, moved: list[tuple[float, float]], params: AnalyticsParams) -> bool:
    """True when a session starting at `start` began in the video that began at t0: after the first
    IN_PROGRESS_GRACE_S, or earlier with its citizen seen arriving (analytics.seen_arriving over the spot's
    `moved` samples); else it was under way before the video."""
    return start > t0 + IN_PROGRESS_GRACE_S or seen_arriving(start, moved, params)


def _ids(camera: Camera, kind: str) -> list[str]:
    """The ids of the camera's zones of one kind, in the order drawn (the i-th staff_seat pairs with the i-th
    service_spot)."""
    return [z.id for z in camera.zones if z.kind == kind]


def staffed_while_serving(camera: Camera, per_second: list[dict[str, Any]], summary: dict[str, Any]) -> list[dict[str, Any]]:
    """per_second with each hidden staff seat (summary's staff_hidden) read occupied during its counter's sessions
    (summary's sessions; the i-th staff_seat pairs with the i-th service_spot), marked `inferred`: a citizen is not
    served without the officer, whom the camera does not see. Other seconds and zones are as detected; the rows
    given are not changed (new rows where a seat is marked)."""
    hidden = set(summary.get("staff_hidden", ()))
    if not hidden:
        return per_second
    serving = {seat: [(s["start_s"], s["end_s"]) for s in summary["sessions"] if s["counter"] == spot]
               for spot, seat in zip(_ids(camera, "service_spot"), _ids(camera, "staff_seat")) if seat in hidden}
    out = []
    for row in per_second:
        marked = [seat for seat, spans in serving.items()
                  if seat in row["zones"] and any(a <= row["t"] < b for a, b in spans)]
        if marked:
            row = {**row, "zones": {**row["zones"], **{seat: {**row["zones"][seat], "occupied": True, "inferred": True}
                                                        for seat in marked}}}
        out.append(row)
    return out


def summarise(
    camera: Camera,
    per_second: list[dict[str, Any]],
    duration: float,
    params: AnalyticsParams = AnalyticsParams(merge_gap_s=OFFLINE_MERGE_GAP_S),
) -> dict[str, Any]:
    """Sessions, absences and waiting figures from per-second samples (the whole video is open time).

    The i-th service_spot pairs with the i-th staff_seat. A session already running in the first
    seconds started before the video: it is listed but neither counted as served nor given a wait,
    and its start is estimated (start_estimated) as the video's start minus the median age of a
    session under way (analytics.median_age of the sessions seen whole), when there are any.
    One still running at the end is listed however short (the video cut it), and so is one under way
    at the start that ends within seconds (the start cut it: the citizen was served), when motion over
    the spot's place shows someone leaving as it ends (analytics.left_unseen: else nobody left, and it
    was a glimpse of something on the spot).
    Waits are FIFO-matched between waiting-area arrivals (queue_flow, each dated back to the walk
    that brought the citizen: walked_in) and the service starts of all counters, less the citizens
    who left without service (queue_flow's departures; their number is waiting.left_unserved); the
    waits of people already waiting in the first seconds are lower bounds, left out of the mean
    unless there is no other (wait_bounds, seen_or_all): waiting.waits_whole and waits_lower_bound count
    the two kinds, and mean_wait_lower_bound says the mean is made of lower bounds only. With a waiting area,
    each session that began in the video also carries its citizen's arrival_s (the arrival FIFO matched to
    it; its start_s when nobody was waiting: they walked straight to the counter), wait_s and
    wait_lower_bound.
    """
    spots, seats, queues = _ids(camera, "service_spot"), _ids(camera, "staff_seat"), _ids(camera, "waiting_area")
    t0 = per_second[0]["t"] if per_second else 0
    open_periods = [Interval(float(t0), float(max(duration, t0)))]
    sessions: list[dict[str, Any]] = []
    gone: list[dict[str, Any]] = []
    starts: list[float] = []
    started: list[dict[str, Any]] = []  # the sessions of `starts`, in the same order
    whole: list[float] = []  # durations of the sessions seen from start to end
    under_way: list[dict[str, Any]] = []
    for spot_id, seat_id in zip(spots, seats):
        spot, staff = samples_of(per_second, spot_id), samples_of(per_second, seat_id)
        moved = moved_of(per_second, spot_id)
        end = float(per_second[-1]["t"] + 1) if per_second else None
        for iv in service_sessions(spot, staff, params.min_session_s, params.merge_gap_s, params.max_gap_s, end,
                                   t0 + IN_PROGRESS_GRACE_S, params.blind_join_s, params.hidden_staff_s):
            cut = end is not None and iv.end >= end
            began = began_in_video(iv.start, t0, moved, params)
            if iv.duration < params.min_session_s and not cut and (began or left_unseen(iv.end, moved, params)):
                # kept by service_sessions as under way; seen arriving, it is someone passing; ending with
                # nobody seen leaving, it is a glimpse of something on the spot, not a citizen served
                continue
            sessions.append({"counter": spot_id, "start_s": iv.start, "end_s": min(iv.end, duration)})
            if not began:
                under_way.append(sessions[-1])
                continue
            starts.append(iv.start)
            started.append(sessions[-1])
            if not cut:
                whole.append(min(iv.end, duration) - iv.start)
    age = median_age(whole)
    for s in under_way:  # under way when the video began: the start is before it, by an estimate
        if age is not None:
            s["start_s"], s["start_estimated"] = round(float(t0) - age, 1), True
    hidden: list[str] = []
    for i, seat_id in enumerate(seats):
        staff = samples_of(per_second, seat_id)
        spot = samples_of(per_second, spots[i]) if i < len(spots) else None
        if spot is not None and staff_hidden(spot, staff, params.hidden_staff_s, params.max_gap_s):
            hidden.append(seat_id)
        for iv in absences(staff, open_periods, params.min_absence_s, params.max_gap_s, spot, params.hidden_staff_s):
            gone.append({"zone": seat_id, "start_s": iv.start, "end_s": min(iv.end, duration)})
    waiting = {"served": len(starts), "mean_wait_s": 0.0, "mean_queue": 0.0, "max_queue": 0.0, "left_unserved": 0,
               "waits_whole": 0, "waits_lower_bound": 0, "mean_wait_lower_bound": False}
    if queues:
        queue = samples_of(per_second, queues[0])
        if len(queue):
            waiting["mean_queue"] = round(float(queue.count.mean(dtype=np.float64)), 3)
            waiting["max_queue"] = round(float(queue.count.max()), 3)
        flow = walked_in_flow(queue, starts, samples_of(per_second, WALKING_ZONE), params)
        waiting["left_unserved"] = len(flow.left)
        matched = fifo_waits(flow.arrivals, starts, flow.left)
        lower = wait_bounds(matched, float(t0), IN_PROGRESS_GRACE_S, flow.walked)
        # fifo_waits answers the starts in time order (a stable sort: one second's starts in the order above)
        for i, (arrival, _, wait), bound in zip(sorted(range(len(starts)), key=starts.__getitem__), matched, lower, strict=True):
            started[i].update(arrival_s=round(float(arrival), 1), wait_s=round(float(wait), 1), wait_lower_bound=bound)
        waits = seen_or_all([w for _, _, w in matched], lower)
        waiting["waits_whole"], waiting["waits_lower_bound"] = lower.count(False), lower.count(True)
        waiting["mean_wait_lower_bound"] = bool(lower) and all(lower)
        if waits:
            waiting["mean_wait_s"] = round(float(np.mean(waits)), 1)
    sessions.sort(key=lambda s: (s["start_s"], s["counter"]))
    return {"sessions": sessions, "absences": gone, "waiting": waiting, "staff_hidden": hidden}
