"""Overview (supervisor and admin): the named counters by queue and field, right now and today; viewers go to the reports."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, url_for
from flask_login import current_user

from monitor.counters.analytics import AnalyticsParams, service_sessions
from monitor.counters.office_now import RECENT_S, QueueNow, queue_now
from monitor.counters.office_report import OfficeRow, analyse_day, office_day_rows
from monitor.counters.reports import counters
from monitor.counters.site import OfficeAnalysis
from monitor.counters.tickets import Visit
from monitor.db.store import camera_states, occupancy_now, zone_samples
from monitor.site.config import Config
from monitor.site.office import Office, OfficeCounter, OfficeQueue, office_of
from monitor.db.users import role_at_least
from webui.db import get_db
from webui.auth import role_required
from webui.site import site_config

bp = Blueprint("overview", __name__)

FRESH_S = 45  # the worker sends a sample per second but holds each back 15 s for late corrections
SERVICE_LOOKBACK_S = 2 * 3600  # the current service is searched for in the last two hours of samples
STATS_TTL_S = 30  # today's figures read every zone's whole day: recompute them at most twice a minute
REFRESH_MS = 5000  # how often the page reloads its counter cards


Key = tuple[str, str]  # (camera, zone)


@dataclass
class CounterCard:
    """One counter as the overview shows it."""

    id: str
    name: str  # the counter's name in cameras.yaml `counters:` (derived: the camera's name)
    field: str | None
    camera: str  # the service spot's camera and zone (the card's data attributes)
    counter: str
    timeline: bool  # the timeline page can draw it (seat and spot on one camera)
    state: str  # the worse state of its cameras
    fresh: bool  # the latest samples are recent: the "now" figures mean something
    last_sample: float | None
    staff_present: bool | None
    serving_s: float | None  # length of the service going on now, None when nobody is served
    today: OfficeRow | None  # today's row of the office report (tickets first where present)
    staff_hidden: bool = False  # today the camera has never seen the officer while citizens sat at the counter


@dataclass
class QueueGroup:
    """A queue with its waiting now and its counters grouped by field (None: counters without a field)."""

    id: str | None  # None: the counters no queue feeds
    name: str
    waiting: float | None  # people in its waiting areas now (sum); None without fresh samples of every area
    now: QueueNow | None
    fields: list[tuple[str | None, list[CounterCard]]]


@dataclass(frozen=True)
class _Today:
    """Today's office analysis, its counter rows and ticket visits (cached for STATS_TTL_S)."""

    analysis: OfficeAnalysis
    rows: dict[str, OfficeRow]
    tickets: list[Visit]


@dataclass(frozen=True)
class _Moment:
    """What every card of one page is computed against."""

    db: Any
    config: Config
    now: float
    states: dict[str, str]
    latest: dict[str, dict[str, Any]]  # camera -> zone -> latest sample


@bp.route("/")
@role_required("viewer")
def index() -> Any:
    if not role_at_least(current_user.role, "supervisor"):
        return redirect(url_for("reports.index"))
    return render_template("overview/index.html", **_context())


@bp.route("/overview/counters")
@role_required("supervisor")
def counters_fragment() -> str:
    """The counter cards alone: what the page's script swaps in every few seconds."""
    return render_template("overview/_counters.html", **_context())


def _context() -> dict[str, Any]:
    config = site_config()
    now = float(current_app.config["CLOCK"]())
    db = get_db()
    states = {c["id"]: c.get("state") for c in camera_states(db)}
    states = {cam.id: "disabled" if not cam.enabled else (states.get(cam.id) or "unknown") for cam in config.cameras}
    office = office_of(config)
    used = {k[0] for c in office.counters for k in (c.seat, c.spot)} | {a[0] for q in office.queues for a in q.areas}
    moment = _Moment(db, config, now, states, {cam: occupancy_now(db, cam) for cam in sorted(used)})
    today = _today(moment, office)
    groups = [_queue_group(moment, office, q, today) for q in office.queues]
    unfed = [c for c in office.counters if c.queue is None]
    if unfed:
        groups.append(QueueGroup(None, "", None, None, _by_field([_card(moment, c, today) for c in unfed])))
    bare = [{"id": cam.id, "name": cam.name, "state": states[cam.id]} for cam in config.cameras if cam.id not in used]
    return {"groups": groups, "bare": bare, "now": now, "refresh_ms": REFRESH_MS, "recent_min": RECENT_S // 60,
            "derived": office.derived}


