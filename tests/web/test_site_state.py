"""The one hook between the supervisor and the web app: a SiteState the app reads and the reload replaces."""

from __future__ import annotations

from monitor.site.config import load_config
from monitor.site.state import SiteState
from webui import create_app
from webui.site import site_config, site_state

SITE = "site: {name: %s}\ncameras:\n  - {id: a, name: A, streams: {main: a.mp4}}\n"


def test_the_app_follows_the_state_it_was_given(tmp_path):
    cfg = tmp_path / "cameras.yaml"
    cfg.write_text(SITE % "Before", encoding="utf-8")
    reloads: list[int] = []
    state = SiteState(load_config(cfg), request_reload=lambda: reloads.append(1))
    app = create_app(state, {"TESTING": True, "SECRET_KEY": "t"})
    assert site_state(app) is state
    cfg.write_text(SITE % "After", encoding="utf-8")
    state.replace(load_config(cfg))  # what the supervisor's reload callback does
    with app.app_context():
        assert site_config().site.name == "After"
    assert "ONESTOP" not in app.config  # one way to read the configuration: no copy to go stale
    site_state(app).request_reload()
    assert reloads == [1]


def test_a_plain_config_gets_a_state_of_its_own(tmp_path):
    cfg = tmp_path / "cameras.yaml"
    cfg.write_text(SITE % "Alone", encoding="utf-8")
    app = create_app(load_config(cfg), {"TESTING": True, "SECRET_KEY": "t"})
    site_state(app).request_reload()  # no supervisor: nothing to ask, and no error
    with app.app_context():
        assert site_config() is site_state(app).config
