"""Flask web UI: create_app(config) with one blueprint per page family, behind a login."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from flask import Flask, request
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect
from werkzeug.routing import IntegerConverter

from monitor.site.config import Config
from monitor.db.users import role_at_least
from monitor.site.state import SiteState
from webui import site as site_holder
from webui.site import site_config

log = logging.getLogger(__name__)

# everything else needs a logged-in user; health.metrics (/metrics) checks its own token or loopback rule
# tickets.receive (POST /api/v1/tickets) checks a feed's bearer token instead (webui/tickets_api.py)
PUBLIC_ENDPOINTS = {"auth.login", "static", "health.metrics", "tickets.receive"}
SQLITE_MAX_INT = 2**63 - 1


class RowIdConverter(IntegerConverter):
    """`<int:...>` in every route: a row id, so at most SQLite's largest INTEGER. A larger one matches no route
    (a 404), where SQLite would raise OverflowError at the lookup."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = SQLITE_MAX_INT,  # noqa: A002, ANN001
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits, min, max, signed)


def create_app(config: Config | SiteState, test_config: dict[str, Any] | None = None) -> Flask:
    """Build the web app for one site; each request gets its own read-only DB connection.

    Given a SiteState (the supervisor's), the app follows its replace(); read it with webui.site.site_config().
    """
    site = config if isinstance(config, SiteState) else SiteState(config)
    config = site.config
    app = Flask(__name__)
    app.url_map.converters["int"] = RowIdConverter  # before any route is added
    app.config.update(
        DATABASE=str(config.storage.database), RECORDINGS=str(config.storage.recordings),
        PAGE_SIZE=50, CLOCK=time.time,
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        # The token is bound to the session cookie; without a time limit a page left open over
        # lunch can still log out or switch language.
        WTF_CSRF_TIME_LIMIT=None,
    )
    if test_config:
        app.config.update(test_config)
    site_holder.init_app(app, site)
    if not app.config.get("SECRET_KEY"):
        from webui.auth import secret_key

        app.config["SECRET_KEY"] = secret_key(Path(app.config["DATABASE"]))

    csrf = CSRFProtect(app)
    from webui import security

    security.init_app(app)  # security headers on every response, the login throttle
    from webui import db, errors, i18n

    db.init_app(app)  # one read connection per request, closed at teardown
    i18n.init_app(app, config)
    errors.init_app(app)
    _login_manager(app)
    _template_helpers(app)

    from webui import (alerts, api, audit_page, auth, cameras, cases, compliance, events, health, live, notice,
                       office_admin, overview, recordings, reports, timeline, zones)

    app.register_blueprint(auth.bp)
    app.register_blueprint(events.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(overview.bp)
    app.register_blueprint(live.bp)
    app.register_blueprint(timeline.bp)
    app.register_blueprint(recordings.bp)
    app.register_blueprint(cameras.bp)
    app.register_blueprint(zones.bp)
    app.register_blueprint(office_admin.bp)
    app.register_blueprint(audit_page.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(alerts.bp)
    app.register_blueprint(compliance.bp)
    app.register_blueprint(cases.bp)
    app.register_blueprint(notice.bp)
    from webui import tickets_api

    tickets_api.init_app(app, csrf)
    return app


def _login_manager(app: Flask) -> None:
    from webui.auth import load_user, unauthorized
    from webui.errors import error_response

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
            return error_response(403)
        return None


def _template_helpers(app: Flask) -> None:
    @app.context_processor
    def globals_() -> dict[str, Any]:
        return {
            "site": site_config().site,
            "can": lambda role: current_user.is_authenticated and role_at_least(current_user.role, role),
            "camera_name": lambda cam_id: _camera_name(site_config(), cam_id),  # follows a reload
        }


def _camera_name(config: Config, camera_id: str) -> str:
    return next((c.name for c in config.cameras if c.id == camera_id), camera_id)
