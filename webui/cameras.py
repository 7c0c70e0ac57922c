"""Camera management (admin): list, add through ONVIF or by URL, test a stream, edit, enable, delete.

Every change goes through save() (one place per action, where an audit log can hook in): config_write
validates and replaces cameras.yaml, the web app swaps its Config, and the supervisor is nudged to apply it.
A password typed into a form lives only in a server-side draft and the secrets file; it is never rendered.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from monitor.site import write as config_write
from monitor.site.config import Camera, Config, ConfigError, expand_env, redact, with_credentials
from monitor.db.store import camera_states
from monitor.camera.streamcheck import StreamCheckError, StreamInfo, check_stream
from webui import audit, get_db
from webui.auth import role_required
from webui.site import site_config, site_state

log = logging.getLogger(__name__)

bp = Blueprint("cameras", __name__)

DRAFT_TTL_S = 30 * 60  # an add-camera form left open over lunch still saves
DRAFTS_MAX = 50  # drafts hold passwords in memory: keep few, drop the oldest
DISCOVER_S = 3.0  # WS-Discovery answers arrive within a second on a LAN; wait a little longer
DEFAULT_ONVIF_PORT = 80
ROLES = ("main", "sub")


@dataclass
class Draft:
    """A camera being added or edited: credentials and candidate streams, kept server-side only."""

    token: str
    created: float
    username: str | None = None
    password: str | None = None
    host: str = ""
    profiles: list[Any] = field(default_factory=list)  # monitor.devices.onvif.Profile
    main: str = ""
    sub: str = ""
    results: dict[str, StreamInfo | str] = field(default_factory=dict)  # role -> info or one-line error


class Problem(Exception):
    """A one-line problem shown on the page with a 4xx status."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


# ---------------------------------------------------------------- helpers


def config() -> Config:
    return site_config()


def _camera(camera_id: str) -> Camera:
    try:
        return config().camera(camera_id)
    except KeyError:
        abort(404)


def one_line(err: ConfigError) -> str:
    """The first problem of a ConfigError, and how many more there are."""
    more = len(err.problems) - 1
    first = err.problems[0].replace(f"{config().base_dir}{os.sep}", "")  # cameras.yaml:12: ..., not the full path
    return first + (" " + _("(and %(n)d more)", n=more) if more else "")


def save(action: str, camera_id: str, change: Callable[..., Config], *args: Any) -> Config:
    """Apply one change to cameras.yaml; the single save point of every camera action."""
    try:
        new = change(config().path, *args)
    except ConfigError as err:
        raise Problem(one_line(err)) from None
    except KeyError:
        raise Problem(_("There is no camera %(id)s.", id=camera_id), 404) from None
    except ValueError as err:  # e.g. a password with a line break
        raise Problem(str(err)) from None
    site = site_state()
    site.replace(new)  # the pages show the saved config at once
    site.request_reload()  # and the supervisor applies it to the workers now, not at its next poll
    log.info("camera %s: %s", camera_id, action)
    audit.record("camera_change", camera_id, action)
    return new


def _drafts() -> dict[str, Draft]:
    with _lock:
        return current_app.extensions.setdefault("onestop_camera_drafts", {})


_lock = threading.Lock()


def new_draft(**fields: Any) -> Draft:
    """A fresh draft; expired and surplus drafts are dropped."""
    drafts, now = _drafts(), time.time()
    with _lock:
        for token in [t for t, d in drafts.items() if now - d.created > DRAFT_TTL_S]:
            del drafts[token]
        while len(drafts) >= DRAFTS_MAX:
            del drafts[min(drafts, key=lambda t: drafts[t].created)]
        draft = Draft(token=secrets.token_urlsafe(16), created=now, **fields)
        drafts[draft.token] = draft
    return draft


def get_draft(token: str) -> Draft:
    draft = _drafts().get(token)
    if draft is None or time.time() - draft.created > DRAFT_TTL_S:
        raise Problem(_("This form has expired; start again."), 404)
    return draft


def run_test(draft: Draft, role: str) -> None:
    """Open the draft's main or sub stream with its credentials; keep the result for the page."""
    url = draft.main if role == "main" else draft.sub
    if not url:
        draft.results[role] = _("No %(role)s stream chosen.", role=role)
        return
    if "://" in url and draft.username:
        url = with_credentials(url, draft.username, draft.password)
    elif "://" not in url and not Path(url).is_absolute():
        url = str(config().base_dir / url)
    try:
        draft.results[role] = check_stream(url)
    except StreamCheckError as err:
        draft.results[role] = str(err)


