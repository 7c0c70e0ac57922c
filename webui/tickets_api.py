"""POST /api/v1/tickets: queue-ticket events from a kiosk or a one-stop system, authenticated by a feed token.

A machine sends `Authorization: Bearer <token>`; the token names the feed (cameras.yaml
`tickets.feeds`). The web session plays no part: a logged-in browser without the token gets 401,
which is also why the route is exempt from CSRF protection (a cross-site form can ride on a
browser's cookies, never on a bearer token it does not know). Each item is one row: stored whole or
refused with one line naming it; good items are kept; a resent item (same feed, ticket and event)
is stored once.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, request

from monitor.counters.ticket_feed import ingest
from monitor.counters.tickets import Row
from monitor.site.config import ConfigError, expand_env
from monitor.site.secrets import read_secrets, secrets_path
from monitor.db.store import connect
from webui.site import site_config

log = logging.getLogger(__name__)

bp = Blueprint("tickets", __name__, url_prefix="/api/v1")

MAX_ITEMS = 5000  # a day of a busy district centre's events is ~2,000; more in one request is a mistake
MAX_BYTES = 2 * 1024 * 1024


def init_app(app: Flask, csrf: Any) -> None:
    """Register the blueprint, exempt from CSRF (token-authenticated; see the module docstring)."""
    csrf.exempt(bp)
    app.register_blueprint(bp)


def _error(code: int, message: str, **extra: Any) -> Any:
    resp = jsonify(error=message, **extra)
    resp.status_code = code
    if code == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="onestop-monitor tickets"'
    return resp


def _feed_of(sent: str) -> str | None:
    """The id of the feed whose token was sent, or None."""
    config = site_config()
    secrets = read_secrets(secrets_path(config.path))
    for feed in config.tickets.feeds:
        if not feed.token:
            continue
        try:
            token = expand_env(feed.token, secrets)
        except ConfigError as err:
            log.error("tickets.feeds %s: token %s; refusing its requests", feed.id, err)
            continue
        if token and hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            return feed.id
    return None


@bp.route("/tickets", methods=["POST"])
def receive() -> Any:
    """Store the events of a feed: an object, a list of objects, or {"events": [...]}."""
    feed = _feed_of(request.headers.get("Authorization", ""))
    if feed is None:
        return _error(401, "send the feed's token as Authorization: Bearer <token> (cameras.yaml tickets.feeds)")
    if (request.content_length or 0) > MAX_BYTES:
        return _error(413, f"at most {MAX_BYTES // 1024 // 1024} MB per request; send fewer events at a time")
    body = request.get_json(silent=True)
    if isinstance(body, dict) and "events" in body:
        body = body["events"]
    items = [body] if isinstance(body, dict) else body
    if not isinstance(items, list) or not items:
        return _error(400, "the body must be JSON: an event object, a list of them, or {\"events\": [...]}")
    if len(items) > MAX_ITEMS:
        return _error(413, f"{len(items)} events; at most {MAX_ITEMS} per request")
    rows = [Row(f"item {i}", [item]) for i, item in enumerate(items)]
    db = connect(current_app.config["DATABASE"])  # a short write connection, as webui.write_db (no import cycle)
    try:
        result = ingest(db, site_config(), feed, rows, current_app.config["CLOCK"]())
    finally:
        db.conn.close()
    log.info("tickets from feed %s: %d events stored, %d resent, %d refused", feed, len(result.good),
             result.duplicates, len(result.errors))
    answer = {"feed": feed, "stored": len(result.good), "duplicates": result.duplicates, "errors": result.errors}
    return (jsonify(answer), 422) if result.errors else jsonify(answer)


def openapi_path() -> dict[str, Any]:
    """The OpenAPI description of POST /tickets."""
    event = {"type": "object", "required": ["ticket", "event", "time"], "properties": {
        "ticket": {"type": "string", "description": "Unique within the feed."},
        "event": {"type": "string", "enum": ["issued", "called", "service_start", "service_end", "no_show"]},
        "time": {"type": "string", "description": "ISO 8601 (without an offset: site time) or unix seconds."},
        "number": {"type": "string"}, "field": {"type": "string", "description": "issued: the field slug."},
        "counter": {"type": "string", "description": "called, service_start, service_end: the counter id."}}}
    answer = {"type": "object", "required": ["feed", "stored", "duplicates", "errors"], "properties": {
        "feed": {"type": "string"}, "stored": {"type": "integer"}, "duplicates": {"type": "integer"},
        "errors": {"type": "array", "items": {"type": "string"}, "description": "One line per refused item."}}}
    body = {"oneOf": [event, {"type": "array", "items": event}]}
    json_of = lambda schema: {"content": {"application/json": {"schema": schema}}}  # noqa: E731
    return {"post": {
        "summary": "Queue-ticket events of a feed; idempotent by feed, ticket and event.",
        "description": "Authorization: Bearer <the feed's token>. No web session, no CSRF token.",
        "security": [{"feedToken": []}], "requestBody": {"required": True, **json_of(body)},
        "responses": {"200": {"description": "All stored (or already stored).", **json_of(answer)},
                      "400": {"$ref": "#/components/responses/BadRequest"},
                      "401": {"description": "No or wrong token.", **json_of({"$ref": "#/components/schemas/Error"})},
                      "413": {"description": "Too many events in one request.", **json_of({"$ref": "#/components/schemas/Error"})},
                      "422": {"description": "Some items refused (one line each); the others stored.", **json_of(answer)}},
    }}
