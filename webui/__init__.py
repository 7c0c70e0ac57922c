"""Flask web UI: create_app(config) with one blueprint per page family."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, g

from monitor.config import Config
from monitor.store import connect


def create_app(config: Config, test_config: dict[str, Any] | None = None) -> Flask:
    """Build the web app for one site; each request gets its own read-only DB connection."""
    app = Flask(__name__)
    app.config.update(ONESTOP=config, DATABASE=str(config.storage.database),
                      RECORDINGS=str(config.storage.recordings), PAGE_SIZE=50)
    if test_config:
        app.config.update(test_config)
    tz = ZoneInfo(config.site.timezone)

    @app.template_filter("localtime")
    def localtime(ts: float | None, fmt: str = "%d/%m/%Y %H:%M:%S") -> str:
        return datetime.fromtimestamp(ts, tz).strftime(fmt) if ts else "—"

    @app.template_filter("duration")
    def duration(seconds: float | None) -> str:
        if seconds is None:
            return "—"
        s = int(round(seconds))
        return f"{s // 60}:{s % 60:02d}"

    @app.teardown_appcontext
    def close_db(_exc: BaseException | None) -> None:
        db = g.pop("db", None)
        if db is not None:
            db.conn.close()

    from webui import events

    app.register_blueprint(events.bp)
    return app


def get_db():  # noqa: ANN201 - sqlite_utils.Database
    """The request's read-only connection."""
    from flask import current_app

    if "db" not in g:
        g.db = connect(current_app.config["DATABASE"], readonly=True)
    return g.db