def _render(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    return render_template(template, **context), status


# ---------------------------------------------------------------- list


@bp.route("/cameras")
@role_required("admin")
def index() -> str:
    states = {c["id"]: c for c in camera_states(get_db())}
    rows = [{"cam": c, "state": (states.get(c.id) or {}).get("state") if c.enabled else "disabled",
             "main": redact(c.streams.main), "sub": redact(c.streams.sub) if c.streams.sub else ""}
            for c in config().cameras]
    return render_template("cameras.html", rows=rows)


# ---------------------------------------------------------------- add


@bp.route("/cameras/new")
@role_required("admin")
def new() -> str:
    return render_template("camera_new.html", found=None, form={}, error=None)


@bp.route("/cameras/discover", methods=["POST"])
@role_required("admin")
def discover() -> tuple[str, int]:
    from monitor.devices import onvif

    try:
        found = onvif.discover(DISCOVER_S, to=current_app.config.get("ONVIF_DISCOVER_TO"))
    except onvif.OnvifError as err:
        return _render("camera_new.html", 400, found=None, form={}, error=str(err))
    devices = [{"address": urlsplit(d.device_url).netloc if d.device_url else d.address,
                "manufacturer": d.manufacturer, "model": d.model, "name": d.name} for d in found]
    return _render("camera_new.html", found=devices, form={}, error=None)


def _host_port(text: str) -> tuple[str, int]:
    host, _sep, port = text.strip().rpartition(":") if text.count(":") == 1 else (text.strip(), "", "")
    host = host or text.strip()
    if not host or any(c in host for c in "/@ "):
        raise Problem(_("Enter a camera address like 192.168.1.64 or 192.168.1.64:8080."))
    if not port:
        return host, DEFAULT_ONVIF_PORT
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise Problem(_("The port must be a number from 1 to 65535."))
    return host, int(port)


@bp.route("/cameras/probe", methods=["POST"])
@role_required("admin")
def probe() -> Any:
    from monitor.devices import onvif

    form = {"address": request.form.get("address", ""), "username": request.form.get("username", "")}
    try:
        host, port = _host_port(form["address"])
        found = onvif.probe(host, port, form["username"], request.form.get("password", ""))
        main, sub = onvif.pick_streams(found.profiles)
    except Problem as err:
        return _render("camera_new.html", err.status, found=None, form=form, error=str(err))
    except onvif.OnvifError as err:
        log.info("camera probe of %s failed: %s", redact(form["address"]), err)
        return _render("camera_new.html", 400, found=None, form=form, error=str(err))
    draft = new_draft(username=form["username"] or None, password=request.form.get("password") or None,
                      host=host, profiles=found.profiles, main=main.rtsp_uri if main else "",
                      sub=sub.rtsp_uri if sub else "")
    name = " ".join(x for x in (found.manufacturer, found.model) if x)
    return _setup_page(draft, {"name": name, "id": "", "enabled": True}, device=found)


@bp.route("/cameras/manual", methods=["POST"])
@role_required("admin")
def manual() -> Any:
    main, url_user, url_password = config_write.split_credentials(request.form.get("main", ""))
    sub = config_write.split_credentials(request.form.get("sub", ""))[0]
    if not main:
        return _render("camera_new.html", 400, found=None, form={}, error=_("Enter the main stream URL."))
    draft = new_draft(username=request.form.get("username") or url_user,
                      password=request.form.get("password") or url_password, main=main, sub=sub)
    return _setup_page(draft, {"name": "", "id": "", "enabled": True})


def _setup_page(draft: Draft, values: dict[str, Any], status: int = 200, error: str | None = None,
                device: Any = None) -> tuple[str, int]:
    return _render("camera_setup.html", status, draft=draft, values=values, error=error, device=device,
                   main=redact(draft.main), sub=redact(draft.sub))


def _choose_streams(draft: Draft) -> None:
    """Take the main/sub choice from the form: profile tokens when probed, else URLs."""
    if draft.profiles:
        by_token = {p.token: p.rtsp_uri for p in draft.profiles}
        draft.main = by_token.get(request.form.get("main_profile", ""), draft.main)
        draft.sub = by_token.get(request.form.get("sub_profile", ""), "")
    else:
        for role in ROLES:
            value = request.form.get(role, "").strip()
            if value != redact(getattr(draft, role)):  # a shown, redacted URL sent back unchanged keeps its secret
                setattr(draft, role, config_write.split_credentials(value)[0])


@bp.route("/cameras/setup/<token>", methods=["POST"])
@role_required("admin")
def setup(token: str) -> Any:
    values = {"id": request.form.get("id", "").strip(), "name": request.form.get("name", "").strip(),
              "enabled": bool(request.form.get("enabled"))}
    try:
        draft = get_draft(token)
    except Problem as err:
        return _render("camera_new.html", err.status, found=None, form={}, error=str(err))
    _choose_streams(draft)
    action = request.form.get("action", "")
    if action.startswith("test-") and action[5:] in ROLES:
        run_test(draft, action[5:])
        return _setup_page(draft, values)
    if action != "save":
        abort(400, description=_("Unknown action."))
    try:
        if not values["name"]:
            raise Problem(_("Enter a name for the camera."))
        cam = config_write.CameraInput(id=values["id"], name=values["name"], main=draft.main, sub=draft.sub or None,
                                       enabled=values["enabled"], username=draft.username, password=draft.password)
        save("added", values["id"], config_write.add_camera, cam)
    except Problem as err:
        return _setup_page(draft, values, err.status, str(err))
    _drafts().pop(token, None)
    flash(_("Camera %(name)s saved.", name=values["name"]))
    return redirect(url_for("cameras.index"))


@bp.route("/cameras/test/<token>/<role>.jpg")
@role_required("admin")
def test_frame(token: str, role: str) -> Response:
    draft = _drafts().get(token)
    result = draft.results.get(role) if draft else None
    if not isinstance(result, StreamInfo):
        abort(404)
    return Response(result.jpeg, mimetype="image/jpeg", headers={"Cache-Control": "no-store"})


# ---------------------------------------------------------------- edit, enable, delete


@bp.route("/cameras/<camera_id>/edit", methods=["GET", "POST"])
@role_required("admin")
def edit(camera_id: str) -> Any:
    cam = _camera(camera_id)
    if request.method == "GET":
        values = {"name": cam.name, "enabled": cam.enabled, "username": cam.username or "",
                  "main": redact(cam.streams.main), "sub": redact(cam.streams.sub or "")}
        return render_template("camera_edit.html", cam=cam, values=values, draft=None, error=None)
    values = {k: request.form.get(k, "").strip() for k in ("name", "username", "main", "sub")}
    values["enabled"] = bool(request.form.get("enabled"))
    # The form shows stored URLs redacted: one sent back unchanged keeps the stored value.
    main = cam.streams.main if values["main"] == redact(cam.streams.main) else values["main"]
    sub = cam.streams.sub if cam.streams.sub and values["sub"] == redact(cam.streams.sub) else values["sub"]
    password = request.form.get("password") or None  # empty: keep the stored password
    action = request.form.get("action", "save")
    if action.startswith("test-") and action[5:] in ROLES:
        draft = _edit_draft(cam, values["username"], password, main, sub)
        run_test(draft, action[5:])
        return render_template("camera_edit.html", cam=cam, values=values, draft=draft, error=None)
    try:
        if not values["name"] or not main:
            raise Problem(_("Enter a name and the main stream."))
        save("edited", cam.id, config_write.update_camera, config_write.CameraInput(
            id=cam.id, name=values["name"], main=main, sub=sub or None, enabled=values["enabled"],
            username=values["username"] or None, password=password))
    except Problem as err:
        return _render("camera_edit.html", err.status, cam=cam, values=values, draft=None, error=str(err))
    flash(_("Camera %(name)s saved.", name=values["name"]))
    return redirect(url_for("cameras.index"))


def _edit_draft(cam: Camera, username: str, password: str | None, main: str, sub: str | None) -> Draft:
    """A draft for testing an edited camera: the typed password, else the stored one (never rendered)."""
    if password is None and cam.password is not None and username == (cam.username or ""):
        try:
            password = expand_env(cam.password, cam._secrets)
        except ConfigError:
            password = None
    if username and cam.username and username == cam.username:
        username = expand_env(cam.username, cam._secrets)
    return new_draft(username=username or None, password=password, main=main, sub=sub or "")


@bp.route("/cameras/<camera_id>/enabled", methods=["POST"])
@role_required("admin")
def set_enabled(camera_id: str) -> Any:
    cam = _camera(camera_id)
    enabled = request.form.get("enabled") == "1"
    try:
        save("enabled" if enabled else "disabled", cam.id, config_write.set_enabled, cam.id, enabled)
    except Problem as err:
        abort(err.status, description=str(err))
    flash(_("Camera %(name)s enabled.", name=cam.name) if enabled else _("Camera %(name)s disabled.", name=cam.name))
    return redirect(url_for("cameras.index"))


@bp.route("/cameras/<camera_id>/delete", methods=["GET", "POST"])
@role_required("admin")
def delete(camera_id: str) -> Any:
    cam = _camera(camera_id)
    if request.method == "GET":
        return render_template("camera_delete.html", cam=cam)
    if request.form.get("confirm") != cam.id:
        return _render("camera_delete.html", 400, cam=cam,
                       error=_("Type the camera id %(id)s to confirm.", id=cam.id))
    try:
        save("deleted", cam.id, config_write.remove_camera, cam.id)
    except Problem as err:
        abort(err.status, description=str(err))
    flash(_("Camera %(name)s deleted. Its recordings stay on disk.", name=cam.name))
    return redirect(url_for("cameras.index"))
