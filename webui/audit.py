"""record() for any view: one audit row with the current user, the client address and the time."""

from __future__ import annotations

import logging
import sqlite3

from flask import current_app, request
from flask_login import current_user

from monitor.db import audit
from monitor.db.audit import Entry
from webui import write_db

log = logging.getLogger(__name__)

ANONYMOUS = "-"  # the user column of actions without a logged-in user (a failed login names the attempt)


def record(action: str, target: str = "", detail: str = "", *, user: str | None = None) -> bool:
    """Append an audit row for the current request (its user and client address); False if it could not be stored.

    A database that stays locked past the busy timeout must not fail the request the user made:
    the row then goes to the error log in full instead, so the record survives there.
    """
    if user is None:
        user = current_user.username if current_user.is_authenticated else ANONYMOUS
    entry = Entry(current_app.config["CLOCK"](), user, request.remote_addr or "", action, target, detail)
    try:
        with write_db() as db:
            audit.write(db, entry)
    except sqlite3.Error as err:
        log.error("audit row not stored (%s): %s", err, entry)
        return False
    return True