def _queue_group(m: _Moment, office: Office, q: OfficeQueue, today: _Today) -> QueueGroup:
    cards = [_card(m, c, today) for c in office.counters if c.queue == q.id]
    samples = [m.latest.get(cam, {}).get(zone) for cam, zone in q.areas]
    fresh = all(s is not None and m.now - s["t"] <= FRESH_S for s in samples)
    waiting = float(sum(s["count"] for s in samples if s)) if fresh and samples else None
    return QueueGroup(q.id, q.name, waiting, queue_now(today.analysis, q.id, today.tickets, m.now), _by_field(cards))


def _by_field(cards: list[CounterCard]) -> list[tuple[str | None, list[CounterCard]]]:
    """Cards grouped by field in order of first appearance; counters without a field together."""
    out: dict[str | None, list[CounterCard]] = {}
    for card in cards:
        out.setdefault(card.field, []).append(card)
    return list(out.items())


def _state(states: dict[str, str], cameras: list[str]) -> str:
    """The worse of the cameras' states: online only when all of them are."""
    return next((states.get(c, "unknown") for c in cameras if states.get(c) != "online"), "online")


def _card(m: _Moment, c: OfficeCounter, today: _Today) -> CounterCard:
    """One counter's card from the latest samples of its seat and spot (store.occupancy_now)."""
    now = m.now
    seat, spot = m.latest.get(c.seat[0], {}).get(c.seat[1]), m.latest.get(c.spot[0], {}).get(c.spot[1])
    last = max((s["t"] for s in (seat, spot) if s), default=None)
    fresh = all(s is not None and now - s["t"] <= FRESH_S for s in (seat, spot))
    staff = bool(seat["occupied"]) if fresh and seat else None
    hidden = c.id in today.analysis.hidden  # analytics.staff_hidden: the seat's emptiness says nothing
    serving = _serving_s(m.db, c.spot, c.seat, now) if fresh and (staff or hidden) and spot and spot["occupied"] else None
    cam = next((cam for cam in m.config.cameras if cam.id == c.spot[0]), None)
    timeline = c.seat[0] == c.spot[0] and cam is not None and any(p.spot == c.spot[1] for p in counters(cam))
    return CounterCard(c.id, c.name, c.field, c.spot[0], c.spot[1], timeline, _state(m.states, [c.seat[0], c.spot[0]]),
                       fresh, last, staff, serving, today.rows.get(c.id), hidden)


def _serving_s(db: Any, spot_key: Key, seat_key: Key, now: float) -> float | None:
    """Seconds since the latest run of service-spot occupancy while the staff seat was occupied began."""
    t0, t1 = now - SERVICE_LOOKBACK_S, now + 1
    params = AnalyticsParams()
    spot = zone_samples(db, spot_key[0], spot_key[1], t0, t1)
    staff = zone_samples(db, seat_key[0], seat_key[1], t0, t1)
    # a service session that may still be shorter than the minimum: nothing is dropped
    runs = service_sessions(spot, staff, min_s=0, merge_gap_s=params.merge_gap_s, max_gap_s=params.max_gap_s,
                            blind_join_s=params.blind_join_s, hidden_staff_s=params.hidden_staff_s)
    if not runs or not len(spot) or runs[-1].end <= spot.t[-1]:  # the latest second is not in the run
        return None
    return float(runs[-1].end - runs[-1].start)


_cache_lock = threading.Lock()


def _today(m: _Moment, office: Office) -> _Today:
    """Today's office figures as `onestop report --by office` computes them (cached for STATS_TTL_S)."""
    config, now = m.config, m.now
    day = datetime.fromtimestamp(now, config.site.tz).date()
    cache: dict[str, Any] = current_app.extensions.setdefault("onestop_overview_today", {})
    with _cache_lock:
        hit = cache.get("today")
    if hit is not None and hit[0] is config and hit[1] == day and 0 <= now - hit[2] < STATS_TTL_S:
        return hit[3]
    analysis, window, tickets = analyse_day(config, office, m.db, day, now)
    rows = office_day_rows(analysis, day, window, tickets, config.site.tz, hours=False)
    today = _Today(analysis, {r.id: r for r in rows if r.level == "counter"}, tickets)
    with _cache_lock:
        cache["today"] = (config, day, now, today)
    return today
