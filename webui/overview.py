"""Overview (supervisor and admin): each counter right now and today so far; viewers go to the reports."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, url_for
from flask_login import current_user

from monitor.counters.analytics import AnalyticsParams, CounterStats, counter_stats, service_sessions
from monitor.site.config import Camera, Config
from monitor.counters.reports import counter_samples, counters, day_window
from monitor.db.store import camera_states, occupancy_now, zone_samples
from monitor.db.users import role_at_least
from webui import get_db
from webui.auth import role_required

bp = Blueprint("overview", __name__)

FRESH_S = 45  # the worker sends a sample per second but holds each back 15 s for late corrections
SERVICE_LOOKBACK_S = 2 * 3600  # the current service is searched for in the last two hours of samples
STATS_TTL_S = 30  # today's figures read every zone's whole day: recompute them at most twice a minute
REFRESH_MS = 5000  # how often the page reloads its counter cards


@dataclass
class CounterCard:
    """One counter as the overview shows it."""

    camera: str
    camera_name: str
    counter: str
    name: str  # the counter's name in cameras.yaml `counters:`, else "camera name · zone"
    state: str
    fresh: bool  # the latest sample is recent: the "now" figures mean something
    last_sample: float | None
    staff_present: bool | None
    serving_s: float | None  # length of the service going on now, None when nobody is served
    queue: float | None  # waiting-area people estimate now; None without a waiting area or data
    today: CounterStats | None


@dataclass(frozen=True)
class _Moment:
    """What every card of one page is computed against."""

    db: Any
    config: Config
    now: float
    today: date


@bp.route("/")
@role_required("viewer")
def index() -> Any:
    if not role_at_least(current_user.role, "supervisor"):
        return redirect(url_for("reports.index"))
    return render_template("overview.html", **_context())


@bp.route("/overview/counters")
@role_required("supervisor")
def counters_fragment() -> str:
    """The counter cards alone: what the page's script swaps in every few seconds."""
    return render_template("_counters.html", **_context())


def _context() -> dict[str, Any]:
    config: Config = current_app.config["ONESTOP"]
    now = float(current_app.config["CLOCK"]())
    db = get_db()
    states = {c["id"]: c for c in camera_states(db)}
    today = datetime.fromtimestamp(now, config.site.tz).date()
    moment = _Moment(db, config, now, today)
    cards, bare = [], []
    for cam in config.cameras:
        state = states.get(cam.id, {}).get("state") or ("disabled" if not cam.enabled else "unknown")
        pairs = counters(cam)
        if not pairs:
            bare.append({"id": cam.id, "name": cam.name, "state": state})
            continue
        latest = occupancy_now(db, cam.id)
        for pair in pairs:
            cards.append(_card(moment, cam, pair, state, latest))
    return {"cards": cards, "bare": bare, "now": now, "refresh_ms": REFRESH_MS}


def _card(m: _Moment, cam: Camera, pair: Any, state: str, latest: dict[str, Any]) -> CounterCard:
    """One counter's card from the camera's latest samples (store.occupancy_now)."""
    now = m.now
    seat, spot = latest.get(pair.seat), latest.get(pair.spot)
    queue = latest.get(pair.queue) if pair.queue else None
    last = max((s["t"] for s in (seat, spot, queue) if s), default=None)
    fresh = last is not None and now - last <= FRESH_S
    staff = bool(seat["occupied"]) if fresh and seat else None
    return CounterCard(
        camera=cam.id, camera_name=cam.name, counter=pair.spot, name=_counter_name(m.config, cam, pair.spot), state=state, fresh=fresh, last_sample=last,
        staff_present=staff,
        serving_s=_serving_s(m.db, cam.id, pair, now) if fresh and staff and spot and spot["occupied"] else None,
        queue=float(queue["count"]) if fresh and queue else None,
        today=_today_stats(m, cam.id, pair),
    )


def _counter_name(config: Config, cam: Camera, spot: str) -> str:
    """The configured name of the counter served at this spot (explicit counters only), else camera · zone."""
    if config.counters is not None:
        named = next((c.name for c in config.counters if c.service_spot.key == (cam.id, spot)), None)
        if named:
            return named
    return f"{cam.name} · {spot}"


def _serving_s(db: Any, camera: str, pair: Any, now: float) -> float | None:
    """Seconds since the latest run of service-spot occupancy while the staff seat was occupied began."""
    t0, t1 = now - SERVICE_LOOKBACK_S, now + 1
    params = AnalyticsParams()
    spot = zone_samples(db, camera, pair.spot, t0, t1)
    staff = zone_samples(db, camera, pair.seat, t0, t1)
    # a service session that may still be shorter than the minimum: nothing is dropped
    runs = service_sessions(spot, staff, min_s=0, merge_gap_s=params.merge_gap_s, max_gap_s=params.max_gap_s)
    if not runs or not len(spot) or runs[-1].end <= spot.t[-1]:  # the latest second is not in the run
        return None
    return float(runs[-1].end - runs[-1].start)


_cache_lock = threading.Lock()


def _today_stats(m: _Moment, camera: str, pair: Any) -> CounterStats | None:
    """Today's figures as `onestop report` computes them for the day (cached for STATS_TTL_S)."""
    db, config, now, today = m.db, m.config, m.now, m.today
    cache: dict[tuple[Any, ...], tuple[float, CounterStats | None]] = current_app.extensions.setdefault(
        "onestop_overview_stats", {})
    key = (camera, pair.spot, today)
    with _cache_lock:
        hit = cache.get(key)
    if hit is not None and 0 <= now - hit[0] < STATS_TTL_S:
        return hit[1]
    tz = config.site.tz
    window = day_window(today, tz)
    spot, staff, queue = counter_samples(db, pair, window)
    if not len(spot) and not len(staff):
        stats = None
    else:
        stats = counter_stats(spot, staff, queue, config.site.opening_hours.spans(today, tz), window=window)
    with _cache_lock:
        for old in [k for k in cache if k[2] != today]:  # yesterday's figures are not asked for again
            del cache[old]
        cache[key] = (now, stats)
    return stats
