"""The hub dashboard: a small Flask app of its own over the hub database, with the site UI's users,
roles, login throttle, security headers and stylesheet."""

from __future__ import annotations

import logging
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, Response, abort, current_app, g, redirect, render_template, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user
from flask_wtf.csrf import CSRFProtect
from markupsafe import Markup

from monitor.db import users
from monitor.counters.render import report_css
from monitor.db.store import connect
from monitor.hub import stats
from monitor.hub.fields import FieldNames, field_names, field_ranking
from monitor.hub.i18n import LANGUAGES, word
from monitor.hub.store import open_hub_db
from webui.security import content_security_policy, style_hash

log = logging.getLogger(__name__)

WEBUI_STATIC = Path(__file__).resolve().parent.parent.parent / "webui" / "static"
DISTRICT_TZ = "Asia/Ho_Chi_Minh"  # the district's days (the ranking's weeks, "today") are Vietnamese days
DATE_FORMATS = {"vi": "%d/%m/%Y", "en": "%Y-%m-%d"}
EXPORT_GROUPS = ("site", "counter", "field", "district_field")  # the export's by=, as stats.period_figures
ALERTS_RECENT_S = 7 * 86400  # a site page lists the alerts closed in the last week beside the open ones
EXPORT_TYPES = {"csv": "text/csv; charset=utf-8", "html": "text/html; charset=utf-8"}  # as a site's report downloads


class HubUser(UserMixin):
    """A logged-in dashboard user (the users table of the hub database)."""

    def __init__(self, user: users.User):
        self.id, self.username, self.role, self.language = user.username, user.username, user.role, user.language


