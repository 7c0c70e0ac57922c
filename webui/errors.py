"""Error answers of the web app: an HTML page with a translated title, or JSON under /api/."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

ERROR_TITLES = {400: _l("Bad request"), 403: _l("Access denied"), 404: _l("Not found"),
                405: _l("Method not allowed"), 429: _l("Too many attempts"), 500: _l("Server error")}


def error_response(code: int, detail: Any = None) -> Any:
    """The error page (or the API's JSON error) for a status code, with an optional one-line detail."""
    if request.path.startswith("/api/"):
        return jsonify(error=str(detail or ERROR_TITLES.get(code, code))), code
    return render_template("error.html", code=code, title=ERROR_TITLES.get(code, str(code)), detail=detail), code


def init_app(app: Flask) -> None:
    """Answer CSRF failures and the HTTP errors of ERROR_TITLES with error_response."""

    @app.errorhandler(CSRFError)
    def csrf_error(err: CSRFError) -> Any:
        return error_response(400, _l("The form has expired or was sent from elsewhere. "
                                      "Go back, reload the page and try again."))

    def http_error(err: HTTPException) -> Any:
        detail = err.description if err.code == 400 else None  # 400s here say which parameter is wrong
        return error_response(err.code or 500, detail)

    for code in ERROR_TITLES:
        app.register_error_handler(code, http_error)
