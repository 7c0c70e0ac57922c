"""Flask web UI: create_app(config) with one blueprint per page family, behind a login."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, g, has_request_context, jsonify, render_template, request
from flask_babel import Babel, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from monitor.site.config import Config
from monitor.db.store import connect
from monitor.db.users import role_at_least
from monitor.site.state import SiteState

log = logging.getLogger(__name__)

DATE_FORMATS = {"vi": "%d/%m/%Y", "en": "%Y-%m-%d"}  # Vietnamese readers expect dd/mm/yyyy
# everything else needs a logged-in user; health.metrics (/metrics) checks its own token or loopback rule
# tickets.receive (POST /api/v1/tickets) checks a feed's bearer token instead (webui/tickets_api.py)
PUBLIC_ENDPOINTS = {"auth.login", "static", "health.metrics", "tickets.receive"}

# Labels of the values the workers and the writer store, translated at render time.
STATE_LABELS = {
    "online": _l("online"), "offline": _l("offline"), "starting": _l("starting"),
    "connecting": _l("connecting"), "reconnecting": _l("reconnecting"), "restarting": _l("restarting"),
    "disabled": _l("disabled"), "stopped": _l("stopped"), "unknown": _l("unknown"),
}
CLIP_LABELS = {"recording": _l("recording"), "complete": _l("complete"), "failed": _l("failed"), "none": _l("none"),
               "missing": _l("file missing"), "pruned": _l("removed (disk budget)")}
ROLE_LABELS = {"viewer": _l("viewer"), "supervisor": _l("supervisor"), "admin": _l("admin")}
ERROR_TITLES = {400: _l("Bad request"), 403: _l("Access denied"), 404: _l("Not found"),
                405: _l("Method not allowed"), 429: _l("Too many attempts"), 500: _l("Server error")}


def create_app(config: Config | SiteState, test_config: dict[str, Any] | None = None) -> Flask:
    """Build the web app for one site; each request gets its own read-only DB connection.

    Given a SiteState (the supervisor's), the app follows its replace(); read it with webui.site.site_config().
    """
    site = config if isinstance(config, SiteState) else SiteState(config)
    config = site.config
    app = Flask(__name__)
    app.config.update(
        ONESTOP=config, DATABASE=str(config.storage.database), RECORDINGS=str(config.storage.recordings),
        PAGE_SIZE=50, CLOCK=time.time,
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        # The token is bound to the session cookie; without a time limit a page left open over
        # lunch can still log out or switch language.
        WTF_CSRF_TIME_LIMIT=None,
    )
    if test_config:
        app.config.update(test_config)
    from webui import site as site_holder

    site_holder.init_app(app, site)
    if not app.config.get("SECRET_KEY"):
        from webui.auth import secret_key

        app.config["SECRET_KEY"] = secret_key(Path(app.config["DATABASE"]))

    csrf = CSRFProtect(app)
    from webui import security

    security.init_app(app)  # security headers on every response, the login throttle
    Babel(app, locale_selector=lambda: _locale(config), default_locale=config.site.language,
          default_timezone=config.site.timezone)
    _login_manager(app)
    _template_helpers(app, ZoneInfo(config.site.timezone))
    _error_pages(app)

    @app.teardown_appcontext
    def close_db(_exc: BaseException | None) -> None:
        db = g.pop("db", None)
        if db is not None:
            db.conn.close()

    from webui import alerts, api, audit_page, compliance, auth, cameras, events, health, live, overview, reports, timeline, zones

    app.register_blueprint(auth.bp)
    app.register_blueprint(events.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(overview.bp)
    app.register_blueprint(live.bp)
    app.register_blueprint(timeline.bp)
    app.register_blueprint(cameras.bp)
    app.register_blueprint(zones.bp)
    app.register_blueprint(audit_page.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(alerts.bp)
    app.register_blueprint(compliance.bp)
    from webui import tickets_api

    tickets_api.init_app(app, csrf)
    return app


def _locale(config: Config) -> str:
    """The user's chosen language, else the site's."""
    if has_request_context() and current_user.is_authenticated and current_user.language:
        return current_user.language
    return config.site.language


def _login_manager(app: Flask) -> None:
    from webui.auth import load_user, unauthorized

    manager = LoginManager(app)
    manager.user_loader(load_user)
    manager.unauthorized_handler(unauthorized)

    @app.before_request
    def require_login() -> Any:
        if request.endpoint in PUBLIC_ENDPOINTS:
            return None
        if not current_user.is_authenticated:
            return unauthorized()
        view = app.view_functions.get(request.endpoint or "")
        if view is not None and not hasattr(view, "min_role"):
            # Deny by default: a view that does not declare its role (webui.auth.role_required) is an oversight.
            log.error("view %s has no role_required(); refusing it", request.endpoint)
            return _error(403)
        return None


def _template_helpers(app: Flask, tz: ZoneInfo) -> None:
    @app.template_filter("localtime")
    def localtime(ts: float | None, fmt: str | None = None) -> str:
        if not ts:
            return "—"
        return datetime.fromtimestamp(ts, tz).strftime(fmt or f"{DATE_FORMATS[language()]} %H:%M:%S")

    @app.template_filter("day")
    def day(d: Any) -> str:
        return d.strftime(DATE_FORMATS[language()])

    @app.template_filter("duration")
    def duration(seconds: float | None) -> str:
        if seconds is None:
            return "—"
        s = int(round(seconds))
        return f"{s // 60}:{s % 60:02d}"

    @app.context_processor
    def globals_() -> dict[str, Any]:
        return {
            "site": app.config["ONESTOP"].site,
            "lang": language(),
            "can": lambda role: current_user.is_authenticated and role_at_least(current_user.role, role),
            "state_label": lambda s: STATE_LABELS.get(s or "unknown", s),
            "clip_label": lambda s: CLIP_LABELS.get(s, s),
            "role_label": lambda r: ROLE_LABELS.get(r, r),
            "camera_name": lambda cam_id: _camera_name(app.config["ONESTOP"], cam_id),  # follows a reload
        }


def _camera_name(config: Config, camera_id: str) -> str:
    return next((c.name for c in config.cameras if c.id == camera_id), camera_id)


def _error_pages(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(err: CSRFError) -> Any:
        return _error(400, _l("The form has expired or was sent from elsewhere. "
                              "Go back, reload the page and try again."))

    def http_error(err: HTTPException) -> Any:
        detail = err.description if err.code == 400 else None  # 400s here say which parameter is wrong
        return _error(err.code or 500, detail)

    for code in ERROR_TITLES:
        app.register_error_handler(code, http_error)


def _error(code: int, detail: Any = None) -> Any:
    if request.path.startswith("/api/"):
        return jsonify(error=str(detail or ERROR_TITLES.get(code, code))), code
    return render_template("error.html", code=code, title=ERROR_TITLES.get(code, str(code)), detail=detail), code


def language() -> str:
    """The language of the current request: 'vi' or 'en'."""
    return str(get_locale() or "vi")


def get_db():  # noqa: ANN201 - sqlite_utils.Database
    """The request's read-only connection."""
    from flask import current_app

    if "db" not in g:
        g.db = connect(current_app.config["DATABASE"], readonly=True)
    return g.db


@contextmanager
def write_db() -> Iterator[Any]:
    """A short write connection for the rare writes of the web app (last login, language)."""
    from flask import current_app

    db = connect(current_app.config["DATABASE"])
    try:
        yield db
    finally:
        db.conn.close()
