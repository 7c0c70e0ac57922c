"""Languages of the web app: Flask-Babel set up per site and user, the request's language, dates and
durations in its format, and the labels of stored values translated at render time."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, has_request_context
from flask_babel import Babel, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from monitor.site.config import Config
from monitor.site.office import office_of
from webui.site import site_config

DATE_FORMATS = {"vi": "%d/%m/%Y", "en": "%Y-%m-%d"}  # Vietnamese readers expect dd/mm/yyyy

# Labels of the values the workers and the writer store, translated at render time.
STATE_LABELS = {
    "online": _l("online"), "offline": _l("offline"), "starting": _l("starting"),
    "connecting": _l("connecting"), "reconnecting": _l("reconnecting"), "restarting": _l("restarting"),
    "disabled": _l("disabled"), "stopped": _l("stopped"), "unknown": _l("unknown"),
}
CLIP_LABELS = {"recording": _l("recording"), "complete": _l("complete"), "failed": _l("failed"), "none": _l("none"),
               "missing": _l("file missing"), "pruned": _l("removed (disk budget)")}
ROLE_LABELS = {"viewer": _l("viewer"), "supervisor": _l("supervisor"), "admin": _l("admin")}


def language() -> str:
    """The language of the current request: 'vi' or 'en'."""
    return str(get_locale() or "vi")


def init_app(app: Flask, config: Config) -> None:
    """Flask-Babel with the user's language (else the site's), and the date and label helpers of templates."""
    Babel(app, locale_selector=lambda: _locale(config), default_locale=config.site.language,
          default_timezone=config.site.timezone)
    _template_helpers(app, ZoneInfo(config.site.timezone))


def _locale(config: Config) -> str:
    """The user's chosen language, else the site's."""
    if has_request_context() and current_user.is_authenticated and current_user.language:
        return current_user.language
    return config.site.language


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

    @app.template_filter("field_name")
    def field_name(field_id: str | None) -> str:
        """A field's display name in the request's language (the config's fields: section), else its id."""
        return office_of(site_config()).field_label(field_id, language()) if field_id else ""

    @app.context_processor
    def labels() -> dict[str, Any]:
        return {
            "lang": language(),
            "state_label": lambda s: STATE_LABELS.get(s or "unknown", s),
            "clip_label": lambda s: CLIP_LABELS.get(s, s),
            "role_label": lambda r: ROLE_LABELS.get(r, r),
        }
