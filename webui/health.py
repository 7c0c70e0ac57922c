"""Health page (supervisors and admins) and the Prometheus /metrics endpoint (scrapers, no session).

/metrics access: with `metrics.token` set, only requests sending `Authorization: Bearer <token>`
(401 otherwise); without a token, only requests from the loopback address (403 otherwise).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import threading
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from monitor.site.config import Config, ConfigError, expand_env
from monitor.ops.health import DiskUsage, camera_health, disk_usage
from monitor.ops.metrics import CONTENT_TYPE, ZoneReading, camera_families, render, site_families
from monitor.camera.stats import DROP_LAG_S, RATE_WINDOW_S
from monitor.detect.tiles import height_markers, height_off, scaled_heights
from monitor.site import write as config_write
from monitor.db.store import camera_states, event_counts, occupancy_now
from webui.db import get_db
from webui.auth import role_required
from webui.cameras import Problem, camera_or_404, save
from webui.overview import FRESH_S
from webui.site import site_config

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)

REFRESH_MS = 5000  # the page reloads its table every 5 s, like the overview
DISK_TTL_S = 60.0  # walking a folder of many clips takes a while: measure at most once a minute

_disk_lock = threading.Lock()


@bp.route("/health")
@role_required("supervisor")
def index() -> str:
    return render_template("health/index.html", **_context())


@bp.route("/health/cameras")
@role_required("supervisor")
def table() -> str:
    """The banner, camera table and disk figures alone (swapped in by refresh.js)."""
    return render_template("health/_health.html", **_context())


@bp.route("/health/cameras/<camera_id>/heights", methods=["POST"])
@role_required("admin")
def correct_heights(camera_id: str) -> Any:
    """Write the height check's correction into cameras.yaml: the camera's person_height markers times the factor its
    worker reports now (tiles.scaled_heights), only while that factor is outside HEIGHT_FACTOR_OK and was measured
    against the markers cameras.yaml holds (the heartbeat's height_markers): never twice, never on markers set since."""
    cam = camera_or_404(camera_id)
    now = float(current_app.config["CLOCK"]())
    health = next((c for c in camera_health(site_config(), camera_states(get_db()), now) if c.id == cam.id), None)
    stats = health.stats if health is not None else {}
    factor = stats.get("height_factor")
    if not height_off(factor):
        abort(400, description=_("Camera %(name)s has no height check that finds its markers off (its worker checks "
                                 "them about a minute after it starts): nothing to correct.", name=cam.name))
    if stats.get("height_markers") != height_markers(cam.zones):
        abort(400, description=_("The markers of camera %(name)s were changed after its worker checked them: wait for "
                                 "its next check.", name=cam.name))
    try:
        save(f"person_height x {factor:.2f} from the height check", cam.id, config_write.set_heights, cam.id,
             scaled_heights(cam.zones, float(factor)))
    except Problem as err:
        abort(err.status, description=str(err))
    flash(_("The person height markers of camera %(name)s were set to %(factor)s times what they were. Its worker "
            "restarts with them.", name=cam.name, factor=f"{factor:.2f}"))
    return redirect(url_for("health.index"))


@bp.route("/metrics")
def metrics() -> Response:
    refusal = _metrics_refusal()
    if refusal is not None:
        return refusal
    config: Config = site_config()
    now = float(current_app.config["CLOCK"]())
    db = get_db()
    cameras = camera_health(config, camera_states(db), now)
    families = camera_families(cameras, event_counts(db), now) + site_families(_zones(config, db, now), _disk())
    return Response(render(families), mimetype=None, content_type=CONTENT_TYPE)


def _context() -> dict[str, Any]:
    config: Config = site_config()
    now = float(current_app.config["CLOCK"]())
    cameras = camera_health(config, camera_states(get_db()), now)
    limit = config.alerts.offline_after_s
    alerts = [c for c in cameras if c.state not in ("online", "disabled") and (c.down_for(now) or 0) >= limit]
    from webui.cases import held_figures

    # the person detector's height check: the waiting area's person_height markers are off
    heights = [(c, c.stats["height_factor"]) for c in cameras if height_off(c.stats.get("height_factor"))]
    return {"cameras": cameras, "alerts": alerts, "offline_after_s": limit, "disk": _disk(), "now": now, "heights": heights,
            "held": held_figures(Path(current_app.config["RECORDINGS"])),
            "refresh_ms": REFRESH_MS, "drop_lag_s": DROP_LAG_S, "rate_window_s": RATE_WINDOW_S}


def _zones(config: Config, db: Any, now: float) -> list[ZoneReading]:
    """Each zone's latest sample, if fresh (an old sample says nothing about now)."""
    out = []
    for cam in config.cameras:
        if not cam.enabled or not cam.zones:
            continue
        kinds = {z.id: z.kind for z in cam.zones}
        for zone, s in occupancy_now(db, cam.id).items():
            if zone in kinds and now - s["t"] <= FRESH_S:
                out.append(ZoneReading(cam.id, zone, kinds[zone], bool(s["occupied"]), float(s["count"])))
    return out


def _disk() -> DiskUsage | None:
    """The recordings folder's usage, measured at most every DISK_TTL_S."""
    now = float(current_app.config["CLOCK"]())
    cache: dict[str, Any] = current_app.extensions.setdefault("onestop_disk", {})
    with _disk_lock:
        if "at" in cache and 0 <= now - cache["at"] < DISK_TTL_S:
            return cache["usage"]
        usage = disk_usage(Path(current_app.config["RECORDINGS"]))
        cache.update(at=now, usage=usage)
    return usage


def _metrics_refusal() -> Response | None:
    """None when the scraper may read /metrics, else the 401/403 answer."""
    raw = site_config().metrics.token
    if raw:
        try:
            token = expand_env(raw)
        except ConfigError as err:
            log.error("metrics.token: %s; refusing /metrics", err)
            return _plain(403, "metrics.token is not usable on this server\n")
        sent = request.headers.get("Authorization", "")
        if hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            return None
        resp = _plain(401, "a bearer token is required\n")
        resp.headers["WWW-Authenticate"] = 'Bearer realm="onestop-monitor metrics"'
        return resp
    try:
        loopback = ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        loopback = False
    if loopback:
        return None
    return _plain(403, "metrics are served to this machine only; set metrics.token to scrape from elsewhere\n")


def _plain(code: int, text: str) -> Response:
    return Response(text, status=code, content_type="text/plain; charset=utf-8")


@bp.app_template_filter("elapsed")
def elapsed(seconds: float | None) -> str:
    """A span of time for people: 45 s, 12 min, 3 h 05 min."""
    if seconds is None:
        return "—"
    s = int(seconds)
    if s < 60:
        return _("%(num)s s", num=s)
    if s < 3600:
        return _("%(num)d min", num=s // 60)
    return _("%(hours)d h %(minutes)02d min", hours=s // 3600, minutes=s % 3600 // 60)


@bp.app_template_filter("fixed")
def fixed(value: float | None, digits: int = 1, suffix: str = "") -> str:
    """A number with `digits` decimals (and suffix), or a dash when unknown."""
    return "—" if value is None else f"{value:.{digits}f}{suffix}"


@bp.app_template_filter("filesize")
def filesize(value: float | None, unit: str = "B") -> str:
    """1234567 -> 1.2 MB (decimal units, like disk makers and `df -H`); bits with unit="bit/s"."""
    if value is None:
        return "—"
    if abs(value) < 1000:
        return f"{value:.0f} {unit}"
    for prefix in ("k", "M", "G"):
        value /= 1000
        if abs(value) < 1000:
            return f"{value:.1f} {prefix}{unit}"
    return f"{value / 1000:.1f} T{unit}"
