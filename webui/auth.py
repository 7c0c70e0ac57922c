"""Login, logout and language switch; the role decorator; the session secret key."""

from __future__ import annotations

import logging
import math
import os
import secrets
import sqlite3
import tempfile
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import (Blueprint, abort, current_app, flash, jsonify, make_response, redirect, render_template, request,
                   session, url_for)
from flask_babel import gettext as _
from flask_login import UserMixin, current_user, login_user, logout_user

from monitor.db import users
from webui import _error, audit, get_db, write_db
from webui.security import LOCKOUT_S

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)

SECRET_ENV = "ONESTOP_SECRET_KEY"
SECRET_SUFFIX = ".secret-key"  # onestop.db -> onestop.db.secret-key, next to the database
INVALID_USERNAME = "(not a valid username)"  # what logs, audit and throttle see of a malformed username


class WebUser(UserMixin):
    """The logged-in account as Flask-Login sees it."""

    def __init__(self, user: users.User):
        self.username, self.role, self.language = user.username, user.role, user.language

    def get_id(self) -> str:
        return self.username


def load_user(username: str) -> WebUser | None:
    """Flask-Login's user loader: a removed account ends its sessions at their next request."""
    user = users.get_user(get_db(), username)
    return WebUser(user) if user else None


def unauthorized() -> Any:
    """No session: JSON 401 for the API, else the login page that comes back here afterwards."""
    if request.path.startswith("/api/"):
        return jsonify(error="login required"), 401
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("auth.login", next=target))


def role_required(minimum: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Let only users whose role is `minimum` or above (monitor.db.users.ROLES) into the view; else 403."""
    users.check_role(minimum)

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return unauthorized()
            if not users.role_at_least(current_user.role, minimum):
                abort(403)
            return view(*args, **kwargs)

        wrapped.min_role = minimum  # type: ignore[attr-defined]  # read by the deny-by-default check
        return wrapped

    return decorate


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site (never another host), else None."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def _well_formed(username: str) -> bool:
    try:
        users.check_username(username)
    except ValueError:
        return False
    return True


def home() -> str:
    """Where a user lands after login: the overview for those who may see it, else reports."""
    return url_for("overview.index") if users.role_at_least(current_user.role, "supervisor") else url_for("reports.index")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    target = safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(target or home())
        return render_template("login.html", next=target, username="", failed=False)
    username = request.form.get("username", "").strip().lower()
    # A password typed into the username field must not reach the log: name only well-formed usernames.
    shown = username if _well_formed(username) else INVALID_USERNAME
    throttle, ip, now = current_app.extensions["onestop_throttle"], request.remote_addr or "", current_app.config["CLOCK"]()
    wait = throttle.locked_for(shown, ip, now)
    if wait > 0:  # checked before the password: during a lockout even the right one is refused
        return _too_many_failures(wait)
    user = users.verify(get_db(), username, request.form.get("password", ""))
    if user is None:
        log.info("failed login for %s from %s", shown, ip)
        audit.record("login_failed", user=shown)
        if throttle.failed(shown, ip, now):
            log.warning("logins for %s or from %s locked for %d s after repeated failures", shown, ip, LOCKOUT_S)
            audit.record("login_locked", detail=f"{LOCKOUT_S // 60} min", user=shown)
        # One message whatever was wrong: the page must not tell which usernames exist.
        return render_template("login.html", next=target, username=username, failed=True)
    throttle.succeeded(shown)
    session.clear()  # nothing from before the login (an old CSRF token, another user) carries over
    login_user(WebUser(user))
    try:
        with write_db() as db:
            users.record_login(db, user.username, now)
    except sqlite3.OperationalError as err:  # a busy database must not stop people logging in
        log.warning("could not record the login of %s: %s", user.username, err)
    audit.record("login")
    log.info("%s logged in (%s)", user.username, user.role)
    return redirect(target or home())


def _too_many_failures(wait_s: float) -> Any:
    minutes = max(1, math.ceil(wait_s / 60))
    response = make_response(_error(429, _("Too many failed logins. Logging in is paused for safety; "
                                           "try again in %(minutes)d minutes.", minutes=minutes)))
    response.headers["Retry-After"] = str(math.ceil(wait_s))
    return response


@bp.route("/logout", methods=["POST"])
@role_required("viewer")
def logout() -> Any:
    audit.record("logout")
    logout_user()
    session.clear()
    flash(_("You have been logged out."))
    return redirect(url_for("auth.login"))


@bp.route("/language", methods=["POST"])
@role_required("viewer")
def language() -> Any:
    choice = request.form.get("language", "")
    try:
        with write_db() as db:
            users.set_language(db, current_user.username, choice)
    except ValueError as err:
        abort(400, description=str(err))
    return redirect(safe_next(request.form.get("next")) or home())


def secret_key(database: Path) -> str:
    """The session signing key: $ONESTOP_SECRET_KEY, else a random key kept in a 0600 file by the database."""
    env = os.environ.get(SECRET_ENV, "").strip()
    if env:
        return env
    path = database.with_name(database.name + SECRET_SUFFIX)
    try:
        key = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        key = ""
    if key:
        if path.stat().st_mode & 0o077:
            log.warning("%s is readable by other users; chmod 600 it", path)
        return key
    return _create_secret(path)


def _create_secret(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mkstemp files are 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(key + "\n")
        # link() never replaces: if another process made the key first, both use that one.
        os.link(tmp, path)
        log.info("created the session key %s", path)
    except FileExistsError:
        key = path.read_text(encoding="ascii").strip()
    finally:
        os.unlink(tmp)
    return key
