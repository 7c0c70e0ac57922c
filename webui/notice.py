"""The recording notice for the office door (/notice): Vietnamese and English on one printable page, filled
from cameras.yaml (site name, `privacy:` section, retention days, whether sound is recorded)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from monitor.site.config import Config
from webui.auth import role_required
from webui.site import site_config

bp = Blueprint("notice", __name__)


def notice_facts(config: Config) -> dict[str, Any]:
    """What the notice states, from the configuration."""
    p, r = config.privacy, config.retention
    sound = any(cam.settings(config.defaults).audio != "drop" for cam in config.cameras) if config.cameras else False
    return {"office": config.site.name, "controller": p.controller or config.site.name, "contact": p.contact,
            "purpose_vi": p.purpose.vi, "purpose_en": p.purpose.en, "clips_days": _days(r.clips_days),
            "continuous_days": _days(r.continuous_days),
            "continuous": any(cam.recording != "events" for cam in config.cameras),
            "samples_days": _days(r.samples_days), "rollups_days": _days(r.rollups_days), "sound": sound,
            "hours": config.site.opening_hours}


def _days(value: float) -> str:
    return f"{value:g}"


@bp.get("/notice")
@role_required("viewer")
def notice() -> Any:
    """The printable notice (both languages; the page is the same whatever the user's UI language)."""
    return render_template("notice/notice.html", **notice_facts(site_config()))
