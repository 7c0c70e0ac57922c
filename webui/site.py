"""The site configuration the web app shows: read through site_config(), swapped only through its SiteState."""

from __future__ import annotations

from flask import Flask, current_app

from monitor.site.config import Config
from monitor.site.state import SiteState

EXTENSION = "onestop_site"


def init_app(app: Flask, site: SiteState) -> None:
    """Keep `site` on the app: every page reads the configuration through site_config(), so a replace() reaches them all."""
    app.extensions[EXTENSION] = site


def site_state(app: Flask | None = None) -> SiteState:
    """The app's SiteState (the current app's when none is given)."""
    return (app or current_app).extensions[EXTENSION]


def site_config() -> Config:
    """The configuration in force for the current app."""
    return site_state().config
