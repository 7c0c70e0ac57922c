"""The web app's database connections: one read-only connection per request, kept on `g` and closed
at teardown, and a short write connection for the rare writes (last login, language, reviews)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app, g

from monitor.db.store import connect


def get_db():  # noqa: ANN201 - sqlite_utils.Database
    """The request's read-only connection, opened on first use."""
    if "db" not in g:
        g.db = connect(current_app.config["DATABASE"], readonly=True)
    return g.db


def close_db(_exc: BaseException | None = None) -> None:
    """Close the request's connection if one was opened (the app context's teardown)."""
    db = g.pop("db", None)
    if db is not None:
        db.conn.close()


@contextmanager
def write_db() -> Iterator[Any]:
    """A short write connection, closed on leaving the block."""
    db = connect(current_app.config["DATABASE"])
    try:
        yield db
    finally:
        db.conn.close()


def init_app(app: Flask) -> None:
    """Close each request's connection when its app context ends."""
    app.teardown_appcontext(close_db)