def create_hub_app(database: Path | str, test_config: dict[str, Any] | None = None) -> Flask:
    """The dashboard over one hub database (created with its migrations if missing)."""
    open_hub_db(database).conn.close()
    app = Flask(__name__, static_folder=str(WEBUI_STATIC))
    app.config.update(HUB_DATABASE=str(database), CLOCK=time.time, SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Lax", WTF_CSRF_TIME_LIMIT=None)
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        from webui.auth import secret_key

        app.config["SECRET_KEY"] = secret_key(Path(database))
    CSRFProtect(app)
    from webui import security

    security.init_app(app)
    manager = LoginManager(app)
    manager.login_view = "login"
    manager.user_loader(lambda name: _load_user(name))
    _helpers(app)
    _routes(app)
    app.teardown_appcontext(_close_db)
    return app


def db():  # noqa: ANN201 - sqlite_utils.Database
    """The request's read-only connection to the hub database."""
    if "hub_db" not in g:
        g.hub_db = connect(current_app.config["HUB_DATABASE"], readonly=True)
    return g.hub_db


def _close_db(_exc: BaseException | None) -> None:
    conn = g.pop("hub_db", None)
    if conn is not None:
        conn.conn.close()


def request_field_names() -> FieldNames:
    """The fields' display names, read once per request."""
    if "hub_fields" not in g:
        g.hub_fields = field_names(db())
    return g.hub_fields


def _load_user(name: str) -> HubUser | None:
    user = users.get_user(db(), name)
    return HubUser(user) if user else None


def language() -> str:
    """The session's language, else the user's, else Vietnamese."""
    lang = session.get("lang") or (current_user.language if current_user.is_authenticated else None)
    return lang if lang in LANGUAGES else "vi"


def _helpers(app: Flask) -> None:
    tz = ZoneInfo(DISTRICT_TZ)

    @app.context_processor
    def globals_() -> dict[str, Any]:
        lang = language()
        return {"lang": lang, "t": lambda key: word(key, lang),
                "field_label": lambda field, site="": request_field_names().label(field, lang, site)}

    @app.template_filter("localtime")
    def localtime(ts: float | None) -> str:
        return "—" if not ts else datetime.fromtimestamp(ts, tz).strftime(f"{DATE_FORMATS[language()]} %H:%M")

    @app.template_filter("minsec")
    def minsec(seconds: float | None) -> str:
        return "—" if seconds is None else f"{int(round(seconds)) // 60}:{int(round(seconds)) % 60:02d}"

    @app.template_filter("pct")
    def pct(share: float | None) -> str:
        return "—" if share is None else f"{100 * share:.0f} %"

    @app.errorhandler(400)
    def bad_request(err: Any) -> Any:
        return render_template("hub_error.html", title=word("bad_request", language()), detail=err.description), 400

    @app.errorhandler(404)
    def not_found(err: Any) -> Any:
        return render_template("hub_error.html", title=word("not_found", language()), detail=None), 404


def _day(name: str, default: date) -> date:
    """A YYYY-MM-DD query parameter; 400 naming the parameter when malformed."""
    value = request.args.get(name)
    if not value:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        abort(400, f"{name}={value!r} is not a date (YYYY-MM-DD)")


def _params() -> tuple[date, date, float]:
    """The chosen period (default: today) and the wait target in seconds (default 15 min)."""
    today = stats.today(DISTRICT_TZ, current_app.config["CLOCK"]())
    day_from, day_to = _day("from", today), _day("to", today)
    try:
        stats.check_period(day_from, day_to)
    except ValueError as err:
        abort(400, str(err))
    raw = request.args.get("target", "")
    try:
        target = float(raw) * 60 if raw else stats.WAIT_TARGET_S
    except ValueError:
        abort(400, f"target={raw!r} is not a number of minutes")
    if not 0 < target <= 86400:
        abort(400, "target must be more than 0 and at most 1440 minutes")
    return day_from, day_to, target


def _field_pairs(today: list[stats.Figures], period: list[stats.Figures]
                 ) -> list[tuple[stats.Figures | None, stats.Figures | None]]:
    """(today's, the period's) figures of each group present in either, in the period's order."""
    def key(f: stats.Figures) -> tuple[str, str | None, str | None]:
        return (f.site, f.counter, f.field)

    now = {key(f): f for f in today}
    pairs = [(now.pop(key(f), None), f) for f in period]
    return pairs + [(f, None) for f in now.values()]


def _export_rows(site: str | None, by: str, period: tuple[date, date], target: float
                 ) -> tuple[list[stats.Figures], list[int] | None]:
    """The export's figures, and their ranks with ranked=1 (the sites, or the sites within each field)."""
    ranked = request.args.get("ranked", "")
    if ranked not in ("", "1"):
        abort(400, f"ranked={ranked!r} is not 1")
    if ranked and (site or by not in ("site", "field")):
        abort(400, "ranked=1 ranks across sites: it goes with by=site or by=field and no site=")
    if not ranked:
        return stats.period_figures(db(), site, *period, target, by=by), None  # type: ignore[arg-type]
    if by == "site":
        rows = stats.rank_order(stats.period_figures(db(), None, *period, target))
        return rows, list(range(1, len(rows) + 1))
    groups = field_ranking(db(), *period, target)
    return [f for _, fs in groups for f in fs], [i for _, fs in groups for i in range(1, len(fs) + 1)]


def _routes(app: Flask) -> None:
    @app.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        if request.method == "GET":
            return render_template("hub_login.html", failed=False, username="")
        username = request.form.get("username", "").strip().lower()
        throttle, ip, now = app.extensions["onestop_throttle"], request.remote_addr or "", app.config["CLOCK"]()
        if throttle.locked_for(username[:32], ip, now) > 0:
            return render_template("hub_login.html", failed=True, locked=True, username=username), 429
        user = users.verify(db(), username, request.form.get("password", ""))
        if user is None:
            throttle.failed(username[:32], ip, now)
            return render_template("hub_login.html", failed=True, username=username)
        throttle.succeeded(username[:32])
        session.clear()
        login_user(HubUser(user))
        log.info("hub: %s logged in (%s)", user.username, user.role)
        return redirect(url_for("index"))

    @app.post("/logout")
    def logout() -> Any:
        logout_user()
        session.clear()
        return redirect(url_for("login"))

    @app.post("/language")
    def set_language() -> Any:
        lang = request.form.get("language", "")
        if lang not in LANGUAGES:
            abort(400, f"language={lang!r} is not one of {', '.join(LANGUAGES)}")
        session["lang"] = lang
        return redirect(url_for("index"))

    @app.get("/")
    @login_required
    def index() -> str:
        day_from, day_to, target = _params()
        now = app.config["CLOCK"]()
        today = stats.today(DISTRICT_TZ, now)
        return render_template(
            "hub_index.html", sites=stats.site_states(db(), now), day_from=day_from, day_to=day_to,
            target_min=round(target / 60, 1),
            today={f.site: f for f in stats.period_figures(db(), None, today, today, target)},
            period={f.site: f for f in stats.period_figures(db(), None, day_from, day_to, target)},
            fields=_field_pairs(stats.period_figures(db(), None, today, today, target, by="district_field"),
                                stats.period_figures(db(), None, day_from, day_to, target, by="district_field")))

    @app.get("/site/<path:site>")
    @login_required
    def site_page(site: str) -> str:
        states = {s.site: s for s in stats.site_states(db(), app.config["CLOCK"]())}
        if site not in states:
            abort(404)
        day_from, day_to, target = _params()
        now = app.config["CLOCK"]()
        today = stats.today(states[site].timezone, now)
        sections = []
        for by in ("field", "counter"):
            sections.append((by, _field_pairs(stats.period_figures(db(), site, today, today, target, by=by),
                                              stats.period_figures(db(), site, day_from, day_to, target, by=by))))
        return render_template(
            "hub_site.html", s=states[site], day_from=day_from, day_to=day_to, target_min=round(target / 60, 1),
            sections=sections, office=stats.site_office(db(), site),
            alerts=stats.site_alerts(db(), site, now - ALERTS_RECENT_S))

    @app.get("/ranking")
    @login_required
    def ranking() -> str:
        day = _day("week", stats.today(DISTRICT_TZ, app.config["CLOCK"]()))
        target = _params()[2]
        monday, sunday = stats.week_of(day)
        sites = {s.site: s.name for s in stats.site_states(db(), app.config["CLOCK"]())}
        return render_template("hub_ranking.html", rows=stats.ranking(db(), day, target), monday=monday,
                               sunday=sunday, names=sites, target_min=round(target / 60, 1),
                               fields=field_ranking(db(), monday, sunday, target))

    @app.get("/export.<fmt>")
    @login_required
    def export(fmt: str) -> Response:
        if fmt not in EXPORT_TYPES:
            abort(404)
        day_from, day_to, target = _params()
        site = request.args.get("site") or None
        by = request.args.get("by") or ("counter" if site else "site")
        if by not in EXPORT_GROUPS:
            abort(400, f"by={by!r} is not one of {', '.join(EXPORT_GROUPS)}")
        rows, ranks = _export_rows(site, by, (day_from, day_to), target)
        lang = language()
        fields = request_field_names()

        def label(f: stats.Figures) -> str:  # ranked by field: the district's name, as the ranking page shows
            return fields.label(f.field, lang, "" if ranks else f.site)

        name = f"onestop-hub-{site or 'sites'}-{day_from.isoformat()}-{day_to.isoformat()}.{fmt}"
        if fmt == "csv":
            return Response(stats.figures_csv(rows, label, ranks), mimetype="text/csv",
                            headers={"Content-Disposition": f'attachment; filename="{name}"'})
        sites = {s.site: s.name for s in stats.site_states(db(), app.config["CLOCK"]())}
        body = render_template("hub_export.html", rows=rows, ranks=ranks, label=label, names=sites, site=site, by=by,
                               day_from=day_from, day_to=day_to, target_min=round(target / 60, 1),
                               css=Markup(report_css()))
        # a standalone page like a site's HTML report: it opens in the browser and prints from there
        return Response(body, content_type=EXPORT_TYPES[fmt], headers={
            "Content-Disposition": f'inline; filename="{name}"',
            "Content-Security-Policy": content_security_policy((style_hash(report_css()),))})
